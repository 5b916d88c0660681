"""Escalation (DOMAIN.md §6): by time up the ladder, by criteria at once, and emergencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.conftest import Api, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

FAST = str(Path(__file__).resolve().parents[1] / "data" / "sla_fast.json")
DEADLINE = {"at": "2099-01-01T09:00:00+08:00", "detail": "客户出国前须开通国际漫游"}


@pytest.fixture
def fast_policy(monkeypatch) -> None:
    monkeypatch.setenv("SLA_POLICY", FAST)


def _history(api: Api, tid: str) -> list[dict]:
    return api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[1]["items"]


def test_a_ticket_left_alone_climbs_the_ladder_and_each_level_is_told_once(
    api: Api, aws, fast_policy
) -> None:
    # GIVEN a ticket dispatched to the network department, whose steps last 2 s here
    t = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS)
    tid = t["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "请处理"})
    drain(aws, "NetworkInbox")
    # WHEN nobody accepts it, it climbs: department admin, CRC manager, leader, vice-president
    escalations = wait_until(
        lambda: len(e := [x for x in _history(api, tid) if x["action"] == "escalated"]) >= 4 and e,
        timeout=30,
    )
    levels = [e["details"]["level"] for e in escalations[:4]]
    assert levels == [1, 2, 3, 4]
    assert [e["details"]["to"] for e in escalations[:4]] == [
        "department_admin",
        "crc_manager",
        "leader_in_charge",
        "vice_president",
    ]
    # past the top, the breach is recorded once and the ticket stays open
    wait_until(
        lambda: any(x["action"] == "ladder_exhausted" for x in _history(api, tid)), timeout=15
    )
    ticket = api.call("GET", f"/tickets/{tid}", "complaint_manager")[1]
    assert ticket["breached"] is True and ticket["status"] == "dispatched"
    assert ticket["escalationLevel"] == 4
    assert [x["action"] for x in _history(api, tid)].count("ladder_exhausted") == 1
    # THEN each level was notified once, with its level and department attributes
    network = [m for m in drain(aws, "NetworkInbox") if m["eventType"] in ("escalated", "reminder")]
    crc = [m for m in drain(aws, "CrcInbox") if m["eventType"] == "escalated"]
    leaders = [m for m in drain(aws, "LeadersInbox") if m["eventType"] in ("escalated", "breached")]
    assert sorted((m["eventType"], m["level"]) for m in network) == [
        ("escalated", 1),
        ("escalated", 3),
        ("escalated", 4),
        ("reminder", 0),
    ]
    assert [(m["level"], m["_attributes"]["department"]) for m in crc] == [(2, "crc")]
    assert sorted(int(m["_attributes"]["level"]) for m in leaders) == [3, 4, 4]
    # AND acting on it now continues the flow normally
    accepted = _act(api, tid, "accept", "department", {}, department="network")
    assert accepted["status"] == "processing"
    _waiting(api, tid, "handle")


def test_criteria_escalate_at_intake_and_go_to_the_complaint_manager(api: Api, aws) -> None:
    t = api.create(
        role="agent",
        channel="social_body",
        source="12315",
        phenomenon="voice_coverage",
        fields=FIELDS,
    )
    assert t["escalated"] is True and t["priority"] == "high"
    assert t["escalationCriteria"] == ["12315"] and t["escalationLevel"] == 2
    # the execution publishes intake's notice (the API does not): it lands a moment later
    told: list[dict] = []
    wait_until(
        lambda: told.extend(m for m in drain(aws, "CrcInbox") if m["ticketId"] == t["id"]) or told
    )
    assert [(m["eventType"], m["level"]) for m in told] == [("escalated", 2)]
    assert told[0]["_attributes"]["department"] == "crc" and told[0]["_attributes"]["level"] == "2"
    assert t["description"] not in json.dumps(told, ensure_ascii=False)  # codes, not text


def test_a_create_never_fails_on_a_publish_and_the_notice_still_arrives(
    api: Api, aws, monkeypatch
) -> None:
    from chalicelib.adapters.notifier import Notifier

    # GIVEN SNS refuses every publish the API makes
    def refuse(self: Notifier, body: dict, attributes: dict) -> None:
        raise RuntimeError("SNS is down")

    monkeypatch.setattr(Notifier, "_publish", refuse)
    # WHEN a ticket escalated on arrival is created
    t = api.create(
        role="agent",
        channel="social_body",
        source="12315",
        phenomenon="voice_coverage",
        fields=FIELDS,
    )
    # THEN the create answered 201 (the commit stands) and the CRC is told all the same
    assert t["escalated"] is True
    wait_until(lambda: [m for m in drain(aws, "CrcInbox") if m["ticketId"] == t["id"]])


def test_blacklisted_customers_and_media_involvement_escalate(api: Api, aws) -> None:
    assert api.call("PUT", "/blacklist/13800138000", "agent", {"reason": "x"})[0] == 403
    status, entry, _ = api.call(
        "PUT", "/blacklist/13800138000", "complaint_manager", {"reason": "频繁投诉"}
    )
    assert status == 200 and entry["serviceNumber"] == "13800138000"
    t = api.create(role="agent")
    assert t["blacklisted"] is True and t["escalationCriteria"] == ["blacklisted"]
    assert api.call("DELETE", "/blacklist/13800138000", "complaint_manager")[0] == 204
    # a later change (the media got involved) escalates an ordinary ticket at once
    # another customer: the same one again would be a repeat of `t` (issue 10)
    plain = api.create(
        role="senior_agent", serviceNumber="13900139000", phenomenon="voice_coverage", fields=FIELDS
    )
    assert plain["escalated"] is False
    _waiting(api, plain["id"], "dispatch")
    noted = _act(api, plain["id"], "note", "agent", {"text": "记者来电", "flags": ["media"]})
    assert noted["escalated"] is True and noted["escalationCriteria"] == ["media"]


def test_manual_escalation_needs_reason_and_criteria(api: Api) -> None:
    t = api.create(role="senior_agent", phenomenon="voice_coverage", fields=FIELDS)
    status, problem, _ = api.call("POST", f"/tickets/{t['id']}/escalate", "agent", {"reason": "x"})
    assert status == 400 and problem["errors"][0]["field"] == "criteria"
    done = _act(
        api,
        t["id"],
        "escalate",
        "agent",
        {"reason": "客户表示将向媒体反映", "criteria": ["public_impact"]},
    )
    assert done["escalated"] and done["escalationCriteria"] == ["public_impact"]
    assert done["status"] == "accepted" and done["step"] == "dispatch"


def test_an_urgent_complaint_meeting_criteria_is_an_emergency(api: Api, aws) -> None:
    t = api.create(role="agent", urgent=True, flags=["media"], customerDeadline=DEADLINE)
    assert t["emergency"] is True and t["priority"] == "urgent"
    record = t["emergencyRecord"]
    assert "cash_refund_of_charges" in record["preAuthorisedActions"]
    assert set(record["dutiesDueAt"]) == {"approvalFormToCrc", "leaderApproval"}
    told = wait_until(lambda: [m for m in drain(aws, "CrcInbox") if m["ticketId"] == t["id"]])
    assert told[0]["_attributes"]["severity"] == "high"
