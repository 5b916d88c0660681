"""The README's appeal tour over HTTP on the local stack (issue 10 part B): a supplementary
complaint with a chase a senior approves, then an appeal of the archived ticket, verified at
review, dispatched, replied (and reported), archived."""

from __future__ import annotations

import time

from tests.e2e.conftest import Stack
from tests.e2e.test_lifecycle_e2e import FIELDS, _act


def test_a_supplement_a_chase_and_an_appeal(stack: Stack) -> None:
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {"name": "王五", "contactNumber": "13712340001"},
        "serviceNumber": "13712340001",
        "description": "家里信号差，电话经常断",
        "phenomenon": "voice_coverage",
        "fields": FIELDS,
    }
    created = stack.call("POST", "/tickets", "senior_agent", body)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    _act(stack, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"})
    # the customer calls again: new information, and a chase a senior approves
    chase = {"text": "客户来电催促：周末也无信号", "request": "chase"}
    asked = _act(stack, tid, "supplement", "agent", chase)
    (request_id,) = asked["pendingRequests"]
    decided = _act(stack, tid, "decide", "senior_agent", {"requestId": request_id, "approve": True})
    assert decided["pendingRequests"] == {} and decided["step"] == "accept"
    result = {"cause": "weak_coverage", "result": "已新增室分"}
    _act(stack, tid, "resolve", "department", result, department="network")
    _act(stack, tid, "reply", "agent", {"content": "已处理", "method": "phone"})
    _act(stack, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    _act(stack, tid, "archive", "complaint_manager", {"analysis": "弱覆盖典型案例"})
    # the consumer association forwards the customer's appeal
    appeal = {"description": "客户向消协申诉：信号仍差", "source": "consumer_association"}
    key = {"Idempotency-Key": "appeal-e2e-1"}
    r = stack.call("POST", f"/tickets/{tid}/appeal", "agent", appeal, headers=key)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert r.headers["Location"] == f"/tickets/{aid}"
    assert r.json()["appealOf"] == tid and r.json()["escalated"] is True
    again = stack.call("POST", f"/tickets/{tid}/appeal", "agent", appeal, headers=key)
    assert again.status_code == 201 and again.json()["id"] == aid
    verified = {"valid": True, "opinion": "申诉属实，限时重查"}
    assert _act(stack, aid, "review", "senior_agent", verified)["review"]["opinion"]
    note = {"department": "network", "note": "申诉：请限时重查并反馈"}
    _act(stack, aid, "dispatch", "senior_agent", note)
    _act(stack, aid, "resolve", "department", result, department="network")
    replied = _act(stack, aid, "reply", "agent", {"content": "已重新处理", "method": "phone"})
    assert replied["appeal"]["reportedAt"]
    _act(stack, aid, "revisit", "agent", {"satisfaction": "satisfied"})
    done = _act(stack, aid, "archive", "complaint_manager", {"analysis": "申诉复查：覆盖"})
    assert done["status"] == "archived"
    deadline = time.monotonic() + 15
    while True:
        wf = stack.call("GET", f"/tickets/{aid}/workflow", "operator").json()
        if wf["status"] == "SUCCEEDED" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wf["status"] == "SUCCEEDED"
