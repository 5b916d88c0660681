"""Issue 10, part C, through the API with the state machine really executed: emergencies judged
and acted on, late steps giving their reason, social bodies' progress reports moving the breach,
level F's report, and the customer's periodic progress report chased by the sweep."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Api, fresh_number, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

FAST = str(Path(__file__).resolve().parents[1] / "data" / "sla_fast.json")
INBOXES = ("CrcInbox", "NetworkInbox", "OperatorsInbox", "BillingSupportInbox")


def _deadline(days: int = 1) -> dict[str, str]:
    at = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return {"at": at.isoformat(), "detail": "客户明早出国，须在此之前开通国际漫游"}


def _sweep(client: Any) -> dict[str, Any]:
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return client.lambda_.invoke("sweep", event).payload  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> Any:
    """Move the app's clock (the sweep's and the actions' 'now'); workflows keep real time."""
    from chalicelib.services.context import deps

    d = deps()
    real = d.clock
    offset = [timedelta()]
    d.clock = lambda: real() + offset[0]
    yield offset
    d.clock = real


def _get(api: Api, tid: str) -> dict[str, Any]:
    return api.call("GET", f"/tickets/{tid}", "complaint_manager")[1]  # type: ignore[no-any-return]


def _history(api: Api, tid: str) -> list[dict[str, Any]]:
    return api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[1]["items"]  # type: ignore[no-any-return]


def _notices(aws: Any) -> list[dict[str, Any]]:
    return [m for inbox in INBOXES for m in drain(aws, inbox) if "notice" in m]


def _until(instant: str) -> timedelta:
    """The clock offset that puts 'now' a minute past an instant the API gave."""
    return datetime.fromisoformat(instant) - datetime.now(UTC) + timedelta(minutes=1)


def _dispatched(api: Api, **overrides: Any) -> str:
    overrides.setdefault("serviceNumber", fresh_number())  # independent of the test's others
    t = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS, **overrides)
    _waiting(api, t["id"], "dispatch")
    _act(api, t["id"], "dispatch", "senior_agent", {"department": "network", "note": "请处理"})
    _waiting(api, t["id"], "accept")
    return str(t["id"])


# -- 6. emergencies ----------------------------------------------------------------------------


def test_an_urgent_complaint_alone_is_an_emergency_and_must_describe_the_deadline(
    api: Api, aws
) -> None:
    # WHEN an urgent complaint comes without the customer's deadline  THEN 400 naming it
    status, problem, _ = api.call("POST", "/tickets", "agent", {**_body(), "urgent": True})
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == ["customerDeadline"]
    # WHEN it describes it  THEN the ticket is an emergency on that criterion alone
    deadline = _deadline()
    t = api.create(role="agent", urgent=True, customerDeadline=deadline)
    assert t["emergency"] is True and t["escalated"] is True and t["priority"] == "urgent"
    assert t["escalationCriteria"] == ["urgent_deadline"]
    assert t["customerDeadline"]["detail"] == deadline["detail"]
    assert datetime.fromisoformat(t["customerDeadline"]["at"]) == datetime.fromisoformat(
        deadline["at"]
    )
    assert set(t["emergencyRecord"]["dutiesDueAt"]) == {"approvalFormToCrc", "leaderApproval"}
    assert t["escalatedAt"] == t["createdAt"]
    # AND the CRC hears of it, as of any escalation at intake
    told = wait_until(lambda: [m for m in drain(aws, "CrcInbox") if m["ticketId"] == t["id"]])
    assert told[0]["_attributes"]["severity"] == "high"


def _body(**overrides: Any) -> dict[str, Any]:
    from tests.functional.conftest import ticket_body

    return ticket_body(**overrides)


def test_the_administrator_confirms_records_the_action_and_downgrades(
    client, api: Api, aws, clock
) -> None:
    # GIVEN an urgent complaint dispatched to network, waiting at accept
    tid = _dispatched(api, urgent=True, customerDeadline=_deadline())
    admin = {"department": "network"}
    # WHEN network's complaint administrator confirms it  THEN the step does not move
    done = _act(api, tid, "judge_emergency", "complaint_admin", {"confirm": True, "reason": "属实"},
                **admin)  # fmt: skip
    assert done["emergency"] is True and done["step"] == "accept"
    assert done["emergencyJudgement"]["confirm"] is True
    # AND billing support's administrator, who never held it, is answered as if it did not exist
    _act(api, tid, "judge_emergency", "complaint_admin", {"confirm": False, "reason": "x"},
         department="billing_support", expect=404)  # fmt: skip
    # WHEN a cash refund is recorded without the company at fault  THEN 400 naming it
    refund = {"type": "cash_refund_of_charges", "amount": 30, "companyAtFault": False}
    problem = _act(api, tid, "emergency_action", "complaint_admin", refund, expect=400, **admin)
    assert [e["field"] for e in problem["errors"]] == ["companyAtFault"]
    # WHEN with it  THEN it is kept on the ticket and in the history; the step has not moved
    refund["companyAtFault"] = True
    done = _act(api, tid, "emergency_action", "complaint_admin", {**refund, "note": "先行退还"},
                **admin)  # fmt: skip
    assert done["emergencyAction"]["type"] == "cash_refund_of_charges"
    assert done["emergencyAction"]["amount"] == 30 and done["step"] == "accept"
    events = [
        e for e in _history(api, tid) if e["action"] in ("judge_emergency", "emergency_action")
    ]
    assert [e["action"] for e in events] == ["judge_emergency", "emergency_action"]
    assert events[1]["details"]["companyAtFault"] is True
    # WHEN the CRC's manager downgrades it  THEN no emergency, no approval-form duties
    done = _act(api, tid, "judge_emergency", "complaint_manager",
                {"confirm": False, "reason": "客户期限可协商"})  # fmt: skip
    assert done["emergency"] is False and done["priority"] == "high" and done["escalated"]
    assert "emergencyRecord" not in done
    problem = _act(api, tid, "emergency_action", "complaint_manager",
                   {"type": "credit_limit_change", "companyAtFault": False}, expect=409)  # fmt: skip
    assert problem["code"] == "not_emergency"
    # AND the callback is still the accept step's: the department accepts as usual
    _act(api, tid, "accept", "department", department="network")
    _waiting(api, tid, "handle")
    # AND a week later the sweep chases no approval form
    drain(aws, "CrcInbox")
    clock[0] = timedelta(days=8)
    _sweep(client)
    duties = {m.get("duty") for m in _notices(aws)}
    assert not duties & {"approvalFormToCrc", "leaderApproval"}
    assert "emergency" not in str(_get(api, tid).get("overdueDuties"))


# -- 8. overdue reasons -------------------------------------------------------------------------


def test_a_late_resolution_and_reply_need_their_reason(api: Api, aws, clock) -> None:
    tid = _dispatched(api)
    # WHEN network resolves two hours later, past the 1-hour accept step
    clock[0] = timedelta(hours=2)
    resolution = {"cause": "weak_coverage", "result": "已调整天线"}
    problem = _act(api, tid, "resolve", "department", resolution, department="network",
                   expect=400)  # fmt: skip
    assert [e["field"] for e in problem["errors"]] == ["overdueReason"]
    done = _act(api, tid, "resolve", "department",
                {**resolution, "overdueReason": "等待铁塔公司配合"}, department="network")  # fmt: skip
    assert done["overdueReasons"][0]["action"] == "resolve"
    assert done["overdueReasons"][0]["late"] == "step"
    # THEN the workflow moved on to reply as usual
    _waiting(api, tid, "reply")
    # AND a reply within the reply step's 2 hours needs none
    clock[0] = timedelta(hours=3)
    done = _act(api, tid, "reply", "agent", {"content": "已处理", "method": "sms"})
    assert len(done["overdueReasons"]) == 1
    (event,) = [e for e in _history(api, tid) if e["action"] == "resolve"]
    assert event["details"]["overdueReason"] == "等待铁塔公司配合"
    assert event["details"]["late"] == "step"


def test_a_climb_up_the_ladder_does_not_excuse_a_late_step(api: Api, aws, monkeypatch) -> None:
    # GIVEN the fast policy (2-second steps, 1-second grace periods)
    monkeypatch.setenv("SLA_POLICY", FAST)
    tid = _dispatched(api)
    # WHEN nobody acts and the workflow climbs the ladder at the accept step (moving stepDueAt)
    wait_until(
        lambda: any(
            e["action"] == "escalated" and e["details"]["step"] == "accept"
            for e in _history(api, tid)
        ),
        timeout=30,
    )
    # THEN returning it still needs a reason
    problem = _act(api, tid, "return", "department", {"reason": "非本部门"}, department="network",
                   expect=400)  # fmt: skip
    assert [e["field"] for e in problem["errors"]] == ["overdueReason"]
    done = _act(api, tid, "return", "department",
                {"reason": "非本部门", "overdueReason": "值班人员未及时查看"},
                department="network")  # fmt: skip
    assert done["overdueReasons"][0]["late"] == "step"
    _waiting(api, tid, "dispatch")


# -- 7. counting time --------------------------------------------------------------------------


def test_the_hotline_follows_the_levels_and_office_calls_three_business_days(api: Api) -> None:
    at = "2026-09-30T10:00:00%2B08:00"
    hotline = api.call("GET", f"/sla/preview?at={at}&slaLevel=E&channel=hotline")[1]
    office = api.call("GET", f"/sla/preview?at={at}&slaLevel=E&channel=office_call")[1]
    assert hotline["rule"] == "level:E" and office["rule"] == "channel:office_call"
    assert datetime.fromisoformat(hotline["dueAt"]) > datetime.fromisoformat(office["dueAt"])
    t = api.create(channel="office_call")
    assert t["channel"] == "office_call"
    status, _, _ = api.call("POST", "/tickets", "agent", _body(channel="10086"))
    assert status == 400


def test_a_timely_progress_report_moves_a_social_bodys_breach_to_the_final_answer(
    client, api: Api, aws, clock
) -> None:
    # GIVEN two 12315 complaints dispatched to network (3 business days; final answer 7)
    reported = _dispatched(api, source="12315")
    silent = _dispatched(api, source="12315")
    ticket = _get(api, reported)
    assert ticket["progressDueAt"] == ticket["dueAt"] and "finalDueAt" in ticket
    # WHEN network reports progress on the first within the 3 days (API spelling)
    _act(api, reported, "note", "department", {"text": "已派人核查", "duty": "progressReport"},
         department="network")  # fmt: skip
    assert "progress_report" in _get(api, reported)["dutiesDone"]
    # THEN a minute past the 3 days only the silent one is breached
    drain(aws, "CrcInbox")
    clock[0] = _until(ticket["dueAt"])
    _sweep(client)
    assert _get(api, silent)["breached"] is True
    assert set(_get(api, silent)["overdueDuties"]) == {"reply", "progress_report"}
    assert _get(api, reported)["breached"] is False
    # AND the reported one is breached only past the final answer, for the final answer
    clock[0] = _until(ticket["finalDueAt"])
    _sweep(client)
    late = _get(api, reported)
    assert late["breached"] is True and late["overdueDuties"] == ["final_answer"]


def test_level_f_owes_its_progress_report_to_the_dispatching_desk(
    client, api: Api, aws, clock
) -> None:
    t = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS)
    tid = t["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent",
         {"department": "network", "note": "请处理", "slaLevel": "F"})  # fmt: skip
    ticket = _get(api, tid)
    assert ticket["slaLevel"] == "F" and "progressDueAt" in ticket
    for inbox in INBOXES:
        drain(aws, inbox)
    clock[0] = _until(ticket["progressDueAt"])
    _sweep(client)
    network = [m for m in drain(aws, "NetworkInbox") if m.get("duty") == "progress_report"]
    crc = [m for m in drain(aws, "CrcInbox") if m.get("duty") == "progress_report"]
    assert [(m["eventType"], m["reportTo"]) for m in network] == [("reminder", "crc")]
    assert [m["eventType"] for m in crc] == ["breached"]


# -- 10b. progress to the customer ---------------------------------------------------------------


def test_an_escalated_ticket_owes_the_customer_progress_and_the_sweep_chases_it(
    client, api: Api, aws, clock
) -> None:
    # GIVEN a complaint escalated at intake (the media involved)
    t = api.create(role="senior_agent", flags=["media"], phenomenon="voice_coverage",
                   fields=FIELDS)  # fmt: skip
    tid = t["id"]
    assert t["escalated"] and t["escalatedAt"] == t["createdAt"]
    _waiting(api, tid, "dispatch")
    for inbox in INBOXES:
        drain(aws, inbox)

    def progress_notices() -> list[str]:
        return [m["notice"] for m in _notices(aws)
                if m.get("duty") == "customerProgress" and m["ticketId"] == tid]  # fmt: skip

    # WHEN ten days pass with no report  THEN the desk is reminded for three periods, once each
    clock[0] = timedelta(days=10)
    _sweep(client)
    first = progress_notices()
    assert len(first) == 3 and len(set(first)) == 3
    _sweep(client)
    assert progress_notices() == []
    # WHEN an agent reports progress to the customer  THEN the next periods are chased anew
    _act(api, tid, "note", "agent", {"text": "已告知客户进展", "duty": "customerProgress"})
    clock[0] = timedelta(days=20)
    _sweep(client)
    second = progress_notices()
    assert len(second) == 3 and not set(second) & set(first)
    assert Counter(n.rsplit(":", 1)[1] for n in second) == {"1": 1, "2": 1, "3": 1}
    # AND a department may not record it (the desk talks to the customer)
    _act(api, tid, "note", "department", {"text": "进展", "duty": "customerProgress"},
         department="network", expect=404)  # fmt: skip
