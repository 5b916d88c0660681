"""Mass complaints (issue 11): detection at intake, the incident's take-up and its resolution
through the incident-resolution state machine, really executed on moto."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.functional.conftest import Api, fresh_number, wait_until
from tests.functional.inboxes import drain


@pytest.fixture(autouse=True)
def shipped_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests run with the shipped thresholds (the suites' default keeps detection off:
    tests/conftest.py)."""
    monkeypatch.delenv("MASS_COMPLAINT_POLICY", raising=False)


FIELDS = {
    "handsetModel": "iPhone 15",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "思明区中山路",
}


def complain(
    api: Api,
    channel: str = "hotline",
    area: str = "思明区",
    phenomenon: str = "voice_coverage",
    role: str = "senior_agent",
) -> dict[str, Any]:
    number = fresh_number()
    return api.create(
        role,
        channel=channel,
        phenomenon=phenomenon,
        serviceNumber=number,
        complainant={"name": "李四", "contactNumber": number},
        location={"area": area},
        fields=FIELDS,
    )


def incidents(api: Api, role: str = "complaint_manager", **kw: Any) -> list[dict[str, Any]]:
    status, body, _ = api.call("GET", "/incidents", role, **kw)
    assert status == 200, body
    return list(body["items"])


def ticket(ticket_id: str) -> Any:
    from chalicelib.services.context import deps

    return deps().repo.get(ticket_id, consistent=True)


def test_nine_complaints_make_no_incident(api: Api, aws) -> None:
    made = [complain(api) for _ in range(9)]
    assert all("incidentId" not in t for t in made)
    assert incidents(api) == []


def test_ten_complaints_make_one_incident_linking_all_and_telling_each_once(api: Api, aws) -> None:
    # GIVEN nine hotline complaints about coverage
    first = [complain(api) for _ in range(9)]
    drain(aws, "NetworkInbox"), drain(aws, "CrcInbox")
    # WHEN the tenth arrives
    tenth = complain(api)
    # THEN it opens the incident, urgent
    assert tenth["incidentId"].startswith("I")
    assert tenth["priority"] == "urgent"
    [incident] = incidents(api)
    assert incident["id"] == tenth["incidentId"]
    assert incident["ticketCount"] == 10
    assert incident["department"] == "network"
    # AND its execution links the nine before the threshold
    ids = [t["id"] for t in first]
    wait_until(lambda: all(ticket(i).incident_id == tenth["incidentId"] for i in ids))
    assert {ticket(i).priority for i in ids} == {"urgent"}
    # AND the route department and the CRC are each told once, escalated to level 2
    wait_until(lambda: ticket(tenth["id"]) and _taken_up(api, tenth["incidentId"]))
    network = [m for m in drain(aws, "NetworkInbox") if m["eventType"] == "mass_complaint"]
    crc = [m for m in drain(aws, "CrcInbox") if m["eventType"] == "mass_complaint"]
    assert len(network) == 1 and len(crc) == 1
    assert crc[0]["incidentId"] == tenth["incidentId"] and crc[0]["level"] == 2
    # AND the linked tickets' history says so
    _, history, _ = api.call("GET", f"/tickets/{ids[0]}/history", "complaint_manager")
    assert "incident_linked" in [e["action"] for e in history["items"]]


def _taken_up(api: Api, incident_id: str) -> bool:
    _, body, _ = api.call("GET", f"/incidents/{incident_id}", "complaint_manager")
    return bool(body["escalationLevel"] == 2)


def test_a_later_matching_complaint_joins_the_incident(api: Api, aws) -> None:
    made = [complain(api) for _ in range(10)]
    incident_id = made[-1]["incidentId"]
    later = complain(api)
    assert later["incidentId"] == incident_id and later["priority"] == "urgent"
    _, body, _ = api.call("GET", f"/incidents/{incident_id}", "complaint_manager")
    assert body["ticketCount"] == 11
    assert later["id"] in [t["id"] for t in body["tickets"]]
    assert body["counts"]["byChannel"] == {"hotline": 11}
    assert body["counts"]["byArea"] == {"思明区": 11}
    assert [e["event"] for e in body["timeline"]][:2] == ["first_complaint", "opened"]


def test_complaints_split_across_interfaces_make_none(api: Api, aws) -> None:
    for _ in range(5):
        complain(api, channel="hotline")
        complain(api, channel="app")
    for _ in range(4):  # another phenomenon at the same interface counts apart
        complain(api, phenomenon="call_quality")
    assert incidents(api) == []


def test_counter_channel_areas_count_apart(api: Api, aws) -> None:
    for _ in range(5):
        complain(api, channel="business_hall", area="思明区")
        complain(api, channel="business_hall", area="湖里区")
    assert incidents(api) == []
    made = [complain(api, channel="business_hall", area="湖里区") for _ in range(5)]
    assert "incidentId" in made[-1]
    [incident] = incidents(api)
    assert incident["interface"] == {"channel": "business_hall", "area": "湖里区"}


def test_complaints_outside_the_window_do_not_count(api: Api, aws, monkeypatch) -> None:
    from datetime import timedelta

    from chalicelib.services.context import deps

    real = deps().clock
    start = real()
    shift = {"by": timedelta(0)}
    monkeypatch.setattr(deps(), "clock", lambda: real() + shift["by"])
    try:
        for _ in range(5):
            complain(api)
        shift["by"] = timedelta(minutes=31)
        made = [complain(api) for _ in range(5)]
    finally:
        monkeypatch.setattr(deps(), "clock", real)
    assert start  # the clock moved past the first five's window
    assert all("incidentId" not in t for t in made)
    assert incidents(api) == []


def test_fifty_concurrent_complaints_make_exactly_one_incident(api: Api, aws) -> None:
    def post(_: int) -> dict[str, Any]:
        return complain(api)

    with ThreadPoolExecutor(max_workers=10) as pool:
        made = list(pool.map(post, range(50)))
    [incident] = incidents(api)
    linked = {t["incidentId"] for t in made if "incidentId" in t}
    assert linked == {incident["id"]}
    _, body, _ = api.call("GET", f"/incidents/{incident['id']}", "complaint_manager")
    assert body["ticketCount"] == 50
    assert {t["id"] for t in body["tickets"]} == {t["id"] for t in made}
    wait_until(lambda: all(ticket(t["id"]).incident_id == incident["id"] for t in made), 30)
    wait_until(lambda: _taken_up(api, incident["id"]), 30)
    network = [m for m in drain(aws, "NetworkInbox") if m["eventType"] == "mass_complaint"]
    assert len(network) == 1


def test_roles_and_scope(api: Api, aws) -> None:
    made = [complain(api) for _ in range(10)]
    incident_id = made[-1]["incidentId"]
    assert len(incidents(api, "department", department="network")) == 1
    assert incidents(api, "department", department="billing_support") == []
    assert len(incidents(api, "operator")) == 1
    assert api.call("GET", "/incidents", "agent")[0] == 403
    assert api.call("GET", f"/incidents/{incident_id}", "auditor")[0] == 403
    got = api.call("GET", f"/incidents/{incident_id}", "complaint_admin", department="marketing")
    assert got[0] == 404
    status, body, _ = api.call("GET", f"/incidents/{incident_id}", "leader")
    assert status == 200 and "****" in body["tickets"][0]["serviceNumber"]
    assert api.call("GET", "/incidents/I-nope", "complaint_manager")[0] == 404
    resolve = {"cause": "cable_theft", "result": "r", "script": "s"}
    path = f"/incidents/{incident_id}/resolve"
    assert api.call("POST", path, "senior_agent", resolve)[0] == 403
    assert api.call("POST", path, "department", resolve, department="marketing")[0] == 404
    # a cause the incident's phenomenon does not know is a 400 naming it, and starts nothing
    status, problem, _ = api.call("POST", path, "complaint_manager", {**resolve, "cause": "aliens"})
    assert status == 400 and [e["field"] for e in problem["errors"]] == ["cause"]
    assert "weak_coverage" in problem["errors"][0]["message"]
    assert api.call("GET", f"/incidents/{incident_id}", "complaint_manager")[1]["status"] == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cause": "c", "result": "r"}, "script"),
        ({"cause": "c", "result": "r", "script": "s", "extra": 1}, "extra"),
        ({"cause": "", "result": "r", "script": "s"}, "cause"),
        ({"cause": "c", "result": 5, "script": "s"}, "result"),
        ({"cause": "c\u0000", "result": "r", "script": "s"}, "cause"),
    ],
)
def test_hostile_resolve_bodies_are_400_naming_the_field(
    api: Api, aws, body: dict[str, Any], field: str
) -> None:
    status, problem, _ = api.call("POST", "/incidents/I0001/resolve", "complaint_manager", body)
    assert status == 400, problem
    assert field in [e["field"] for e in problem["errors"]]


def test_a_bad_page_query_is_400(api: Api, aws) -> None:
    status, problem, _ = api.call("GET", "/incidents?limit=0", "complaint_manager")
    assert status == 400 and "limit" in [e["field"] for e in problem["errors"]]


# -- resolution ----------------------------------------------------------------------------------


def _resolution(aws: Any, incident_id: str, run: int) -> dict[str, Any]:
    arn = aws.refs["IncidentResolutionStateMachine"].replace(":stateMachine:", ":execution:")
    return boto3.client("stepfunctions").describe_execution(
        executionArn=f"{arn}:{incident_id}-r{run}"
    )


def _finished(aws: Any, incident_id: str, run: int) -> str | None:
    status = _resolution(aws, incident_id, run)["status"]
    return None if status == "RUNNING" else str(status)


def test_resolving_an_incident_resolves_each_ticket_once_even_after_a_failure(
    api: Api, aws, monkeypatch
) -> None:
    from chalicelib.services import incidents as service

    # GIVEN an incident of ten tickets (five waiting for dispatch, five at the department)
    made = [complain(api) for _ in range(10)]
    incident_id = made[-1]["incidentId"]
    for t in made[:5]:
        wait_until(lambda t=t: ticket(t["id"]).task_token is not None)
        status, body, _ = api.call(
            "POST",
            f"/tickets/{t['id']}/dispatch",
            "senior_agent",
            {"department": "network", "note": "弱覆盖"},
        )
        assert status == 200, body
    wait_until(lambda: _taken_up(api, incident_id))
    # AND a batch that fails half way: its third ticket fails every attempt
    monkeypatch.setattr(service, "BATCH", 5)
    broken = made[7]["id"]
    real = service.resolve_one
    calls: list[str] = []

    def flaky(incident: Any, ticket_id: str, deps: Any) -> str:
        calls.append(ticket_id)
        if ticket_id == broken:
            raise RuntimeError("injected failure")
        return real(incident, ticket_id, deps)

    monkeypatch.setattr(service, "resolve_one", flaky)
    body = {"cause": "cable_theft", "result": "已修复", "script": "您好，基站故障已修复"}
    path = f"/incidents/{incident_id}/resolve"
    # WHEN the complaint manager resolves it
    status, started, _ = api.call("POST", path, "complaint_manager", body)
    assert status == 202, started
    assert started["status"] == "resolving" and started["run"] == 1
    # AND a second POST while it runs is refused
    if _finished(aws, incident_id, 1) is None:
        again = api.call("POST", path, "complaint_manager", body)
        assert again[0] == 409 and again[1]["code"] == "resolution_running"
    # THEN the run fails, having resolved the tickets before the broken one
    assert wait_until(lambda: _finished(aws, incident_id, 1), 60) == "FAILED"
    resolved_before = [t["id"] for t in made if ticket(t["id"]).resolution is not None]
    assert broken not in resolved_before
    # WHEN the failure is fixed and the department posts again
    monkeypatch.setattr(service, "resolve_one", real)
    status, resumed, _ = api.call("POST", path, "department", body, department="network")
    assert status == 202 and resumed["run"] == 2
    assert wait_until(lambda: _finished(aws, incident_id, 2), 60) == "SUCCEEDED"
    # THEN every ticket is resolved, once, and waits for the reply to its customer
    for t in made:
        stored = wait_until(lambda t=t: (s := ticket(t["id"])).step == "reply" and s)
        assert stored.status == "resolved"
        assert stored.resolution["cause"] == "cable_theft"
        assert stored.answer_script == "您好，基站故障已修复"  # the incident's script
        _, history, _ = api.call("GET", f"/tickets/{t['id']}/history", "complaint_manager")
        assert [e["action"] for e in history["items"]].count("resolve") == 1
    _, after, _ = api.call("GET", f"/incidents/{incident_id}", "complaint_manager")
    assert after["status"] == "resolved"
    assert after["resolution"]["script"] == "您好，基站故障已修复"
    assert api.call("POST", path, "complaint_manager", body)[1]["code"] == "incident_resolved"
    # AND a later complaint at the interface no longer joins it
    later = complain(api)
    assert "incidentId" not in later
    # AND the customer still gets a reply
    first = made[0]["id"]
    wait_until(lambda: ticket(first).task_token is not None and ticket(first).step == "reply")
    status, replied, _ = api.call(
        "POST", f"/tickets/{first}/reply", "agent", {"content": "已修复", "method": "phone"}
    )
    assert status == 200 and replied["status"] == "replied", replied
    assert json.dumps(replied)  # serialisable view


def test_a_bulletin_published_from_an_incident_answers_the_next_complaints(api: Api, aws) -> None:
    # GIVEN an incident at one business hall's counter
    made = [complain(api, channel="business_hall", area="湖里区") for _ in range(10)]
    incident_id = made[-1]["incidentId"]
    # WHEN the network department publishes a bulletin from it, naming only title and script
    body = {"title": "湖里区基站故障", "script": "湖里区基站抢修中，预计18点前恢复。"}
    status, bulletin, headers = api.call(
        "POST", f"/incidents/{incident_id}/bulletin", "department", body, department="network"
    )
    # THEN the bulletin takes the incident's phenomenon and area, starting now
    assert status == 201, bulletin
    assert bulletin["phenomena"] == ["voice_coverage"] and bulletin["areas"] == ["湖里区"]
    assert bulletin["type"] == "fault" and bulletin["status"] == "active"
    assert headers["Location"] == f"/bulletins/{bulletin['id']}"
    # AND the incident's timeline records it
    _, detail, _ = api.call("GET", f"/incidents/{incident_id}", "complaint_manager")
    assert any(e.get("bulletinId") == bulletin["id"] for e in detail["timeline"])
    # AND the next such complaint, anywhere in that area, is answered from the bulletin
    answered = complain(api, channel="hotline", area="湖里区")
    assert answered["status"] == "answered" and answered["bulletinId"] == bulletin["id"]
    # AND another department is told the incident does not exist; an agent may not publish
    other, problem, _ = api.call(
        "POST", f"/incidents/{incident_id}/bulletin", "department", body, department="marketing"
    )
    assert other == 404, problem
    agent, _, _ = api.call("POST", f"/incidents/{incident_id}/bulletin", "agent", body)
    assert agent == 403
    # AND a body that is no bulletin is a 400 naming the field, and publishes nothing
    bad, problem, _ = api.call(
        "POST",
        f"/incidents/{incident_id}/bulletin",
        "complaint_manager",
        {"title": "x", "script": "y", "phenomena": ["aliens"]},
    )
    assert bad == 400 and "phenomena" in json.dumps(problem["errors"])
    # AND one the complaint manager publishes belongs to the route department, which closes it
    status, managers, _ = api.call(
        "POST", f"/incidents/{incident_id}/bulletin", "complaint_manager", body
    )
    assert status == 201 and managers["department"] == "network"
    closed = api.call(
        "POST", f"/bulletins/{managers['id']}/close", "department", {}, department="network"
    )
    assert closed[0] == 200 and closed[1]["status"] == "closed"
