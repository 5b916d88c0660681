"""Intake and reading through the API, on moto, with the lifecycle execution really run."""

from __future__ import annotations

import boto3

from tests.functional.conftest import Api, ticket_body, wait_until


def test_create_stores_the_ticket_and_starts_its_lifecycle(api: Api, aws) -> None:
    # GIVEN an agent's valid complaint
    # WHEN it is posted
    status, ticket, headers = api.call("POST", "/tickets", "agent", ticket_body())
    # THEN the ticket is stored as accepted, with a location and version 1
    assert status == 201
    assert ticket["status"] == "accepted" and ticket["version"] == 1
    assert headers["Location"] == f"/tickets/{ticket['id']}"
    # AND the execution named after the ticket records itself on the ticket and waits for review
    sm = aws.refs["LifecycleStateMachine"]
    sfn = boto3.client("stepfunctions")
    arn = sm.replace(":stateMachine:", ":execution:") + ":" + ticket["id"]
    stored = wait_until(
        lambda: (
            (t := api.call("GET", f"/tickets/{ticket['id']}")[1])["workflow"]["status"] == "started"
            and t
        )
    )
    assert stored["workflow"] == {"status": "started", "executionArn": arn}
    assert stored["version"] == 2 and stored["step"] == "review"
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    _, history, _ = api.call("GET", f"/tickets/{ticket['id']}/history")
    assert [e["action"] for e in history["items"]] == ["create", "workflow_started"]


def test_read_list_and_customer_history(api: Api) -> None:
    first = api.create()
    second = api.create(serviceNumber="13900139000")
    third = api.create()
    _, page, _ = api.call("GET", "/tickets?limit=2")
    assert [t["id"] for t in page["items"]] == [third["id"], second["id"]]
    _, rest, _ = api.call("GET", f"/tickets?limit=2&cursor={page['nextCursor']}")
    assert [t["id"] for t in rest["items"]] == [first["id"]]
    assert rest["nextCursor"] is None
    _, mine, _ = api.call("GET", "/customers/13800138000/tickets")
    assert [t["id"] for t in mine["items"]] == [third["id"], first["id"]]
    _, by_status, _ = api.call("GET", "/tickets?status=accepted&serviceNumber=13900139000")
    assert [t["id"] for t in by_status["items"]] == [second["id"]]


def test_idempotent_create(api: Api) -> None:
    body = ticket_body()
    key = {"Idempotency-Key": "abc-123"}
    s1, t1, _ = api.call("POST", "/tickets", "agent", body, headers=key)
    s2, t2, h2 = api.call("POST", "/tickets", "agent", body, headers=key)
    assert (s1, s2) == (201, 201)
    assert t1["id"] == t2["id"] and h2["Idempotent-Replayed"] == "true"
    s3, problem, h3 = api.call(
        "POST", "/tickets", "agent", ticket_body(description="另一个问题"), headers=key
    )
    assert s3 == 409 and problem["code"] == "idempotency_key_reused"
    assert h3["Content-Type"] == "application/problem+json"
    _, listed, _ = api.call("GET", "/tickets")
    assert len(listed["items"]) == 1
