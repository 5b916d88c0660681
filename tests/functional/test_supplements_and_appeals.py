"""Issue 10 part B, through the API with the state machine really executed: supplementary
complaints and a senior's decision on chase/withdrawal requests, appeals (verified and not), and
the re-dispatch of an on-the-spot answer the customer was unhappy with."""

from __future__ import annotations

from typing import Any

import boto3

from tests.functional.conftest import Api, fresh_number, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import FIELDS, _act, _execution, _ticket, _waiting


def _history(api: Api, tid: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[
        1
    ]["items"]
    return items


def _states(aws: Any, tid: str) -> list[str]:
    """The states the ticket's execution entered, in order (each one a billed transition)."""
    arn = _execution(aws, tid)["executionArn"]
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)[
        "events"
    ]
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
    ]


def _dispatched(api: Api) -> str:
    """A ticket the network department holds (waiting at its accept step)."""
    tid: str = api.create(
        role="senior_agent",
        phenomenon="voice_coverage",
        fields=FIELDS,
        serviceNumber=fresh_number(),  # independent of the test's other tickets
    )["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"})
    _waiting(api, tid, "accept")
    return tid


def _replied(api: Api) -> str:
    """A ticket resolved by network and replied: waiting at revisit."""
    tid = _dispatched(api)
    _act(
        api,
        tid,
        "resolve",
        "department",
        {"cause": "weak_coverage", "result": "已调整天线"},
        department="network",
    )
    _waiting(api, tid, "reply")
    _act(api, tid, "reply", "agent", {"content": "已处理", "method": "sms"})
    _waiting(api, tid, "revisit")
    return tid


# -- supplementary complaints -------------------------------------------------------------------


def test_a_supplement_records_information_and_a_chase_reminds_the_holder_once_approved(
    api: Api, aws
) -> None:
    # GIVEN a ticket the network department holds
    tid = _dispatched(api)
    drain(aws, "NetworkInbox")
    # WHEN the agent records what the customer adds, with a field
    t = _act(
        api,
        tid,
        "supplement",
        "agent",
        {"text": "客户补充：周末也无信号", "fields": {"handsetModel": "Mate 60"}},
    )
    # THEN it is on the ticket and in the history, and the step did not move
    assert (t["step"], t["status"], t["fields"]["handsetModel"]) == (
        "accept",
        "dispatched",
        "Mate 60",
    )
    assert t["pendingRequests"] == {}
    # WHEN the customer asks for a chase
    t = _act(api, tid, "supplement", "agent", {"text": "客户催促尽快处理", "request": "chase"})
    (request_id,) = t["pendingRequests"]
    assert t["pendingRequests"][request_id]["type"] == "chase"
    assert t["step"] == "accept"
    # THEN the CRC's seniors are told a request waits; nothing goes to the holder before a
    # senior decides; an agent may not decide
    told = [m for m in drain(aws, "CrcInbox") if m["eventType"] == "supplement_request"]
    assert [m["ticketId"] for m in told] == [tid]
    assert [m for m in drain(aws, "NetworkInbox") if m["eventType"] == "chase"] == []
    _act(api, tid, "decide", "agent", {"requestId": request_id, "approve": True}, expect=403)
    # WHEN a senior approves it  THEN the holding department is reminded at once
    t = _act(api, tid, "decide", "senior_agent", {"requestId": request_id, "approve": True})
    assert t["pendingRequests"] == {} and t["step"] == "accept"
    chases = [m for m in drain(aws, "NetworkInbox") if m["eventType"] == "chase"]
    assert len(chases) == 1 and chases[0]["_attributes"]["department"] == "network"
    # AND deciding it again is a conflict
    again = {"requestId": request_id, "approve": True}
    status, problem, _ = api.call("POST", f"/tickets/{tid}/decide", "senior_agent", again)
    assert (status, problem["code"]) == (409, "request_not_pending")
    # AND the workflow still waits at the department's step: it accepts as usual
    _act(api, tid, "accept", "department", {}, department="network")
    _waiting(api, tid, "handle")
    actions = [e["action"] for e in _history(api, tid)]
    assert actions.count("supplement") == 2 and actions.count("decide") == 1
    decided = next(e for e in _history(api, tid) if e["action"] == "decide")
    assert decided["details"]["chased"] == "network"


def test_an_approved_withdrawal_cancels_the_ticket_and_ends_its_workflow(api: Api, aws) -> None:
    # GIVEN a ticket the network department holds, with a withdrawal request and a chase request
    tid = _dispatched(api)
    body = {"text": "客户要求撤单", "request": "withdraw"}
    withdraw = _act(api, tid, "supplement", "agent", body)["pendingRequests"]
    t = _act(api, tid, "supplement", "agent", {"text": "催一下", "request": "chase"})
    (chase,) = set(t["pendingRequests"]) - set(withdraw)
    (withdraw_id,) = withdraw
    # WHEN the chase is refused  THEN nothing moves
    t = _act(api, tid, "decide", "complaint_manager", {"requestId": chase, "approve": False})
    assert (t["status"], list(t["pendingRequests"])) == ("dispatched", [withdraw_id])
    # WHEN a senior approves the withdrawal
    t = _act(
        api,
        tid,
        "decide",
        "senior_agent",
        {"requestId": withdraw_id, "approve": True, "reason": "客户已自行解决"},
    )
    # THEN the ticket is cancelled and its execution ends (it does not keep waiting)
    assert t["status"] == "cancelled" and "step" not in t
    assert t["closing"]["kind"] == "cancelled"
    stopped = [m for m in drain(aws, "NetworkInbox") if m["eventType"] == "withdrawn"]
    assert [m["_attributes"]["department"] for m in stopped] == ["network"]
    wait_until(lambda: _execution(aws, tid)["status"] == "SUCCEEDED")
    assert _states(aws, tid)[-2:] == ["What did the department do?", "Ticket cancelled"]
    status, problem, _ = api.call("POST", f"/tickets/{tid}/accept", "department", {}, "network")
    assert (status, problem["code"]) == (409, "action_not_allowed")


def test_a_withdrawal_is_refused_once_the_ticket_is_resolved(api: Api, aws) -> None:
    tid = _replied(api)
    status, problem, _ = api.call(
        "POST", f"/tickets/{tid}/supplement", "agent", {"text": "撤单", "request": "withdraw"}
    )
    assert (status, problem["code"]) == (409, "too_late_to_withdraw")


# -- appeals -----------------------------------------------------------------------------------


def test_an_appeal_on_a_never_replied_ticket_is_refused(api: Api, aws) -> None:
    tid = _dispatched(api)
    body = {"description": "不满", "source": "customer"}
    status, problem, _ = api.call("POST", f"/tickets/{tid}/appeal", "agent", body)
    assert (status, problem["code"]) == (409, "action_not_allowed")


def test_a_verified_appeal_is_dispatched_replied_reported_and_archived(api: Api, aws) -> None:
    # GIVEN a replied ticket
    tid = _replied(api)
    drain(aws, "CrcInbox")
    body = {"description": "对处理结果不满，向消协申诉", "source": "consumer_association"}
    headers = {"Idempotency-Key": "appeal-1"}
    # WHEN the consumer association's appeal is taken
    status, appeal, h = api.call(
        "POST", f"/tickets/{tid}/appeal", "agent", {**body, "level": "complex"}, headers=headers
    )
    # THEN a new linked ticket, escalated, waiting for its verification at review
    assert status == 201, appeal
    aid = appeal["id"]
    assert aid != tid and h["Location"] == f"/tickets/{aid}"
    assert appeal["appealOf"] == tid and appeal["escalated"] is True
    assert appeal["appeal"] == {
        "source": "consumer_association",
        "level": "complex",
        "reportRequired": True,
    }
    assert appeal["step"] == "review" and appeal["source"] == "consumer_association"
    original = api.call("GET", f"/tickets/{tid}", "agent")[1]
    assert appeal["serviceNumber"] == original["serviceNumber"]
    assert appeal["phenomenon"] == "voice_coverage"
    # AND retried with the same key it is the same appeal, not a second one
    status, again, h = api.call(
        "POST", f"/tickets/{tid}/appeal", "agent", {**body, "level": "complex"}, headers=headers
    )
    assert (status, again["id"], h.get("Idempotent-Replayed")) == (201, aid, "true")
    appeals = [e for e in _history(api, tid) if e["action"] == "appeal"]
    assert [e["details"]["appealId"] for e in appeals] == [aid]
    # WHEN a senior verifies it (with an opinion) and it is dispatched with instructions
    _waiting(api, aid, "review")
    opinion = {"valid": True, "opinion": "申诉属实，需重新核查"}
    reviewed = _act(api, aid, "review", "senior_agent", opinion)
    assert reviewed["review"]["opinion"] == "申诉属实，需重新核查"
    assert reviewed["appeal"]["verified"] is True
    _waiting(api, aid, "dispatch")
    note = {"department": "network", "note": "申诉核实属实，请在时限内重新处理并反馈"}
    _act(api, aid, "dispatch", "senior_agent", note)
    _waiting(api, aid, "accept")
    result = {"cause": "weak_coverage", "result": "已新建基站"}
    _act(api, aid, "resolve", "department", result, department="network")
    _waiting(api, aid, "reply")
    replied = _act(api, aid, "reply", "agent", {"content": "已重新处理", "method": "phone"})
    # THEN the reply is reported to management at once
    assert replied["appeal"]["reportedAt"]
    reports = wait_until(
        lambda: [m for m in drain(aws, "CrcInbox") if m["eventType"] == "appeal_report"]
    )
    assert len(reports) == 1 and reports[0]["ticketId"] == aid
    _waiting(api, aid, "revisit")
    _act(api, aid, "revisit", "agent", {"satisfaction": "satisfied"})
    _waiting(api, aid, "archive")
    done = _act(api, aid, "archive", "complaint_manager", {"analysis": "申诉：覆盖问题复发"})
    assert done["status"] == "archived"
    wait_until(lambda: _execution(aws, aid)["status"] == "SUCCEEDED")
    # the happy path's states plus the escalation notice, the review wait and its choice
    assert _states(aws, aid) == [
        "Record the ticket as accepted",
        "Announce the new ticket",
        "Go to the ticket's current step",
        "Tell the complaint manager at once",
        "Go to the ticket's current step",
        "Wait for the review",
        "What did the review decide?",
        "Wait for the dispatch",
        "Was the ticket dispatched?",
        "Wait for the department",
        "What did the department do?",
        "Wait for the reply to the customer",
        "Wait for the revisit",
        "Was the customer satisfied?",
        "Wait for the archive",
        "Ticket archived",
    ]


def test_an_unverified_appeal_is_replied_its_result_reported_and_archived(api: Api, aws) -> None:
    # GIVEN an archived ticket, appealed by the customer
    tid = _replied(api)
    _act(api, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    _waiting(api, tid, "archive")
    _act(api, tid, "archive", "complaint_manager", {"analysis": "覆盖问题"})
    body = {"description": "还是没信号", "source": "customer", "level": "major_urgent"}
    status, appeal, _ = api.call("POST", f"/tickets/{tid}/appeal", "complaint_manager", body)
    assert status == 201, appeal
    aid = appeal["id"]
    assert appeal["priority"] == "urgent" and appeal["step"] == "review"
    assert appeal["appeal"]["reportRequired"] is False and appeal["escalated"] is False
    drain(aws, "CrcInbox")
    # WHEN the senior finds it not verified
    _waiting(api, aid, "review")
    verdict = {"valid": False, "reason": "核查信号正常，申诉不属实", "opinion": "不予核实"}
    t = _act(api, aid, "review", "senior_agent", verdict)
    # THEN it is withdrawn: the customer is told the verification result, and it is reported
    assert (t["status"], t["step"], t["answer"]) == ("resolved", "reply", verdict["reason"])
    assert t["appeal"]["verified"] is False and t["review"]["valid"] is False
    _waiting(api, aid, "reply")
    replied = _act(api, aid, "reply", "agent", {"content": "核查结果：信号正常", "method": "phone"})
    assert replied["appeal"]["reportedAt"]
    reports = wait_until(
        lambda: [m for m in drain(aws, "CrcInbox") if m["eventType"] == "appeal_report"]
    )
    assert [m["ticketId"] for m in reports] == [aid]
    _waiting(api, aid, "revisit")
    archived = {"analysis": "申诉未核实", "noRevisitReason": "已告知核实结果"}
    assert _act(api, aid, "archive", "complaint_manager", archived)["status"] == "archived"
    wait_until(lambda: _execution(aws, aid)["status"] == "SUCCEEDED")
    assert _ticket(api, tid)["status"] == "archived"  # the original is untouched


# -- re-dispatch after an on-the-spot answer ----------------------------------------------------


def test_an_unhappy_customer_after_an_intake_answer_is_redispatched(api: Api, aws) -> None:
    # GIVEN a ticket answered at intake and replied (no department ever held it)
    t = api.create(
        role="senior_agent", phenomenon="voice_coverage", fields=FIELDS, answer="已为您重启网络"
    )
    tid = t["id"]
    _waiting(api, tid, "reply")
    _act(api, tid, "reply", "agent", {"content": "已当场解答", "method": "phone"})
    _waiting(api, tid, "revisit")
    drain(aws, "CrcInbox")
    # WHEN the customer is unsatisfied (this was refused 409 no_department before)
    t = _act(api, tid, "revisit", "agent", {"satisfaction": "unsatisfied", "comment": "仍无信号"})
    # THEN it goes back to the dispatch step for another round, the CRC told
    assert (t["status"], t["step"], t["rounds"]) == ("reviewing", "dispatch", 1)
    assert "reply" not in t
    assert [m["eventType"] for m in drain(aws, "CrcInbox")].count("returned") == 1
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "客户不满意"})
    _waiting(api, tid, "accept")
    assert _execution(aws, tid)["status"] == "RUNNING"
    # straight from the revisit's choice to the dispatch wait: no extra transition
    states = _states(aws, tid)
    at = states.index("Was the customer satisfied?")
    assert states[at + 1 : at + 3] == ["Wait for the dispatch", "Was the ticket dispatched?"]
