"""Issue 12 item 5 (cases): seniors rate juniors. A review marks mistakes of the junior's intake
or dispatch (the agent from the ticket, never from the client), departments' returns and
transfers count mis-transfers for the dispatcher, and GET /reports/agents counts both — on moto,
the lifecycle really executed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.api import views
from chalicelib.domain.ratings import local_day
from tests.functional.conftest import Api, fresh_number
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

TODAY = local_day(datetime.now(UTC))


def _history(api: Api, tid: str) -> list[dict[str, Any]]:
    return api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[1]["items"]  # type: ignore[no-any-return]


def _report(api: Api, role: str = "complaint_manager", **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in {"from": TODAY, "to": TODAY, **params}.items())
    status, body, _ = api.call("GET", f"/reports/agents?{query}", role)
    assert status == 200, body
    views.AgentReport.model_validate(body)  # as documented, nothing undeclared
    return body  # type: ignore[no-any-return]


def _row(report: dict[str, Any], agent: str) -> dict[str, Any] | None:
    return next((r for r in report["items"] if r["agent"] == agent), None)


def _junior_ticket(api: Api, junior: str) -> str:
    """A junior agent's intake: it waits for a senior's review."""
    ticket = api.create(role="agent", user=junior, phenomenon="voice_coverage", fields=FIELDS,
                        serviceNumber=fresh_number())  # fmt: skip
    assert ticket["step"] == "review"
    _waiting(api, ticket["id"], "review")
    return str(ticket["id"])


def test_a_review_marks_the_juniors_intake_mistakes_and_the_report_counts_them(
    api: Api, aws
) -> None:
    # GIVEN a junior's intake waiting for review
    tid = _junior_ticket(api, "junior1")
    # WHEN a senior reviews it, marking two intake mistakes
    body = {
        "valid": True,
        "opinion": "分类错误",
        "mistakes": [
            {"kind": "wrong_category", "of": "intake", "note": "应为网络覆盖"},
            {"kind": "missing_information", "of": "intake"},
        ],
    }
    _act(api, tid, "review", "senior_agent", body, user="senior1")
    # THEN the history names the junior (taken from the ticket) for each
    review = next(e for e in _history(api, tid) if e["action"] == "review")
    assert review["details"]["mistakes"] == [
        {"agent": "junior1", "kind": "wrong_category", "of": "intake", "note": "应为网络覆盖"},
        {"agent": "junior1", "kind": "missing_information", "of": "intake"},
    ]
    # AND the report counts them for the junior today
    row = _row(_report(api), "junior1")
    assert row == {
        "agent": "junior1",
        "mistakes": {
            "wrong_category": 1,
            "missing_information": 1,
            "wrong_department": 0,
            "total": 2,
        },
        "mistakesBy": {"intake": 2, "dispatch": 0},
        "misTransfers": 0,
    }
    # AND a second ticket's mistake adds to the same day's counter
    tid2 = _junior_ticket(api, "junior1")
    again = {"valid": True, "mistakes": [{"kind": "wrong_category", "of": "intake"}]}
    _act(api, tid2, "review", "complaint_manager", again)
    row = _row(_report(api, "leader", agent="junior1"), "junior1")
    assert row is not None and row["mistakes"]["wrong_category"] == 2
    # AND `agent` narrows the report to one agent
    only = _report(api, "senior_agent", agent="junior1")
    assert [r["agent"] for r in only["items"]] == ["junior1"] and only["agent"] == "junior1"


def test_the_client_cannot_name_the_agent_blamed(api: Api, aws) -> None:
    tid = _junior_ticket(api, "junior2")
    for mistake in (
        {"kind": "wrong_category", "of": "intake", "agent": "someone_else"},
        {"kind": "wrong_category", "of": "intake", "agentId": "x"},
    ):
        body = {"valid": True, "mistakes": [mistake]}
        status, problem, _ = api.call("POST", f"/tickets/{tid}/review", "senior_agent", body)
        assert status == 400, problem
        assert problem["errors"][0]["field"].startswith("mistakes[0].")


@pytest.mark.parametrize(
    ("mistakes", "field"),
    [
        ([{"kind": "rude", "of": "intake"}], "mistakes[0].kind"),
        ([{"kind": "wrong_category", "of": "handling"}], "mistakes[0].of"),
        ([{"kind": "wrong_category"}], "mistakes[0].of"),
        ("wrong_category", "mistakes"),
        ([{"kind": "wrong_category", "of": "intake", "note": "a\u0000"}], "mistakes[0].note"),
        ([{"kind": "wrong_category", "of": "intake"}] * 7, "mistakes"),
    ],
)
def test_hostile_mistakes_are_a_400_naming_the_field(
    api: Api, aws, mistakes: Any, field: str
) -> None:
    tid = _junior_ticket(api, "junior3")
    body = {"valid": True, "mistakes": mistakes}
    status, problem, _ = api.call("POST", f"/tickets/{tid}/review", "senior_agent", body)
    assert status == 400, problem
    assert field in [e["field"] for e in problem["errors"]], problem


def test_no_one_to_rate_and_ones_own_work_are_refused_and_nothing_counted(api: Api, aws) -> None:
    # a ticket never dispatched has no dispatcher to rate
    tid = _junior_ticket(api, "junior4")
    body = {"valid": True, "mistakes": [{"kind": "wrong_department", "of": "dispatch"}]}
    status, problem, _ = api.call("POST", f"/tickets/{tid}/review", "senior_agent", body)
    assert (status, problem["code"]) == (409, "nothing_to_rate"), problem
    assert problem["errors"][0]["field"] == "mistakes[0].of"
    # a senior's own intake of a VIP goes to review: they do not rate their own work
    ticket = api.create(
        role="senior_agent",
        user="senior9",
        phenomenon="voice_coverage",
        fields=FIELDS,
        serviceNumber=fresh_number(),
        complainant={"name": "李四", "type": "vip", "contactNumber": "13700137000"},
    )
    _waiting(api, ticket["id"], "review")
    body = {"valid": True, "mistakes": [{"kind": "wrong_category", "of": "intake"}]}
    status, problem, _ = api.call(
        "POST", f"/tickets/{ticket['id']}/review", "senior_agent", body, user="senior9"
    )
    assert (status, problem["code"]) == (409, "own_work"), problem
    assert _row(_report(api), "senior9") is None and _row(_report(api), "junior4") is None


def test_returns_and_transfers_after_a_dispatch_count_mis_transfers_for_the_dispatcher(
    api: Api, aws
) -> None:
    # GIVEN a ticket dispatched by `disp` to the network department
    ticket = api.create(
        role="senior_agent",
        phenomenon="voice_coverage",
        fields=FIELDS,
        serviceNumber=fresh_number(),
    )
    tid = ticket["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"},
         user="disp")  # fmt: skip
    _waiting(api, tid, "accept")
    # WHEN network returns it as not theirs
    _act(api, tid, "return", "department", {"reason": "不属于本部门"}, department="network")
    # THEN that is a mis-transfer of the dispatcher
    ret = next(e for e in _history(api, tid) if e["action"] == "return")
    assert ret["details"]["misTransferOf"] == "disp"
    assert _row(_report(api), "disp")["misTransfers"] == 1  # type: ignore[index]
    # WHEN `disp` re-dispatches it and that department transfers it on
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "billing_support", "note": "计费"},
         user="disp")  # fmt: skip
    _waiting(api, tid, "accept")
    _act(api, tid, "transfer", "department", {"department": "it_support", "reason": "网络问题"},
         department="billing_support")  # fmt: skip
    # THEN a second mis-transfer; the next department's own transfer is not the dispatcher's
    _waiting(api, tid, "accept")
    _act(api, tid, "transfer", "complaint_manager", {"department": "network", "reason": "回网络"})
    assert _row(_report(api), "disp")["misTransfers"] == 2  # type: ignore[index]
    # AND a department resolving what it was sent counts nothing
    _waiting(api, tid, "accept")
    _act(api, tid, "resolve", "department", {"cause": "weak_coverage", "result": "已优化"},
         department="network")  # fmt: skip
    assert _row(_report(api), "disp")["misTransfers"] == 2  # type: ignore[index]
    # WHEN the replied ticket is appealed and the appeal's review blames the dispatch
    _waiting(api, tid, "reply")
    _act(api, tid, "reply", "agent", {"content": "已处理", "method": "phone"})
    status, appeal, _ = api.call(
        "POST", f"/tickets/{tid}/appeal", "agent", {"description": "不满", "source": "customer"}
    )
    assert status == 201, appeal
    _waiting(api, appeal["id"], "review")
    body = {"valid": True, "mistakes": [{"kind": "wrong_department", "of": "dispatch"}]}
    _act(api, appeal["id"], "review", "senior_agent", body)
    # THEN it is counted for the original's dispatcher
    row = _row(_report(api), "disp")
    assert row is not None and row["mistakes"]["wrong_department"] == 1
    assert row["mistakesBy"] == {"intake": 0, "dispatch": 1} and row["misTransfers"] == 2


def test_the_report_is_for_managers_seniors_and_leaders_and_checks_its_dates(api: Api, aws) -> None:
    for role in ("agent", "department", "complaint_admin", "operator", "auditor"):
        status, problem, _ = api.call(
            "GET", f"/reports/agents?from={TODAY}&to={TODAY}", role, department="network"
        )
        assert status == 403, (role, problem)
    for query, field in (
        ("to=2026-11-01", "from"),
        ("from=2026-11-01", "to"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-12-01&to=2026-11-01", "from"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("from=20261101&to=2026-11-02", "from"),
        ("from=2026-11-01&to=2026-11-02&agent=%00", "agent"),
        ("from=2026-11-01&to=2026-11-02&x=1", "x"),
    ):
        status, problem, _ = api.call("GET", f"/reports/agents?{query}", "complaint_manager")
        assert status == 400, (query, problem)
        assert field in [e["field"] for e in problem["errors"]], (query, problem)
    # an empty period is an empty report
    empty = _report(api, **{"from": "2001-01-01", "to": "2001-12-31"})
    assert empty == {"from": "2001-01-01", "to": "2001-12-31", "items": []}
