"""Regressions of values a hostile or careless client sent that the system could not hold.

Each was accepted before and then broke far more than its own ticket: lists, the sweep, the
customer view or every response holding the ticket. Now each is a 400 naming the field, and
nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.conftest import Api, ticket_body


def _count(api: Api) -> int:
    _, page, _ = api.call("GET", "/tickets?limit=200", "complaint_manager")
    return len(page["items"])


def _refused(api: Api, method: str, path: str, body: Any, field: str, role: str = "agent") -> None:
    status, problem, headers = api.call(method, path, role, body)
    assert status == 400, problem
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["code"] == "validation"
    assert field in {e["field"] for e in problem["errors"]}, problem["errors"]


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00Z", "0026-11-20T10:00:00+08:00", "1999-12-31T23:00:00Z"],
)
def test_an_instant_outside_the_window_is_refused_and_the_sweep_lives_on(api: Api, when) -> None:
    from chalicelib.services import context, sweep

    # GIVEN a healthy ticket
    api.create()
    # WHEN an instant the store could not read back is sent
    _refused(api, "POST", "/tickets", ticket_body(occurredAt=when), "occurredAt")
    # THEN nothing was stored, lists answer, and the sweep runs
    assert _count(api) == 1
    status, _, _ = api.call("GET", "/tickets?status=accepted", "agent")
    assert status == 200
    sweep.run(context.deps())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (ticket_body(complainant={"name": "\ud83d", "contactNumber": "13800138000"}), "name"),
        (ticket_body(description="bell\x07"), "description"),
        (ticket_body(fields={"count": 10**400}), "fields.count"),
        (ticket_body(fields={"count": 2e15}), "fields.count"),
        (ticket_body(serviceNumber="1390000004٠"), "serviceNumber"),
        (ticket_body(serviceNumber="+1 2025550123"), "serviceNumber"),
    ],
    ids=["lone-surrogate", "control-char", "400-digits", "over-1e15", "arabic-digit", "foreign"],
)
def test_values_the_system_cannot_hold_are_400_and_store_nothing(api: Api, body, field) -> None:
    status, problem, _ = api.call("POST", "/tickets", "agent", body)
    assert status == 400
    assert any(e["field"].endswith(field) for e in problem["errors"]), problem["errors"]
    assert _count(api) == 0


def test_a_note_with_a_huge_number_changes_nothing(api: Api) -> None:
    ticket = api.create()
    _refused(
        api,
        "POST",
        f"/tickets/{ticket['id']}/note",
        {"text": "补充", "fields": {"count": 10**400}},
        "fields.count",
    )
    _, again, _ = api.call("GET", f"/tickets/{ticket['id']}", "agent")
    assert again["version"] == ticket["version"] and again["fields"] == ticket["fields"]


def test_full_width_and_spaced_numbers_are_stored_as_ascii_digits(api: Api) -> None:
    # GIVEN a number typed in full-width digits with a country prefix
    ticket = api.create(
        serviceNumber="+86 １３８ ００１３ ８０００",
        complainant={"name": "李四", "contactNumber": "138-0013-8000"},
    )
    # THEN it is stored in its one spelling, and the customer's history finds it however typed
    assert ticket["serviceNumber"] == "13800138000"
    assert ticket["complainant"]["contactNumber"] == "13800138000"
    for typed in (
        "13800138000",
        "+86%20138%200013%208000",
        "%EF%BC%91%EF%BC%93%EF%BC%98"
        "%EF%BC%90%EF%BC%90%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%90",
    ):
        status, page, _ = api.call("GET", f"/customers/{typed}/tickets", "agent")
        assert status == 200, page
        assert [t["id"] for t in page["items"]] == [ticket["id"]]


def test_a_blacklisted_number_is_caught_however_it_is_typed(api: Api) -> None:
    # GIVEN a number on the blacklist, listed in full-width digits
    status, _, _ = api.call(
        "PUT", "/blacklist/１３９００００００４０", "complaint_manager", {"reason": "多次恶意投诉"}
    )
    assert status == 200
    # WHEN the same customer complains, the number spelled another way
    ticket = api.create(serviceNumber="139 0000 0040")
    # THEN the ticket is flagged; a look-alike with another script's digit is refused outright
    assert ticket["blacklisted"] is True
    _refused(api, "POST", "/tickets", ticket_body(serviceNumber="1390000004٠"), "serviceNumber")


def test_the_sla_preview_refuses_instants_outside_the_window(api: Api) -> None:
    status, problem, _ = api.call(
        "GET", "/sla/preview?at=0894-02-09T23:53:34.75%2B08:00&slaLevel=B", "agent"
    )
    assert status == 400 and problem["errors"][0]["field"] == "at"
    status, preview, _ = api.call(
        "GET", "/sla/preview?at=2026-11-20T09:00:00%2B08:00&slaLevel=B", "agent"
    )
    assert status == 200 and preview["dueAt"].endswith("+08:00")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=1000-01-01T00:00:00Z", "from"),
        ("from=2000-01-01T00:00:00Z", "from"),  # in the window, but wider than 24 months
        ("from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from"),
        ("limit=%C2%B2", "limit"),  # a superscript two is a digit to str.isdigit, not to us
        ("limit=1000", "limit"),
        ("cursor=eyJrIjoxfQ.forged", "cursor"),
        ("cursor=not-a-cursor", "cursor"),
        ("breached=yes", "breached"),
        ("colour=red", "colour"),
    ],
)
def test_list_queries_are_bounded_and_cursors_signed(api: Api, query, field) -> None:
    status, problem, _ = api.call("GET", f"/tickets?{query}", "complaint_manager")
    assert status == 400, problem
    assert field in {e["field"] for e in problem["errors"]}


def test_a_cursor_the_api_issued_pages_on_and_an_edited_one_is_refused(api: Api) -> None:
    for _ in range(3):
        api.create()
    _, first, _ = api.call("GET", "/tickets?limit=2", "complaint_manager")
    cursor = first["nextCursor"]
    assert cursor
    _, second, _ = api.call("GET", f"/tickets?limit=2&cursor={cursor}", "complaint_manager")
    assert len(first["items"]) + len(second["items"]) == 3
    payload, _, signature = cursor.partition(".")
    edited = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature
    status, problem, _ = api.call("GET", f"/tickets?cursor={edited}", "complaint_manager")
    assert status == 400 and problem["errors"][0]["field"] == "cursor"


def test_the_audit_day_walk_is_bounded_but_a_ticket_needs_no_range(api: Api) -> None:
    ticket = api.create()
    status, problem, _ = api.call(
        "GET", "/audit?from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "auditor"
    )
    assert status == 400 and problem["errors"][0]["field"] == "from"
    status, page, _ = api.call("GET", f"/audit?ticketId={ticket['id']}", "auditor")
    assert status == 200 and {e["action"] for e in page["items"]} == {"create"}


def test_classify_honours_its_limit_and_refuses_a_bad_one(api: Api) -> None:
    status, result, _ = api.call(
        "POST", "/catalog/classify", "agent", {"text": "信号不好 电话断断续续 收费不对", "limit": 2}
    )
    assert status == 200 and 1 <= len(result["items"]) <= 2
    _refused(api, "POST", "/catalog/classify", {"text": "信号", "limit": 0}, "limit")
    _refused(api, "POST", "/catalog/classify", {"text": "信号", "limit": "3"}, "limit")


def test_internal_markers_never_reach_a_response(api: Api) -> None:
    from chalicelib.domain.tickets import ticket_view_model

    ticket = api.create()
    documented = set(ticket_view_model().model_json_schema(by_alias=True)["properties"])
    assert set(ticket) <= documented
    for internal in ("lastEscalation", "overdueStep", "taskToken", "outbox", "workflowInput"):
        assert internal not in json.dumps(ticket)


def test_cursors_are_signed_with_the_secret_the_stack_generates(aws) -> None:
    # infra declares a generated secret; CloudFormation resolves it into the environment, and
    # the local stack does the same with the secret it created
    secret = aws.environment()["CURSOR_SECRET"]
    assert "resolve:" not in secret and len(secret) >= 40
    from chalicelib.services import context

    cursors = context.deps().cursors
    issued = cursors.encode({"k": 1})
    assert cursors.decode(issued) == {"k": 1}
    from chalicelib.adapters.query import Cursors

    with pytest.raises(Exception, match="cursor"):
        Cursors("another-deployment's-secret").decode(issued)


def test_every_problem_carries_its_machine_readable_code(api: Api, client) -> None:
    ticket = api.create()
    cases = [
        (api.call("GET", "/tickets/T0000000000000000000000000", "agent"), 404, "not_found"),
        (api.call("GET", "/audit", "agent"), 403, "forbidden"),
        (api.call("POST", "/tickets", "agent", {"kind": "rant"}), 400, "validation"),
        (
            api.call(
                "POST", f"/tickets/{ticket['id']}/archive", "complaint_manager", {"analysis": "x"}
            ),
            409,
            "action_not_allowed",
        ),
    ]
    for (status, problem, _), expected_status, code in cases:
        assert status == expected_status and problem["code"] == code, problem
    anonymous = client.http.get("/tickets")
    assert anonymous.status_code == 401 and json.loads(anonymous.body)["code"] == "unauthorized"
