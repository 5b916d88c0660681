"""Issue 13 (catalog): the coverage decision at intake, cause codes on `resolve` and the reply's
script, through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from chalicelib.catalog import get_catalog
from chalicelib.domain.calendar import SHANGHAI
from tests.functional.conftest import Api
from tests.functional.test_lifecycle_paths import FIELDS, _act, _ticket, _waiting

COVERAGE = get_catalog().phenomena["voice_coverage"]
BUSY = COVERAGE.scripts["network_busy"]


def _coverage(api: Api, number: str, **extra: Any) -> dict[str, Any]:
    return api.create(
        role="senior_agent", serviceNumber=number, phenomenon="voice_coverage", **extra
    )


@pytest.mark.parametrize(
    ("fields", "extra", "answered"),
    [
        # occasional (or a first time): explained with the script, the customer asked to observe
        ({**FIELDS, "frequency": "occasional"}, {}, True),
        ({"frequency": "occasional"}, {}, True),  # the rule needs no other answer
        # frequent or constant: dispatched to the CRC for network optimisation
        (FIELDS, {}, False),
        ({**FIELDS, "frequency": "always"}, {}, False),
        ({k: v for k, v in FIELDS.items() if k != "frequency"}, {}, False),
        # a flagged or urgent complaint is never answered by the rule
        ({**FIELDS, "frequency": "occasional"}, {"flags": ["media"]}, False),
        (
            {**FIELDS, "frequency": "occasional"},
            {
                "urgent": True,
                "customerDeadline": {"at": "2026-12-30T18:00:00+08:00", "detail": "出差前"},
            },
            False,
        ),
    ],
    ids=["occasional", "occasional-only", "frequent", "always", "unknown", "media", "urgent"],
)
def test_the_coverage_decision_at_intake(
    api: Api, aws: Any, fields: dict[str, Any], extra: dict[str, Any], answered: bool
) -> None:
    # GIVEN a coverage complaint and how often it happens
    ticket = _coverage(api, "13900000001", fields=fields, **extra)
    # THEN occasional → answered at intake with the script (then the reply step); otherwise not
    if answered:
        assert ticket["status"] == "answered" and ticket["answer"] == BUSY
        assert "观察" in ticket["answer"]
        _waiting(api, ticket["id"], "reply")
        history = api.call("GET", f"/tickets/{ticket['id']}/history", "complaint_manager")[1]
        create = history["items"][0] if "items" in history else history[0]
        assert create["details"]["answeredAtIntake"] == {
            "phenomenon": "voice_coverage",
            "cause": "network_busy",
        }
    else:
        assert ticket["status"] == "accepted" and "answer" not in ticket


def test_an_agents_own_answer_is_kept(api: Api, aws: Any) -> None:
    fields = {**FIELDS, "frequency": "occasional"}
    ticket = _coverage(api, "13900000002", fields=fields, answer="已告知客户在窗边使用")
    assert ticket["answer"] == "已告知客户在窗边使用"


def test_resolve_checks_the_cause_and_fills_the_answer_script(api: Api, aws: Any) -> None:
    # GIVEN a coverage ticket at the department
    tid = _coverage(api, "13900000003", fields=FIELDS)["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"})
    _waiting(api, tid, "accept")
    # WHEN the department resolves with a cause the catalog does not know
    problem = _act(
        api,
        tid,
        "resolve",
        "department",
        {"cause": "aliens", "result": "外星人"},
        department="network",
        expect=400,
    )
    # THEN 400 naming `cause` and listing the allowed codes; nothing changed
    (error,) = problem["errors"]
    assert error["field"] == "cause"
    assert all(c.code in error["message"] for c in COVERAGE.causes)
    assert _ticket(api, tid)["status"] == "dispatched"
    # WHEN it resolves with a known cause and no script of its own
    body = {"cause": "indoor_shielding", "result": "已反馈室分建设"}
    done = _act(api, tid, "resolve", "department", body, department="network")
    # THEN the ticket's answerScript is the catalog's script for that cause
    assert done["answerScript"] == COVERAGE.scripts["indoor_shielding"]
    assert done["resolution"]["cause"] == "indoor_shielding"


# --- issue 13 (calendar): deadlines counted without official data say so --------------------


@pytest.mark.parametrize(
    ("at", "official", "years"),
    [
        ("2026-06-01T10:00:00%2B08:00", True, []),
        ("2026-12-30T10:00:00%2B08:00", False, [2027]),  # 5 business days reach 2027
    ],
)
def test_sla_preview_says_when_a_year_has_no_official_data(
    api: Api, at: str, official: bool, years: list[int]
) -> None:
    status, preview, _ = api.call("GET", f"/sla/preview?at={at}&slaLevel=E&channel=hotline")
    assert status == 200, preview
    assert preview["calendar"]["official"] is official
    assert preview["calendar"]["years"] == years
    assert preview["calendar"]["arrangementYears"] == []  # no year file ships yet


@pytest.fixture
def frozen() -> Any:
    """The app's 'now' set to a given instant (workflows keep real time)."""
    from chalicelib.services.context import deps

    d = deps()
    real = d.clock
    at: list[datetime] = []
    d.clock = lambda: at[0] if at else real()
    yield at
    d.clock = real


@pytest.mark.parametrize(
    ("now", "note"),
    [
        (datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), {"official": True, "years": []}),
        (datetime(2026, 12, 31, 10, tzinfo=SHANGHAI), {"official": False, "years": [2027]}),
    ],
)
def test_a_ticket_records_whether_its_deadlines_used_official_data(
    api: Api, aws: Any, frozen: list[datetime], now: datetime, note: dict[str, Any]
) -> None:
    # GIVEN intake at `now` (level B: one business day; on Dec 31 that is in 2027)
    frozen.append(now)
    ticket = _coverage(api, "13900000004", fields=FIELDS)
    # THEN the ticket says whether its deadlines were counted on official holiday data
    assert ticket["deadlineCalendar"] == note
