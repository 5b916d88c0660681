"""Bad input gets problem+json naming the field and changes nothing; roles are enforced."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.functional.conftest import Api, auth, ticket_body


def _count(api: Api) -> int:
    _, page, _ = api.call("GET", "/tickets?limit=200", "complaint_manager")
    return len(page["items"])


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**ticket_body(), "kind": "rant"}, {"kind"}),
        (
            {**ticket_body(), "channel": None, "serviceNumber": "12345"},
            {"channel", "serviceNumber"},
        ),
        ({**ticket_body(), "colour": "red"}, {"colour"}),
        ({**ticket_body(), "description": "x" * 4001}, {"description"}),
        ({**ticket_body(), "occurredAt": "yesterday"}, {"occurredAt"}),
        ({**ticket_body(), "occurredAt": "2026-01-01T10:00:00"}, {"occurredAt"}),
        ({**ticket_body(), "occurredAt": "2999-01-01T10:00:00+08:00"}, {"occurredAt"}),
        (
            {**ticket_body(), "complainant": {"name": "", "contactNumber": "1380013800"}},
            {"complainant.name", "complainant.contactNumber"},
        ),
        (
            {**ticket_body(), "complainant": {"name": "a", "contactNumber": "13800138000", "x": 1}},
            {"complainant.x"},
        ),
        ({**ticket_body(), "flags": ["media", "aliens"]}, {"flags[1]"}),
        ({**ticket_body(), "urgent": "yes"}, {"urgent"}),
        ({**ticket_body(), "fields": {"handset": {"nested": 1}}}, {"fields.handset"}),
        ({**ticket_body(), "category": "nonsense"}, {"category"}),
        ([1, 2, 3], {"body"}),
    ],
)
def test_invalid_bodies_name_every_failing_field(api: Api, body, fields) -> None:
    # WHEN an invalid body is posted
    status, problem, headers = api.call("POST", "/tickets", "agent", body)
    # THEN a 400 problem+json lists exactly the failing fields, and nothing is stored
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400 and problem["type"].endswith("/validation")
    assert {e["field"] for e in problem["errors"]} == fields
    assert _count(api) == 0


def test_malformed_json_wrong_type_and_oversize_are_refused(api: Api) -> None:
    s1, p1, _ = api.call("POST", "/tickets", "agent", "{not json")
    assert s1 == 400 and p1["errors"][0]["field"] == "body"
    s2, p2, _ = api.call(
        "POST",
        "/tickets",
        "agent",
        json.dumps(ticket_body()),
        headers={"Content-Type": "text/plain"},
    )
    assert s2 == 415 and p2["errors"][0]["field"] == "Content-Type"
    big = ticket_body(description="x" * 100, expectedResult="y" * 100)
    raw = json.dumps(big) + " " * (64 * 1024)
    s3, p3, _ = api.call("POST", "/tickets", "agent", raw)
    assert s3 == 413 and p3["errors"][0]["field"] == "body"
    s4, p4, _ = api.call("POST", "/tickets", "agent", "")
    assert s4 == 400 and p4["errors"][0]["field"] == "body"
    assert _count(api) == 0


def test_bad_query_parameters_are_400(api: Api) -> None:
    for query, field in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("status=lost", "status"),
        ("from=soon", "from"),
        ("breached=maybe", "breached"),
        ("colour=red", "colour"),
        ("cursor=%%%", "cursor"),
    ]:
        status, problem, _ = api.call("GET", f"/tickets?{query}")
        assert status == 400, query
        assert problem["errors"][0]["field"] == field


def test_tokens_are_required_and_checked(client) -> None:
    assert client.http.get("/health").status_code == 200
    assert client.http.get("/tickets").status_code == 401
    for bad in ("Bearer nonsense", "Bearer a.b.c", "Basic abc", "Bearer " + "x" * 10):
        resp = client.http.get("/tickets", headers={"Authorization": bad})
        assert resp.status_code == 401, bad
        assert resp.headers["Content-Type"] == "application/problem+json"
    forged = auth("agent")["Authorization"][:-4] + "AAAA"
    assert client.http.get("/tickets", headers={"Authorization": forged}).status_code == 401


def test_roles_are_enforced(api: Api) -> None:
    assert api.call("POST", "/tickets", "department", ticket_body(), department="network")[0] == 403
    assert api.call("POST", "/tickets", "auditor", ticket_body())[0] == 403
    assert api.call("GET", "/audit", "agent")[0] == 403
    assert api.call("GET", "/audit", "auditor")[0] == 200


def test_department_users_see_only_their_department(api: Api) -> None:
    ticket = api.create()
    status, _, _ = api.call("GET", f"/tickets/{ticket['id']}", "department", department="network")
    assert status == 404
    _, page, _ = api.call("GET", "/tickets", "complaint_admin", department="network")
    assert page["items"] == []
    status, _, _ = api.call(
        "GET", "/tickets?department=billing_support", "department", department="network"
    )
    assert status == 404
    assert api.call("GET", "/tickets/TNOPE", "agent")[0] == 404


def test_every_read_and_write_is_audited(api: Api) -> None:
    ticket = api.create(user="agent-li")
    api.call("GET", f"/tickets/{ticket['id']}", "senior_agent", user="senior-wang")
    api.call("GET", f"/tickets/{ticket['id']}/history", "complaint_manager", user="mgr-zhao")
    api.call("GET", "/tickets", "leader", user="leader-qian")
    _, audit, _ = api.call("GET", f"/audit?ticketId={ticket['id']}", "auditor", user="auditor-1")
    seen = {(e["actor"], e["role"], e["action"]) for e in audit["items"]}
    assert seen == {
        ("agent-li", "agent", "create"),
        ("senior-wang", "senior_agent", "read"),
        ("mgr-zhao", "complaint_manager", "read_history"),
        ("leader-qian", "leader", "list"),
    }
    assert all(e["requestId"] for e in audit["items"])
    _, by_actor, _ = api.call("GET", "/audit?actor=senior-wang", "auditor", user="auditor-1")
    assert [e["ticketId"] for e in by_actor["items"]] == [ticket["id"]]
    _, by_day, _ = api.call("GET", "/audit", "auditor", user="auditor-1")
    # the four above, and the auditor's own two reads of the log before this one
    assert len(by_day["items"]) == 6
    reads = [e for e in by_day["items"] if e["action"] == "read_audit"]
    assert [(e["actor"], e["outcome"]) for e in reads] == [("auditor-1", "ok")] * 2
    assert all(e["sourceIp"] for e in by_day["items"])


def test_twenty_concurrent_creates_with_one_key_make_one_ticket(api: Api, aws) -> None:
    # GIVEN twenty clients retrying the same request at the same time
    body = ticket_body()

    def post(_: int):
        return api.call("POST", "/tickets", "agent", body, headers={"Idempotency-Key": "k-20"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(post, range(20)))
    # THEN all get the same ticket, exactly one is stored and one execution started
    assert {r[0] for r in results} == {201}
    assert len({r[1]["id"] for r in results}) == 1
    assert _count(api) == 1
    sfn = boto3.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=aws.refs["LifecycleStateMachine"])[
        "executions"
    ]
    assert [e["name"] for e in executions] == [results[0][1]["id"]]
