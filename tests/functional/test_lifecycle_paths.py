"""Every path of the lifecycle, through the API, with the state machine really executed."""

from __future__ import annotations

from typing import Any

import boto3

from tests.functional.conftest import Api, wait_until


def _ticket(api: Api, ticket_id: str) -> dict[str, Any]:
    return api.call("GET", f"/tickets/{ticket_id}", "complaint_manager")[1]


def _act(
    api: Api,
    ticket_id: str,
    action: str,
    role: str,
    body: Any = None,
    department: str | None = None,
    user: str | None = None,
    expect: int = 200,
) -> Any:
    status, result, _ = api.call(
        "POST", f"/tickets/{ticket_id}/{action}", role, body or {}, department=department, user=user
    )
    assert status == expect, (action, status, result)
    return result


def _execution(aws: Any, ticket_id: str) -> dict[str, Any]:
    arn = aws.refs["LifecycleStateMachine"].replace(":stateMachine:", ":execution:")
    return boto3.client("stepfunctions").describe_execution(executionArn=f"{arn}:{ticket_id}")


def _waiting(api: Api, ticket_id: str, step: str) -> dict[str, Any]:
    """The workflow has reached `step` (its callback token is recorded)."""
    from chalicelib.services.context import deps

    return wait_until(
        lambda: (
            (t := deps().repo.get(ticket_id, consistent=True)) is not None
            and t.step == step
            and t.task_token is not None
            and t
        )
    )


FIELDS = {
    "handsetModel": "iPhone 15",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "思明区中山路",
}


def test_happy_path_from_intake_to_archive(api: Api, aws) -> None:
    ticket = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS)
    tid = ticket["id"]
    assert ticket["missingFields"] == [] and ticket["step"] == "dispatch"
    _waiting(api, tid, "dispatch")
    _act(
        api,
        tid,
        "dispatch",
        "senior_agent",
        {"department": "network", "note": "弱覆盖"},
        user="senior",
    )
    _waiting(api, tid, "accept")
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
    _act(api, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    _waiting(api, tid, "archive")
    done = _act(api, tid, "archive", "complaint_manager", {"analysis": "覆盖问题"})
    assert done["status"] == "archived"
    wait_until(lambda: _execution(aws, tid)["status"] == "SUCCEEDED")
    history = api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[1]["items"]
    assert [e["action"] for e in history] == [
        "create",
        "workflow_started",
        "dispatch",
        "resolve",
        "reply",
        "revisit",
        "archive",
    ]
