"""The hostile tester's findings, through the API: combined roles stay in their department, out of
scope looks exactly like missing, and refused attempts are audited with where they came from."""

from __future__ import annotations

import json
from typing import Any

from infra import local_auth
from tests.conftest import TOKEN_SECRET
from tests.functional.conftest import Api, token
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

UA = {"User-Agent": "hostile-tester/1.0"}


def _as(
    api: Api,
    method: str,
    path: str,
    roles: list[str],
    department: str | None = None,
    user: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    h = {
        "Authorization": f"Bearer {token(roles, department, user)}",
        "Content-Type": "application/json",
        **UA,
        **(headers or {}),
    }
    raw = None if body is None else json.dumps(body)
    resp = getattr(api.client.http, method.lower())(path, headers=h, body=raw)
    return resp.status_code, json.loads(resp.body) if resp.body else None


def _with_billing(api: Api) -> str:
    """A ticket dispatched to billing_support, waiting for it to accept."""
    t = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS)
    _waiting(api, t["id"], "dispatch")
    body = {"department": "billing_support", "note": "请处理"}
    _act(api, t["id"], "dispatch", "senior_agent", body)
    _waiting(api, t["id"], "accept")
    return str(t["id"])


def _audit(api: Api, **query: str) -> list[dict[str, Any]]:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    status, page, _ = api.call("GET", f"/audit?{q}", "auditor", user="auditor-1")
    assert status == 200, page
    return list(page["items"])


def test_an_agent_in_a_department_cannot_accept_or_resolve_another_departments_ticket(
    api: Api, aws
) -> None:
    # GIVEN billing_support's ticket, and an agent who is also in network's department
    tid = _with_billing(api)
    who = (["agent", "department"], "network", "agent-dept")
    # WHEN that user accepts or resolves it  THEN 409 not_your_department, nothing changes
    for action, body in [("accept", {}), ("resolve", {"cause": "c", "result": "r"})]:
        status, problem = _as(api, "POST", f"/tickets/{tid}/{action}", *who, body=body)
        assert (status, problem["code"]) == (409, "not_your_department"), problem
    # AND as an agent the user still reads it and notes it, but may not mark the department's duty
    assert _as(api, "GET", f"/tickets/{tid}", *who)[0] == 200
    note = {"text": "客户补充"}
    assert _as(api, "POST", f"/tickets/{tid}/note", *who, body=note)[0] == 200
    duty = {"text": "进展", "duty": "progress_report"}
    status, problem = _as(api, "POST", f"/tickets/{tid}/note", *who, body=duty)
    assert (status, problem["code"]) == (403, "forbidden")
    # AND billing_support itself accepts it
    assert _act(api, tid, "accept", "department", {}, department="billing_support")


def test_out_of_scope_answers_exactly_as_a_missing_ticket(api: Api, aws) -> None:
    # GIVEN billing_support's ticket, a network department user, and a ticket id that does not exist
    tid = _with_billing(api)
    missing = "T" + "0" * (len(tid) - 1)
    for roles in (["department"], ["complaint_admin"]):
        for method, suffix, body, headers in [
            ("GET", "", None, None),
            ("GET", "/history", None, None),
            ("GET", "/workflow", None, None),
            ("POST", "/accept", {}, None),
            ("POST", "/review", {"valid": True}, None),  # a role network never has
            ("POST", "/escalate", {"reason": "x", "criteria": ["media"]}, None),
            ("POST", "/note", {"text": "x"}, {"If-Match": '"1"'}),  # a stale version
        ]:
            # WHEN it asks about the real ticket and about the missing one
            real = _as(
                api, method, f"/tickets/{tid}{suffix}", roles, "network", body=body, headers=headers
            )
            gone = _as(
                api,
                method,
                f"/tickets/{missing}{suffix}",
                roles,
                "network",
                body=body,
                headers=headers,
            )
            # THEN both are the same 404, but for the id
            assert real[0] == gone[0] == 404, (roles, suffix, real, gone)
            assert real[1] == json.loads(json.dumps(gone[1]).replace(missing, tid))


def test_refused_attempts_are_audited_with_outcome_source_ip_and_user_agent(api: Api, aws) -> None:
    # GIVEN billing_support's ticket
    tid = _with_billing(api)
    # WHEN network's department user tries to read it, an agent tries to accept it, and a caller
    # whose token names no known role asks for it
    _as(api, "GET", f"/tickets/{tid}", ["department"], "network", user="dept-net")
    _as(api, "POST", f"/tickets/{tid}/accept", ["agent"], user="agent-x", body={})
    nobody = local_auth.make_token(["intruder"], None, "ghost", TOKEN_SECRET)
    resp = api.client.http.get(
        f"/tickets/{tid}", headers={"Authorization": f"Bearer {nobody}", **UA}
    )
    assert resp.status_code == 401
    # THEN each refusal is in the ticket's audit, with its outcome, source IP and user agent
    entries = _audit(api, ticketId=tid)
    refused = {(e["actor"], e["action"], e["outcome"]) for e in entries if e["outcome"] != "ok"}
    assert refused == {
        ("dept-net", "read", "refused:404/not_found"),
        ("agent-x", "accept", "refused:403/forbidden"),
        ("anonymous", "read", "refused:401/unauthorized"),
    }
    assert all(e["sourceIp"] == "127.0.0.1" for e in entries if e["outcome"] != "ok")
    assert all(e["userAgent"] == UA["User-Agent"] for e in entries if e["outcome"] != "ok")
    # AND an anonymous refusal naming no ticket is not recorded
    api.client.http.get("/tickets", headers={"Authorization": f"Bearer {nobody}"})
    assert [e for e in _audit(api, actor="anonymous")] == [
        e for e in entries if e["actor"] == "anonymous"
    ]


def test_reads_of_the_audit_log_are_audited(api: Api, aws) -> None:
    # WHEN an auditor reads the log, and an agent tries to
    _audit(api, actor="nobody-yet")
    assert api.call("GET", "/audit", "agent", user="agent-y")[0] == 403
    # THEN both are in the log, under their actors
    own = _audit(api, actor="auditor-1")
    assert [(e["action"], e["ticketId"], e["outcome"]) for e in own][-1] == (
        "read_audit",
        None,
        "ok",
    )
    tried = _audit(api, actor="agent-y")
    assert [(e["action"], e["outcome"]) for e in tried] == [("read_audit", "refused:403/forbidden")]
