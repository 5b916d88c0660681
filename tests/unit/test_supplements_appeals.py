"""Issue 10 part B, the pure rules: supplementary complaints and a senior's decision on chase and
withdrawal requests (seed 002 步骤2 五), appeals (seed 004 §5.1), re-dispatch after an answer at
intake (004 §4 六 2(2)) and the review opinion (004 §4 四). GIVEN a ticket at a step, WHEN an
action is decided, THEN the decision (or refusal) is the one the rules promise."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.domain.lifecycle import (
    APPEAL_SOURCES,
    MAX_PENDING_REQUESTS,
    SUPERVISORY_APPEAL_SOURCES,
    first_step,
)
from chalicelib.domain.vocabulary import SOURCES
from chalicelib.services.actions import appeal_ticket_body, as_appeal
from chalicelib.services.rules import Rules
from tests.unit.test_lifecycle import (
    HOME,
    NOW,
    act,
    at_step,
    refused,
    ticket,
    who,
)

REQUEST_ID = re.compile(r"^R[0-9A-HJKMNP-TV-Z]{26}$")


def _without_requests(step: str, **changes: Any) -> Any:
    return at_step(step, pending_requests={}, **changes)


def _request(t: Any, kind: str, step_changes: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The ticket after a `supplement` asking for `kind`, and the request's id."""
    d = act("supplement", t, who("agent"), {"text": "客户来电", "request": kind})
    rid = d.details["requestId"]
    return replace(t, **d.changes, **(step_changes or {})), rid


# -- supplement ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["review", "dispatch", "accept", "handle", "reply", "revisit"])
def test_a_supplement_records_information_without_moving_the_step(step: str) -> None:
    t = _without_requests(step, fields={"frequency": "frequent"})
    body = {"text": "客户补充：周末也无信号", "fields": {"handsetModel": "Mate 60"}}
    d = act("supplement", t, who("agent"), body)
    assert not d.completes_step and (d.to_status, d.next_step) == (t.status, t.step)
    assert d.changes == {"fields": {"frequency": "frequent", "handsetModel": "Mate 60"}}
    assert d.details == {"text": body["text"], "fields": ["handsetModel"], "request": None}
    assert d.notices == ()


def test_a_request_waits_for_a_senior_under_an_unguessable_id() -> None:
    t = _without_requests("handle")
    d = act("supplement", t, who("senior_agent"), {"text": "催办", "request": "chase"})
    (rid,) = d.changes["pending_requests"]
    assert REQUEST_ID.match(rid) and d.details["requestId"] == rid
    assert d.changes["pending_requests"][rid]["type"] == "chase"
    assert d.changes["pending_requests"][rid]["by"] == "senior_agent"
    other = act("supplement", t, who("agent"), {"text": "催办", "request": "chase"})
    assert other.details["requestId"] != rid


def test_requests_are_bounded() -> None:
    t = _without_requests("handle")
    for _ in range(MAX_PENDING_REQUESTS):
        t, _rid = _request(t, "chase")
    exc = refused(Conflict, "supplement", t, who("agent"), {"text": "再催", "request": "chase"})
    assert exc.code == "too_many_requests"
    # plain information is still taken
    assert act("supplement", t, who("agent"), {"text": "补充"}).action == "supplement"


@pytest.mark.parametrize("step", ["reply", "revisit", "archive"])
def test_a_withdrawal_comes_too_late_once_the_ticket_is_resolved(step: str) -> None:
    t = _without_requests(step)
    body = {"text": "撤单", "request": "withdraw"}
    assert refused(Conflict, "supplement", t, who("agent"), body).code == "too_late_to_withdraw"


@pytest.mark.parametrize("role", ["department", "complaint_admin", "leader", "operator"])
def test_only_the_desk_takes_supplements(role: str) -> None:
    refused(Forbidden, "supplement", _without_requests("handle"), who(role), {"text": "补充"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "x", "request": "cancel"}, "request"),
        ({"text": "x", "extra": 1}, "extra"),
        ({"text": ""}, "text"),
    ],
)
def test_a_bad_supplement_names_the_field(body: dict[str, Any], field: str) -> None:
    exc = refused(ValidationFailed, "supplement", _without_requests("handle"), who("agent"), body)
    assert field in {e.field for e in exc.errors}


# -- decide -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "holder"),
    [("accept", HOME), ("handle", HOME), ("review", "crc"), ("dispatch", "crc"), ("reply", "crc")],
)
def test_an_approved_chase_reminds_the_holder_at_once(step: str, holder: str) -> None:
    t, rid = _request(_without_requests(step), "chase")
    d = act("decide", t, who("senior_agent"), {"requestId": rid, "approve": True})
    assert not d.completes_step and (d.to_status, d.next_step) == (t.status, t.step)
    assert [(n.event_type, n.department) for n in d.notices] == [("chase", holder)]
    assert d.changes == {"pending_requests": {}}
    assert d.details["chased"] == holder


def test_a_refused_request_only_leaves_the_list() -> None:
    t, rid = _request(_without_requests("handle"), "withdraw")
    d = act("decide", t, who("complaint_manager"), {"requestId": rid, "approve": False})
    assert not d.completes_step and d.notices == () and d.changes == {"pending_requests": {}}
    assert d.details == {"requestId": rid, "type": "withdraw", "approve": False, "reason": None}


@pytest.mark.parametrize("step", ["review", "dispatch", "accept", "handle"])
def test_an_approved_withdrawal_cancels_the_ticket(step: str) -> None:
    t, rid = _request(_without_requests(step), "withdraw")
    t, _chase = _request(t, "chase")
    d = act("decide", t, who("senior_agent"), {"requestId": rid, "approve": True, "reason": "同意"})
    assert d.completes_step and (d.to_status, d.next_step, d.outcome) == (
        "cancelled",
        None,
        "withdrawn",
    )
    assert d.changes["closing"]["kind"] == "cancelled"
    assert d.changes["pending_requests"] == {}  # the chase is moot


def test_a_withdrawal_is_not_approved_once_the_ticket_is_resolved() -> None:
    t, rid = _request(_without_requests("handle"), "withdraw")
    t = replace(t, step="reply", status="resolved")
    body = {"requestId": rid, "approve": True}
    assert refused(Conflict, "decide", t, who("senior_agent"), body).code == "too_late_to_withdraw"
    # it can still be refused
    assert act("decide", t, who("senior_agent"), {**body, "approve": False}).action == "decide"


def test_a_request_is_decided_once() -> None:
    t, rid = _request(_without_requests("handle"), "chase")
    d = act("decide", t, who("senior_agent"), {"requestId": rid, "approve": True})
    t = replace(t, **d.changes)
    exc = refused(Conflict, "decide", t, who("senior_agent"), {"requestId": rid, "approve": True})
    assert exc.code == "request_not_pending"


@pytest.mark.parametrize("role", ["agent", "department", "complaint_admin", "leader"])
def test_only_seniors_decide(role: str) -> None:
    t, rid = _request(_without_requests("handle"), "chase")
    refused(Forbidden, "decide", t, who(role), {"requestId": rid, "approve": True})


@pytest.mark.parametrize("rid", ["R1", "x" * 27, "R01JD5ZQ3V8X9K2M4N6P7Q8R9SU!", 3])
def test_a_malformed_request_id_is_a_400(rid: Any) -> None:
    body = {"requestId": rid, "approve": True}
    exc = refused(ValidationFailed, "decide", at_step("handle"), who("senior_agent"), body)
    assert {e.field for e in exc.errors} == {"requestId"}


# -- appeals ------------------------------------------------------------------------------------

APPEAL = {"description": "对处理结果不满", "source": "consumer_association"}


@pytest.mark.parametrize(
    ("step", "status"), [("revisit", "replied"), ("archive", "revisited"), (None, "archived")]
)
def test_an_appeal_is_taken_on_a_replied_revisited_or_archived_ticket(
    step: str | None, status: str
) -> None:
    t = replace(at_step("archive"), step=step, status=status)
    d = act("appeal", t, who("agent"), APPEAL)
    assert not d.completes_step and d.changes == {}
    assert (d.to_status, d.next_step) == (status, step)
    assert d.details == {"source": "consumer_association", "level": "ordinary"}
    assert d.extra["appeal"].description == APPEAL["description"]


@pytest.mark.parametrize("step", ["review", "dispatch", "accept", "handle", "reply"])
def test_an_appeal_on_a_ticket_never_replied_is_a_conflict(step: str) -> None:
    exc = refused(Conflict, "appeal", at_step(step), who("complaint_manager"), APPEAL)
    assert exc.code == "action_not_allowed"


@pytest.mark.parametrize("status", ["cancelled", "rejected"])
def test_a_cancelled_or_rejected_ticket_is_not_appealed(status: str) -> None:
    t = replace(at_step("archive"), step=None, status=status)
    assert refused(Conflict, "appeal", t, who("agent"), APPEAL).code == "action_not_allowed"


def test_an_archived_ticket_without_a_reply_is_not_appealed() -> None:
    t = replace(at_step("archive"), step=None, status="archived", reply=None)
    assert refused(Conflict, "appeal", t, who("agent"), APPEAL).code == "not_replied"


@pytest.mark.parametrize("role", ["senior_agent", "department", "leader"])
def test_an_appeal_is_taken_by_an_agent_or_the_complaint_manager(role: str) -> None:
    refused(Forbidden, "appeal", at_step("revisit"), who(role), APPEAL)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "x", "source": "aliens"}, "source"),
        ({"description": "x", "source": "media", "level": "huge"}, "level"),
        ({"source": "media"}, "description"),
    ],
)
def test_a_bad_appeal_names_the_field(body: dict[str, Any], field: str) -> None:
    exc = refused(ValidationFailed, "appeal", at_step("revisit"), who("agent"), body)
    assert field in {e.field for e in exc.errors}


def test_appeal_sources_are_the_seeds_eight_in_the_shared_vocabulary() -> None:
    assert len(APPEAL_SOURCES) == 8 and set(APPEAL_SOURCES) <= set(SOURCES)
    assert set(SUPERVISORY_APPEAL_SOURCES) <= set(APPEAL_SOURCES)


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        ("customer", None),
        ("supervision_hotline", None),  # a supervisory source already (duties._SOURCE_CRITERIA)
        ("other_province", None),
        ("media", ["media"]),
        ("consumer_association", ["consumer_association"]),
        ("group_hq", ["supervisory_body"]),
        ("provincial_company", ["supervisory_body"]),
        ("communications_administration", ["supervisory_body"]),
    ],
)
def test_an_appeal_copies_the_customer_and_flags_supervisory_sources(
    source: str, flags: list[str] | None
) -> None:
    original = at_step("revisit", location={"area": "思明区"}, fields={"frequency": "frequent"})
    body = appeal_ticket_body(original, "还是没信号", source)
    assert body["serviceNumber"] == original.service_number
    assert body["complainant"] == original.complainant.to_api()
    assert (body["phenomenon"], body["source"], body["description"]) == (
        "voice_coverage",
        source,
        "还是没信号",
    )
    assert body["location"] == {"area": "思明区"} and body["fields"] == {"frequency": "frequent"}
    assert body.get("flags") == flags


@pytest.mark.parametrize(
    ("level", "hours", "priority"),
    [("major_urgent", 2, "urgent"), ("ordinary", None, "high"), ("complex", None, "high")],
)
def test_an_appeals_limit_follows_its_level(level: str, hours: int | None, priority: str) -> None:
    deps: Any = SimpleNamespace(rules=Rules())
    fresh = ticket(created_at=NOW, source="customer", due_at=None, sla_level=None)
    t = as_appeal(fresh, "T0000", "customer", level, deps)
    assert (t.appeal_of, t.priority) == ("T0000", priority)
    assert t.appeal == {"source": "customer", "level": level, "reportRequired": False}
    assert t.due_at is not None
    if hours is not None:
        assert t.due_at == NOW + timedelta(hours=hours)
    limits = {
        lv: as_appeal(fresh, "T0", "customer", lv, deps).due_at
        for lv in ("major_urgent", "ordinary", "complex")
    }
    assert limits["major_urgent"] < limits["ordinary"] < limits["complex"]  # type: ignore[operator]


@pytest.mark.parametrize("role", ["agent", "senior_agent", "complaint_manager"])
def test_an_appeal_starts_at_its_verification(role: str) -> None:
    assert first_step(ticket(appeal_of="T0000"), role) == "review"


def _appeal_at(step: str, source: str = "consumer_association", **changes: Any) -> Any:
    appeal = {"source": source, "level": "ordinary", "reportRequired": source != "customer"}
    return _without_requests(step, appeal_of="T0000", appeal=appeal, **changes)


def test_a_verified_appeal_goes_to_dispatch_with_the_review_record() -> None:
    body = {"valid": True, "opinion": "申诉属实"}
    d = act("review", _appeal_at("review"), who("senior_agent"), body)
    assert (d.to_status, d.next_step, d.outcome) == ("reviewing", "dispatch", "valid")
    assert d.changes["appeal"]["verified"] is True
    assert d.changes["review"]["opinion"] == "申诉属实" and d.changes["review"]["valid"] is True


def test_an_unverified_appeal_is_withdrawn_and_its_result_replied() -> None:
    body = {"valid": False, "reason": "核查信号正常", "opinion": "不予核实"}
    t = _appeal_at("review", source="customer")
    d = act("review", t, who("senior_agent"), body)
    assert (d.to_status, d.next_step, d.outcome) == ("resolved", "reply", "unverified")
    assert d.changes["answer"] == "核查信号正常"
    assert d.changes["appeal"] == {
        "source": "customer",
        "level": "ordinary",
        "reportRequired": True,  # an unverified appeal is always reported
        "verified": False,
    }
    # and its reply is reported to management
    t = replace(t, **d.changes, status="resolved", step="reply", resolution=None)
    r = act("reply", t, who("agent"), {"content": "核查结果", "method": "phone"})
    assert [(n.event_type, n.department) for n in r.notices] == [("appeal_report", "crc")]
    assert r.changes["appeal"]["reportedAt"] and r.details["reportedTo"] == "crc"


@pytest.mark.parametrize(("source", "reported"), [("customer", False), ("media", True)])
def test_a_replied_appeal_is_reported_unless_the_customer_brought_it(
    source: str, reported: bool
) -> None:
    t = _appeal_at("reply", source=source)
    d = act("reply", t, who("agent"), {"content": "已处理", "method": "phone"})
    assert bool(d.notices) is reported
    reported_once = replace(t, appeal={**t.appeal, "reportedAt": "2026-11-23T08:00:00+00:00"})
    again = act("reply", reported_once, who("agent"), {"content": "已处理", "method": "phone"})
    assert again.notices == ()


def test_an_ordinary_reply_reports_nothing() -> None:
    d = act("reply", at_step("reply"), who("agent"), {"content": "已处理", "method": "phone"})
    assert d.notices == () and "appeal" not in d.changes


# -- review opinion, re-dispatch ------------------------------------------------------------------


@pytest.mark.parametrize("valid", [True, False])
def test_a_review_records_its_opinion_on_the_ticket(valid: bool) -> None:
    body: dict[str, Any] = {"valid": valid, "opinion": "信息完整"}
    if not valid:
        body["reason"] = "无法联系"
    d = act("review", at_step("review"), who("senior_agent"), body)
    record = d.changes["review"]
    assert (record["valid"], record["opinion"], record["by"]) == (valid, "信息完整", "senior_agent")
    assert d.details["opinion"] == "信息完整"
    assert record.get("reason") == body.get("reason")


def test_a_review_without_opinion_records_the_verdict() -> None:
    d = act("review", at_step("review"), who("senior_agent"), {"valid": True})
    assert "opinion" not in d.changes["review"] and d.changes["review"]["valid"] is True


def test_an_unhappy_customer_after_an_intake_answer_goes_another_round() -> None:
    t = at_step(
        "revisit", resolution=None, answer="已解答", department=None, departments=(), rounds=1
    )
    d = act("revisit", t, who("agent"), {"satisfaction": "unsatisfied"})
    assert (d.next_step, d.to_status, d.changes["rounds"]) == ("dispatch", "reviewing", 2)
    # the round's reply and revisit are cleared (they stay in the history); dispatch as usual
    t = replace(t, **d.changes, status=d.to_status, step=d.next_step)
    assert (t.reply, t.revisit, t.answer) == (None, None, "已解答")
    sent = act("dispatch", t, who("senior_agent"), {"department": HOME, "note": "客户不满意"})
    assert (sent.next_step, sent.changes["department"]) == ("accept", HOME)
