"""The rule data applied through the API: catalog, classification, SLA deadlines at intake."""

from __future__ import annotations

from datetime import datetime

from tests.functional.conftest import Api


def test_catalog_is_served_whole(api: Api) -> None:
    status, catalog, _ = api.call("GET", "/catalog", "department", department="network")
    assert status == 200
    assert len(catalog["categories"]) == 10
    phenomena = [p for c in catalog["categories"] for p in c["phenomena"]]
    assert len(phenomena) >= 40
    first = phenomena[0]
    for key in ("keywords", "causes", "checks", "requiredFields", "route", "slaLevel", "scripts"):
        assert first[key], key
    assert [lvl["code"] for lvl in catalog["ladder"]][:3] == [
        "handler",
        "department_admin",
        "crc_manager",
    ]


def test_classify_ranks_suggestions(api: Api) -> None:
    status, result, _ = api.call("POST", "/catalog/classify", "agent", {"text": "收到很多垃圾短信"})
    assert status == 200
    assert result["items"][0]["phenomenon"] == "spam_messages"
    scores = [s["score"] for s in result["items"]]
    assert scores == sorted(scores, reverse=True)
    bad, problem, _ = api.call("POST", "/catalog/classify", "agent", {"text": "", "x": 1})
    assert bad == 400 and {e["field"] for e in problem["errors"]} == {"text", "x"}


def test_intake_classifies_an_unclassified_ticket_and_sets_deadlines(api: Api) -> None:
    ticket = api.create(description="最近老是收到垃圾短信，推销贷款的，很烦")
    assert ticket["category"] == "information_security"
    assert ticket["phenomenon"] == "spam_messages"
    assert ticket["classification"]["source"] == "classifier"
    assert ticket["classification"]["confirmed"] is False
    assert ticket["route"] and ticket["slaLevel"] in "ABCDEF"
    due = datetime.fromisoformat(ticket["dueAt"])
    created = datetime.fromisoformat(ticket["createdAt"])
    assert due > created and ticket["dueAt"].endswith("+08:00")


def test_an_agent_classification_is_kept_confirmed_and_missing_fields_listed(api: Api) -> None:
    ticket = api.create(category="basic_communication", phenomenon="voice_coverage", fields={})
    assert ticket["classification"] == {"source": "agent", "confirmed": True, "suggestions": []}
    assert ticket["route"] == "network"
    # the phenomenon's dispatch template asks more than the intake gave
    assert ticket["missingFields"]


def test_social_body_tickets_get_progress_and_final_deadlines(api: Api) -> None:
    ticket = api.create(channel="social_body", source="12315", phenomenon="voice_coverage")
    assert ticket["progressDueAt"] and ticket["finalDueAt"]
    assert ticket["progressDueAt"] <= ticket["dueAt"] < ticket["finalDueAt"]


def test_sla_preview(api: Api) -> None:
    status, preview, _ = api.call(
        "GET", "/sla/preview?at=2026-09-30T10:00:00%2B08:00&slaLevel=B&channel=hotline"
    )
    assert status == 200
    # one business day after the eve of National Day 2026 is the make-up Saturday... or after
    assert preview["slaLevel"] == "B"
    assert preview["dueAt"] == "2026-10-08T10:00:00+08:00"
    assert preview["calendar"]["timeZone"] == "Asia/Shanghai"
    s, problem, _ = api.call("GET", "/sla/preview?slaLevel=Z&channel=pigeon")
    assert s == 400 and {e["field"] for e in problem["errors"]} == {"slaLevel", "channel"}
