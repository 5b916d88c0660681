"""A whole lifecycle over HTTP on the local stack: each role with its own token."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import Stack

FIELDS = {
    "handsetModel": "Mate 60",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "湖里区万达广场",
}


def _act(
    stack: Stack,
    tid: str,
    action: str,
    role: str,
    body: dict[str, Any],
    department: str | None = None,
) -> dict[str, Any]:
    """Act as soon as the workflow has reached the step (the API may answer 409 a moment
    before the execution gets there; the desk simply retries)."""
    deadline = time.monotonic() + 20
    while True:
        r = stack.call("POST", f"/tickets/{tid}/{action}", role, body, department=department)
        if r.status_code == 200:
            return r.json()  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"{action}: {r.status_code} {r.text}")
        time.sleep(0.2)


def test_a_complaint_from_intake_to_archive(stack: Stack) -> None:
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {"name": "王五", "contactNumber": "13712345678"},
        "serviceNumber": "13712345678",
        "description": "家里信号差，电话经常断",
        "phenomenon": "voice_coverage",
        "fields": FIELDS,
    }
    created = stack.call("POST", "/tickets", "agent", body)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert created.json()["step"] == "review"
    _act(stack, tid, "review", "senior_agent", {"valid": True})
    _act(stack, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"})
    _act(stack, tid, "accept", "department", {}, department="network")
    _act(
        stack,
        tid,
        "resolve",
        "department",
        {"cause": "weak_coverage", "result": "已新增室分"},
        department="network",
    )
    _act(stack, tid, "reply", "agent", {"content": "已处理", "method": "phone"})
    _act(stack, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    done = _act(stack, tid, "archive", "complaint_manager", {"analysis": "弱覆盖典型案例"})
    assert done["status"] == "archived"
    items = stack.call("GET", f"/tickets/{tid}/history").json()["items"]
    history = [e["action"] for e in items]
    # an action may be accepted before the execution records its start (its outbox answers
    # the step when the execution gets there), so workflow_started has no fixed place
    assert history.count("workflow_started") == 1
    assert [a for a in history if a != "workflow_started"] == [
        "create",
        "review",
        "dispatch",
        "accept",
        "resolve",
        "reply",
        "revisit",
        "archive",
    ]
    deadline = time.monotonic() + 15
    while True:
        wf = stack.call("GET", f"/tickets/{tid}/workflow", "operator").json()
        if wf["status"] == "SUCCEEDED" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wf["status"] == "SUCCEEDED" and wf["states"][-1]["name"] == "Ticket archived"
