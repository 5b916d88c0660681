"""Issue 13 (catalog): the coverage decision at intake, cause codes on `resolve` and the reply's
script, through the API."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog import get_catalog
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
