"""The lifecycle's pure rules (DOMAIN.md §4, API.md actions): who may do what, at which step.

Every test reads GIVEN a ticket at a step and a principal, WHEN an action is decided, THEN the
decision (or the refusal) is the one the rules promise. No AWS: `decide` is a pure function.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.catalog import get_catalog
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chalicelib.domain.lifecycle import (
    ACTIONS,
    MAX_TRANSFERS,
    RULES,
    STEP_STATUS,
    Decision,
    allowed_at,
    decide,
    first_step,
)
from chalicelib.domain.tickets import Complainant, Ticket
from chalicelib.domain.values import iso
from chalicelib.domain.vocabulary import CLOSED_STATUSES, ROLES

CATALOG = get_catalog()
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
T0 = NOW - timedelta(hours=3)
STEPS = ("review", "dispatch", "accept", "handle", "reply", "revisit", "archive")
HOME = "network"  # the department that holds the ticket in most examples
OTHER = "billing_support"

BASE = Ticket(
    id="T0001",
    version=1,
    kind="complaint",
    status="accepted",
    channel="hotline",
    complainant=Complainant("王五", "ordinary", "13800138000", "phone"),
    service_number="13800138000",
    description="家里没有信号",
    created_at=T0,
    updated_at=T0,
    created_by="alice",
    category="basic_communication",
    phenomenon="voice_coverage",
    route=HOME,
    sla_level="B",
    due_at=T0 + timedelta(days=1),
    step="review",
    step_seq=1,
    step_started_at=T0,
    # issue 10 (part C): the step is not late at NOW (a late resolve/return/reply needs
    # overdueReason), and the ticket is an emergency (judge_emergency, emergency_action need one)
    step_due_at=T0 + timedelta(hours=4),
    workflow_status="started",
    # issue 10 part B: a chase request waiting for a senior (GOOD["decide"] decides it)
    pending_requests={
        "R01JD5ZQ3V8X9K2M4N6P7Q8R9ST": {
            "type": "chase",
            "text": "催办",
            "by": "amy",
            "role": "agent",
            "at": "2026-11-23T05:00:00+00:00",
        }
    },
    emergency=True,
)

RESOLUTION = {"cause": "weak_coverage", "result": "已优化基站", "department": HOME}
REPLY = {"content": "已处理", "method": "phone", "by": "carol"}
REVISIT = {"satisfaction": "satisfied", "by": "carol"}


def ticket(**changes: Any) -> Ticket:
    return replace(BASE, **changes)


def at_step(step: str, **changes: Any) -> Ticket:
    """A ticket as the lifecycle leaves it when it comes to wait at `step`."""
    natural: dict[str, dict[str, Any]] = {
        "review": {"status": "accepted"},
        "dispatch": {"status": "reviewing"},
        "accept": {"status": "dispatched", "department": HOME, "departments": (HOME,)},
        "handle": {"status": "processing", "department": HOME, "departments": (HOME,)},
        "reply": {
            "status": "resolved",
            "department": HOME,
            "departments": (HOME,),
            "resolution": RESOLUTION,
        },
        "revisit": {
            "status": "replied",
            "department": HOME,
            "departments": (HOME,),
            "resolution": RESOLUTION,
            "reply": REPLY,
        },
        "archive": {
            "status": "revisited",
            "department": HOME,
            "departments": (HOME,),
            "resolution": RESOLUTION,
            "reply": REPLY,
            "revisit": REVISIT,
        },
    }
    held = {"dispatched_by": "sam"} if step not in ("review", "dispatch") else {}
    return ticket(step=step, **{**held, **natural[step], **changes})


def who(role: str, department: str | None = None, username: str | None = None) -> Principal:
    if department is None and role in ("department", "complaint_admin"):
        department = HOME
    return Principal(f"sub-{role}", username or role, (role,), department)


# A principal with every role, in the department holding the tickets: only steps matter.
BOSS = Principal("sub-boss", "boss", ROLES, HOME)


def act(action: str, t: Ticket, p: Principal, body: Any = None) -> Decision:
    return decide(action, t, p, body, CATALOG, NOW)


def refused(
    exc_type: type[Exception], action: str, t: Ticket, p: Principal, body: Any = None
) -> Any:
    with pytest.raises(exc_type) as caught:
        act(action, t, p, body)
    return caught.value


def error_fields(action: str, t: Ticket, p: Principal, body: Any) -> set[str]:
    exc = refused(ValidationFailed, action, t, p, body)
    return {e.field for e in exc.errors}


# A body each action accepts (on the `at_step` ticket of a step the action is allowed at).
GOOD: dict[str, dict[str, Any]] = {
    "review": {"valid": True},
    "dispatch": {"department": HOME, "note": "请处理"},
    "accept": {},
    "resolve": {"cause": "weak_coverage", "result": "已优化"},
    "return": {"reason": "不属于本部门"},
    "transfer": {"department": OTHER, "reason": "计费问题"},
    "reply": {"content": "已处理完毕", "method": "sms"},
    "revisit": {"satisfaction": "satisfied"},
    "archive": {"analysis": "典型案例", "noRevisitReason": "客户无法联系"},
    "cancel": {"reason": "重复受理"},
    "note": {"text": "客户补充"},
    "escalate": {"reason": "媒体介入", "criteria": ["media"]},
    # issue 10 part B (flows)
    "supplement": {"text": "客户补充：周末也无信号"},
    "decide": {"requestId": "R01JD5ZQ3V8X9K2M4N6P7Q8R9ST", "approve": True},
    "appeal": {"description": "对处理结果不满", "source": "customer"},
    # part C (issue 10)
    "judge_emergency": {"confirm": True, "reason": "客户明早出国"},
    "emergency_action": {"type": "credit_limit_change", "companyAtFault": False},
}

# Written from API.md's actions table and DOMAIN.md §4, not read from RULES.
EXPECTED_ROLES: dict[str, set[str]] = {
    "review": {"senior_agent", "complaint_manager"},
    "dispatch": {"senior_agent", "complaint_manager", "complaint_admin"},
    "accept": {"department", "complaint_admin"},
    "resolve": {"department", "complaint_admin"},
    "return": {"department", "complaint_admin"},
    "transfer": {"department", "complaint_admin", "complaint_manager"},
    "reply": {"agent", "senior_agent", "complaint_manager"},
    "revisit": {"agent", "senior_agent", "complaint_manager"},
    "archive": {"complaint_manager", "complaint_admin"},
    "cancel": {"senior_agent", "complaint_manager"},
    # "any role that can see the ticket" — except the read-only operator and auditor.
    "note": {
        "agent",
        "senior_agent",
        "department",
        "complaint_admin",
        "complaint_manager",
        "leader",
    },
    "escalate": {"agent", "senior_agent", "complaint_manager"},
    # issue 10 part B (flows)
    "supplement": {"agent", "senior_agent", "complaint_manager"},
    "decide": {"senior_agent", "complaint_manager"},
    "appeal": {"agent", "complaint_manager"},
    # part C (issue 10)
    "judge_emergency": {"complaint_admin", "complaint_manager"},
    "emergency_action": {"complaint_admin", "complaint_manager"},
}
EXPECTED_STEPS: dict[str, set[str]] = {
    "review": {"review"},
    "dispatch": {"dispatch"},
    "accept": {"accept"},
    "resolve": {"accept", "handle"},
    "return": {"accept", "handle"},
    "transfer": {"accept", "handle"},
    "reply": {"reply"},
    "revisit": {"revisit"},
    "archive": {"revisit", "archive"},  # archiving straight from revisit needs noRevisitReason
    "cancel": {"review", "dispatch"},
    "note": set(STEPS),
    "escalate": set(STEPS),
    # issue 10 part B (flows); an appeal is also taken on an archived (closed) ticket
    "supplement": set(STEPS),
    "decide": set(STEPS),
    "appeal": {"revisit", "archive"},
    # part C (issue 10)
    "judge_emergency": set(STEPS),
    "emergency_action": set(STEPS),
}


# -- the tables -------------------------------------------------------------------------------


def test_rules_match_the_documented_tables() -> None:
    # GIVEN the documented tables  WHEN RULES is read  THEN both say the same
    assert set(RULES) == set(EXPECTED_ROLES) == set(ACTIONS)
    for action, (roles, steps) in RULES.items():
        assert set(roles) == EXPECTED_ROLES[action], action
        assert set(steps) == EXPECTED_STEPS[action], action
    assert set(STEP_STATUS) == set(STEPS)


@pytest.mark.parametrize("step", [*STEPS, None])
def test_allowed_at_lists_the_actions_of_a_step(step: str | None) -> None:
    expected = {a for a, steps in EXPECTED_STEPS.items() if step in steps}
    assert set(allowed_at(step)) == expected


# -- first step -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "complainant_type", "created_by_role", "expected"),
    [
        ("已在受理时解答", "ordinary", "agent", "reply"),
        ("已在受理时解答", "vip", "senior_agent", "reply"),
        (None, "vip", "senior_agent", "review"),
        (None, "big_customer", "complaint_manager", "review"),
        (None, "ordinary", "agent", "review"),
        (None, "agent", "agent", "review"),
        (None, "ordinary", "senior_agent", "dispatch"),
        (None, "ordinary", "complaint_manager", "dispatch"),
        (None, "agent", "senior_agent", "dispatch"),
    ],
)
def test_first_step(
    answer: str | None, complainant_type: str, created_by_role: str, expected: str
) -> None:
    # GIVEN a fresh intake
    t = ticket(answer=answer, complainant=replace(BASE.complainant, type=complainant_type))
    # WHEN its first step is chosen  THEN answered → reply, VIP/big/junior → review, else dispatch
    assert first_step(t, created_by_role) == expected


# -- every (step, action) pair ----------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("step", STEPS)
def test_each_action_is_allowed_only_at_its_steps(step: str, action: str) -> None:
    # GIVEN a ticket waiting at `step` and a principal holding every role
    t = at_step(step)
    if step in EXPECTED_STEPS[action]:
        # WHEN an allowed action is decided  THEN it is accepted
        decision = act(action, t, BOSS, GOOD[action])
        assert decision.action == action
    else:
        # WHEN any other action is decided  THEN 409 action_not_allowed, naming what is allowed
        exc = refused(Conflict, action, t, BOSS, GOOD[action])
        assert exc.code == "action_not_allowed"
        assert step in exc.detail
        for allowed in allowed_at(step):
            assert allowed in exc.detail


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_closed_tickets_allow_nothing(status: str, action: str) -> None:
    t = replace(at_step("archive"), status=status, step=None, closing={"kind": status})
    if (action, status) == ("appeal", "archived"):  # an archived ticket can be appealed
        assert act(action, t, BOSS, GOOD[action]).next_step is None
        return
    if (action, status) == ("note", "archived"):  # … and quality-checked
        d = act(action, t, BOSS, GOOD[action])
        assert (d.next_step, d.changes, d.completes_step) == (None, {}, False)
        assert d.details == {"text": GOOD["note"]["text"], "qualityCheck": True}
        return
    assert refused(Conflict, action, t, BOSS, GOOD[action]).code == "action_not_allowed"


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"complaint_manager"}))
def test_only_the_duty_manager_quality_checks_an_archived_ticket(role: str) -> None:
    t = replace(at_step("archive"), status="archived", step=None, closing={"kind": "archived"})
    # (roles that never note get the 403 they get everywhere; out of scope is a 404)
    error = refused((Conflict, NotFound, Forbidden), "note", t, who(role), {"text": "抽检"})
    assert not isinstance(error, Conflict) or error.code == "action_not_allowed"
    assert isinstance(error, Forbidden) == (role in ("operator", "auditor")), role
    # and a quality check is words only: no fields, duties or flags on an archived ticket
    for extra in (
        {"fields": {"signalBars": "1"}},
        {"duty": "leaderApproval"},
        {"flags": ["media"]},
    ):
        body = {"text": "抽检", **extra}
        assert refused(Conflict, "note", t, BOSS, body).code == "action_not_allowed"


def test_unknown_action_is_not_found() -> None:
    refused(NotFound, "teleport", at_step("handle"), BOSS, {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_refused_to_the_wrong_roles(action: str, role: str) -> None:
    # GIVEN a ticket at a step where the action is allowed, held by the principal's department
    step = sorted(EXPECTED_STEPS[action], key=STEPS.index)[-1]
    t = at_step(step, department=HOME, departments=(HOME,))
    p = who(role)
    if role in EXPECTED_ROLES[action]:
        # WHEN a permitted role acts  THEN the action is decided
        assert act(action, t, p, GOOD[action]).action == action
    else:
        # WHEN any other role acts  THEN 403, whatever the body
        refused(Forbidden, action, t, p, GOOD[action])
        refused(Forbidden, action, t, p, {"nonsense": True})


def test_scope_is_checked_before_the_role_and_the_role_before_the_step() -> None:
    # GIVEN a ticket at review network held before  WHEN network tries to reply  THEN 403, not 409
    t = at_step("review", departments=(HOME,))
    refused(Forbidden, "reply", t, who("department"), GOOD["reply"])
    # GIVEN one network never held  THEN 404, as if there were no such ticket
    refused(NotFound, "reply", at_step("review"), who("department"), GOOD["reply"])


# -- body validation --------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, str, Any, set[str]]] = [
    # (action, step, body, fields named in the 400)
    ("review", "review", {}, {"valid"}),
    ("review", "review", None, {"valid"}),
    ("review", "review", [], {"body"}),
    ("review", "review", "valid", {"body"}),
    ("review", "review", {"valid": "yes"}, {"valid"}),
    ("review", "review", {"valid": False}, {"reason"}),
    ("review", "review", {"valid": False, "reason": "   "}, {"reason"}),
    ("review", "review", {"valid": True, "colour": "red"}, {"colour"}),
    ("review", "review", {"valid": True, "unreasonable": 1}, {"unreasonable"}),
    ("review", "review", {"valid": True, "category": "nope"}, {"category"}),
    ("review", "review", {"valid": True, "phenomenon": "nope"}, {"phenomenon"}),
    (
        "review",
        "review",
        {"valid": True, "category": "marketing", "phenomenon": "voice_coverage"},
        {"phenomenon"},
    ),
    ("review", "review", {"valid": True, "fields": {"bad key": "x"}}, {"fields.bad key"}),
    ("review", "review", {"valid": True, "fields": {"k": ["x"]}}, {"fields.k"}),
    ("dispatch", "dispatch", {}, {"department", "note"}),
    ("dispatch", "dispatch", {"department": "nowhere", "note": "n"}, {"department"}),
    ("dispatch", "dispatch", {"department": HOME, "note": "n", "slaLevel": "Z"}, {"slaLevel"}),
    ("dispatch", "dispatch", {"department": 7, "note": "n", "to": "x"}, {"department", "to"}),
    ("dispatch", "dispatch", {"department": HOME, "note": "x" * 2001}, {"note"}),
    ("accept", "accept", {"why": "x"}, {"why"}),
    ("resolve", "handle", {}, {"cause", "result"}),
    ("resolve", "handle", {"cause": "", "result": "r"}, {"cause"}),
    ("resolve", "accept", {"cause": "c", "result": "r", "cost": 3}, {"cost"}),
    ("return", "handle", {}, {"reason"}),
    ("return", "accept", {"reason": 5}, {"reason"}),
    ("transfer", "handle", {}, {"department", "reason"}),
    ("transfer", "handle", {"department": "nowhere", "reason": "r"}, {"department"}),
    ("reply", "reply", {}, {"content", "method"}),
    ("reply", "reply", {"content": "c", "method": "pigeon"}, {"method"}),
    ("revisit", "revisit", {}, {"satisfaction"}),
    ("revisit", "revisit", {"satisfaction": "meh"}, {"satisfaction"}),
    ("revisit", "revisit", {"satisfaction": "satisfied", "score": 5}, {"score"}),
    ("archive", "archive", {}, {"analysis"}),
    ("archive", "archive", {"analysis": "a", "addToCaseLibrary": "yes"}, {"addToCaseLibrary"}),
    ("cancel", "review", {}, {"reason"}),
    ("cancel", "dispatch", {"reason": "r", "valid": False}, {"valid"}),
    ("note", "handle", {}, {"text"}),
    ("note", "handle", {"text": "t", "duty": "laundry"}, {"duty"}),
    ("note", "handle", {"text": "t", "flags": ["media", "gossip"]}, {"flags[1]"}),
    ("note", "handle", {"text": "t", "flags": "media"}, {"flags"}),
    ("escalate", "handle", {"reason": "r"}, {"criteria"}),
    ("escalate", "handle", {"reason": "r", "criteria": []}, {"criteria"}),
    ("escalate", "handle", {"reason": "r", "criteria": ["aliens"]}, {"criteria[0]"}),
    ("escalate", "handle", {"criteria": ["media"]}, {"reason"}),
]


@pytest.mark.parametrize(("action", "step", "body", "fields"), BAD_BODIES)
def test_bad_bodies_name_every_failing_field(
    action: str, step: str, body: Any, fields: set[str]
) -> None:
    # GIVEN a ticket where the action is allowed  WHEN the body is wrong
    # THEN 400 naming every failing field, and no other field
    named = error_fields(action, at_step(step), BOSS, body)
    assert fields <= named
    assert {_root(f) for f in named} <= {_root(f) for f in fields}


def _root(field: str) -> str:
    return field.split("[")[0].split(".")[0]


@pytest.mark.parametrize("hours", [0, -1, 721, 1.5, True, "5", [3]])
def test_transfer_time_limit_must_be_whole_hours_from_1_to_720(hours: Any) -> None:
    body = {**GOOD["transfer"], "timeLimitHours": hours}
    assert error_fields("transfer", at_step("handle"), who("department"), body) == {
        "timeLimitHours"
    }


@pytest.mark.parametrize("hours", [1, 24, 720])
def test_transfer_time_limit_within_bounds_is_kept(hours: int) -> None:
    body = {**GOOD["transfer"], "timeLimitHours": hours}
    d = act("transfer", at_step("handle"), who("department"), body)
    assert d.transfer_hours == hours
    assert d.details["timeLimitHours"] == hours


# -- what each action decides -----------------------------------------------------------------


def test_valid_review_goes_to_dispatch_and_confirms_the_classification() -> None:
    t = at_step("review", classification={"source": "classifier"})
    d = act("review", t, who("senior_agent"), {"valid": True})
    assert (d.to_status, d.next_step, d.outcome) == ("reviewing", "dispatch", "valid")
    assert d.changes["classification"] == {
        "source": "classifier",
        "confirmed": True,
        "confirmedBy": "senior_agent",
    }
    assert not d.reclassified


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        ({"valid": False, "reason": "信息不全"}, "cancelled", "invalid"),
        ({"valid": False, "unreasonable": True, "reason": "无理诉求"}, "rejected", "unreasonable"),
    ],
)
def test_invalid_review_closes_the_ticket(body: dict[str, Any], status: str, outcome: str) -> None:
    d = act("review", at_step("review"), who("complaint_manager", username="mgr"), body)
    assert (d.to_status, d.next_step, d.outcome) == (status, None, outcome)
    assert d.changes["closing"]["kind"] == status
    assert d.changes["closing"]["reason"] == body["reason"]
    assert d.changes["closing"]["by"] == "mgr"


def test_review_reclassifies_by_phenomenon_or_category() -> None:
    t = at_step("review")
    by_phenomenon = act("review", t, BOSS, {"valid": True, "phenomenon": "sms_charges"})
    assert by_phenomenon.reclassified
    assert by_phenomenon.changes["category"] == "communication_charges"
    assert by_phenomenon.changes["phenomenon"] == "sms_charges"
    assert by_phenomenon.changes["route"] == CATALOG.phenomenon("sms_charges").route
    by_category = act("review", t, BOSS, {"valid": True, "category": "marketing"})
    assert by_category.changes["category"] == "marketing"
    assert by_category.changes["phenomenon"] is None
    assert by_category.changes["route"] == CATALOG.category("marketing").route


def test_review_fields_merge_into_the_ticket_fields() -> None:
    t = at_step("review", fields={"location": "厦门", "handsetModel": "X"})
    d = act("review", t, BOSS, {"valid": True, "fields": {"handsetModel": "Y", "frequency": 3}})
    assert d.changes["fields"] == {"location": "厦门", "handsetModel": "Y", "frequency": 3}


def test_dispatch_sends_to_the_department_and_records_the_dispatcher() -> None:
    t = at_step("dispatch")
    body = {"department": OTHER, "note": "请核查", "slaLevel": "C"}
    d = act("dispatch", t, who("senior_agent", username="sam"), body)
    assert (d.to_status, d.next_step) == ("dispatched", "accept")
    assert d.changes == {
        "department": OTHER,
        "departments": (OTHER,),
        "dispatched_by": "sam",
        "sla_level": "C",
    }
    assert [(n.event_type, n.department) for n in d.notices] == [("dispatched", OTHER)]


def test_accept_starts_handling() -> None:
    d = act("accept", at_step("accept"), who("department"), {})
    assert (d.to_status, d.next_step, d.changes) == ("processing", "handle", {})


@pytest.mark.parametrize("step", ["accept", "handle"])
def test_resolve_records_the_resolution_with_its_department(step: str) -> None:
    d = act("resolve", at_step(step), who("department", username="dora"), GOOD["resolve"])
    assert (d.to_status, d.next_step) == ("resolved", "reply")
    assert d.changes["resolution"]["department"] == HOME
    assert d.changes["resolution"]["by"] == "dora"
    assert d.changes["resolution"]["at"] == iso(NOW)


def test_return_goes_back_to_the_dispatch_desk() -> None:
    d = act("return", at_step("handle"), who("department"), {"reason": "不是我们的"})
    assert (d.to_status, d.next_step, d.outcome) == ("returned", "dispatch", "returned")
    assert d.changes == {"department": None, "departments": (HOME,)}
    assert d.details["to"] == "sam"
    assert [(n.event_type, n.department) for n in d.notices] == [("returned", "crc")]


def test_transfer_moves_the_ticket_and_counts() -> None:
    d = act("transfer", at_step("handle", transfers=1), who("department"), GOOD["transfer"])
    assert (d.to_status, d.next_step, d.outcome) == ("dispatched", "accept", "transferred")
    assert d.changes == {"department": OTHER, "departments": (HOME, OTHER), "transfers": 2}
    assert [(n.event_type, n.department) for n in d.notices] == [("transferred", OTHER)]
    assert d.transfer_hours is None


def test_reply_then_revisit_then_archive() -> None:
    d = act("reply", at_step("reply"), who("agent"), GOOD["reply"])
    assert (d.to_status, d.next_step) == ("replied", "revisit")
    assert d.changes["reply"]["method"] == "sms"
    d = act("revisit", at_step("revisit"), who("agent"), {"satisfaction": "basically_satisfied"})
    assert (d.to_status, d.next_step, d.outcome) == ("revisited", "archive", "satisfied")
    d = act("archive", at_step("archive"), who("complaint_manager"), {"analysis": "a"})
    assert (d.to_status, d.next_step) == ("archived", None)
    assert d.changes["closing"]["kind"] == "archived"
    assert d.changes["closing"]["caseLibrary"] is False


def test_cancel_closes_the_ticket() -> None:
    d = act("cancel", at_step("dispatch"), who("senior_agent"), {"reason": "重复"})
    assert (d.to_status, d.next_step) == ("cancelled", None)
    assert d.changes["closing"]["kind"] == "cancelled"


# -- the rules --------------------------------------------------------------------------------


def _returned(**changes: Any) -> Ticket:
    t = at_step("dispatch", status="returned", dispatched_by="sam", departments=(HOME,))
    return replace(t, **changes)


def test_a_return_goes_back_only_to_its_dispatcher() -> None:
    # GIVEN a ticket sam dispatched and the department returned
    t = _returned()
    # WHEN another senior dispatches it  THEN 409 returned_to_dispatcher
    other = who("senior_agent", username="olga")
    assert refused(Conflict, "dispatch", t, other, GOOD["dispatch"]).code == (
        "returned_to_dispatcher"
    )
    # WHEN sam, or a complaint manager, dispatches it  THEN it goes
    assert act("dispatch", t, who("senior_agent", username="sam"), GOOD["dispatch"])
    assert act("dispatch", t, who("complaint_manager", username="mia"), GOOD["dispatch"])


def test_only_a_returned_ticket_is_reserved_for_its_dispatcher() -> None:
    t = at_step("dispatch", status="reviewing", dispatched_by="sam")
    assert act("dispatch", t, who("senior_agent", username="olga"), GOOD["dispatch"])


def test_a_department_admin_may_redispatch_what_its_department_returned() -> None:
    t = _returned(dispatched_by=None)
    d = act("dispatch", t, who("complaint_admin"), {"department": OTHER, "note": "n"})
    assert d.changes["departments"] == (HOME, OTHER)


@pytest.mark.parametrize(("transfers", "allowed"), [(0, True), (2, True), (3, False), (4, False)])
def test_at_most_three_transfers(transfers: int, allowed: bool) -> None:
    assert MAX_TRANSFERS == 3
    t = at_step("handle", transfers=transfers)
    p = who("complaint_manager")
    if allowed:
        assert act("transfer", t, p, GOOD["transfer"]).changes["transfers"] == transfers + 1
    else:
        assert refused(Conflict, "transfer", t, p, GOOD["transfer"]).code == "too_many_transfers"


def test_no_transfer_back_to_a_department_the_ticket_left() -> None:
    # GIVEN a ticket network transferred to billing_support
    t = at_step("handle", department=OTHER, departments=(HOME, OTHER), transfers=1)
    body = {"department": HOME, "reason": "还给你们"}
    # WHEN billing_support (user or admin) sends it back  THEN 409 no_backward_flow
    for role in ("department", "complaint_admin"):
        exc = refused(Conflict, "transfer", t, who(role, department=OTHER), body)
        assert exc.code == "no_backward_flow"
    # WHEN a complaint manager sends it back  THEN it goes
    d = act("transfer", t, who("complaint_manager"), body)
    assert d.changes == {"department": HOME, "departments": (HOME, OTHER), "transfers": 2}


def test_no_transfer_to_the_same_department() -> None:
    t = at_step("handle")
    body = {"department": HOME, "reason": "r"}
    assert refused(Conflict, "transfer", t, who("department"), body).code == "same_department"


@pytest.mark.parametrize(
    ("resolution", "answer", "ok"),
    [(RESOLUTION, None, True), (None, "受理时已解答", True), (None, None, False)],
)
def test_reply_needs_a_resolution_or_an_intake_answer(
    resolution: dict[str, Any] | None, answer: str | None, ok: bool
) -> None:
    status = "answered" if answer else "resolved"
    t = at_step("reply", resolution=resolution, answer=answer, status=status)
    if ok:
        assert act("reply", t, who("agent"), GOOD["reply"]).next_step == "revisit"
    else:
        assert refused(Conflict, "reply", t, who("agent"), GOOD["reply"]).code == (
            "nothing_to_reply"
        )


@pytest.mark.parametrize(
    ("step", "reply", "revisit", "body", "code"),
    [
        ("archive", None, REVISIT, {"analysis": "a"}, "no_reply"),
        ("revisit", None, None, {"analysis": "a", "noRevisitReason": "r"}, "no_reply"),
        ("revisit", REPLY, None, {"analysis": "a"}, "no_revisit"),
        ("archive", REPLY, None, {"analysis": "a"}, "no_revisit"),
        ("revisit", REPLY, None, {"analysis": "a", "noRevisitReason": "联系不上"}, None),
        ("archive", REPLY, REVISIT, {"analysis": "a", "addToCaseLibrary": True}, None),
    ],
)
def test_archive_needs_a_reply_and_a_revisit_or_a_reason(
    step: str,
    reply: dict[str, Any] | None,
    revisit: dict[str, Any] | None,
    body: dict[str, Any],
    code: str | None,
) -> None:
    t = at_step(step, reply=reply, revisit=revisit)
    p = who("complaint_admin")
    if code is None:
        d = act("archive", t, p, body)
        assert (d.to_status, d.next_step) == ("archived", None)
        assert d.changes["closing"]["noRevisitReason"] == body.get("noRevisitReason")
        assert d.changes["closing"]["caseLibrary"] is body.get("addToCaseLibrary", False)
    else:
        assert refused(Conflict, "archive", t, p, body).code == code


def test_dispatch_refused_while_required_fields_are_missing() -> None:
    # GIVEN a ticket whose phenomenon's required fields are not all known
    t = at_step("dispatch", missing_fields=("handsetModel", "location"))
    # WHEN it is dispatched  THEN 409 missing_required_fields listing fields.X
    exc = refused(Conflict, "dispatch", t, who("senior_agent"), GOOD["dispatch"])
    assert exc.code == "missing_required_fields"
    assert [e.field for e in exc.errors] == ["fields.handsetModel", "fields.location"]


def test_body_errors_come_before_missing_fields() -> None:
    t = at_step("dispatch", missing_fields=("handsetModel",))
    assert error_fields("dispatch", t, who("senior_agent"), {}) == {"department", "note"}


@pytest.mark.parametrize("role", ["department", "complaint_admin"])
def test_department_users_act_only_on_their_current_tickets(role: str) -> None:
    # GIVEN a ticket network handled and transferred to billing_support
    t = at_step("handle", department=OTHER, departments=(HOME, OTHER))
    former = who(role, department=HOME)
    # WHEN network acts on it  THEN 409 not_your_department
    for action in ("resolve", "return", "transfer", "accept"):
        body = {**GOOD[action], "department": "marketing"} if action == "transfer" else None
        at = replace(t, step="accept", status="dispatched") if action == "accept" else t
        exc = refused(Conflict, action, at, former, body or GOOD[action])
        assert exc.code == "not_your_department", action
    # WHEN network adds a note  THEN 409 too: it still sees the ticket, but no longer holds it
    assert refused(Conflict, "note", t, former, GOOD["note"]).code == "not_your_department"
    # WHEN billing_support acts  THEN it may
    assert act("resolve", t, who(role, department=OTHER), GOOD["resolve"]).next_step == "reply"


@pytest.mark.parametrize("role", ["department", "complaint_admin"])
@pytest.mark.parametrize("action", ["resolve", "note", "accept", "return"])
def test_tickets_a_department_never_held_are_not_found(role: str, action: str) -> None:
    t = at_step("handle", department=OTHER, departments=(HOME, OTHER))
    refused(NotFound, action, t, who(role, department="marketing"), GOOD[action])
    refused(NotFound, action, t, Principal("s", "u", (role,), None), GOOD[action])


def test_a_user_with_a_desk_role_too_is_not_department_scoped() -> None:
    t = at_step("handle", department=OTHER, departments=(OTHER,))
    p = Principal("s", "u", ("department", "complaint_manager"), "marketing")
    assert act("transfer", t, p, {"department": HOME, "reason": "r"}).next_step == "accept"


def test_an_unsatisfied_revisit_redispatches_to_the_resolving_department() -> None:
    # GIVEN a ticket billing_support resolved (after a transfer from network), replied, in round 1
    resolution = {**RESOLUTION, "department": OTHER}
    t = at_step(
        "revisit", department=OTHER, departments=(HOME, OTHER), resolution=resolution, rounds=0
    )
    # WHEN the customer is unsatisfied
    d = act("revisit", t, who("agent"), {"satisfaction": "unsatisfied", "comment": "没解决"})
    # THEN the ticket goes back to billing_support for another round
    assert (d.to_status, d.next_step, d.outcome) == ("dispatched", "accept", "unsatisfied")
    assert d.changes["department"] == OTHER
    assert d.changes["departments"] == (HOME, OTHER)
    assert d.changes["rounds"] == 1
    assert d.changes["resolution"] is None and d.changes["reply"] is None
    # the unhappy revisit stays in the history; the next round needs its own
    assert d.changes["revisit"] is None and d.details["satisfaction"] == "unsatisfied"
    assert d.details == {"satisfaction": "unsatisfied", "redispatchedTo": OTHER, "round": 2}
    assert [(n.event_type, n.department) for n in d.notices] == [("dispatched", OTHER)]


def test_an_unsatisfied_revisit_falls_back_to_the_current_department() -> None:
    t = at_step("revisit", resolution=None, answer="已解答", department=HOME, rounds=2)
    d = act("revisit", t, who("agent"), {"satisfaction": "unsatisfied"})
    assert d.changes["department"] == HOME and d.changes["rounds"] == 3


def test_an_unsatisfied_revisit_of_an_intake_answer_goes_back_to_dispatch() -> None:
    # Regression (issue 10 item 5, seed 004 §4 六 2(2)): this was refused 409 no_department.
    # GIVEN a ticket answered at intake (no department ever held it), replied, in round 1
    t = at_step(
        "revisit", resolution=None, answer="已解答", department=None, departments=(), rounds=0
    )
    # WHEN the customer is unsatisfied
    d = act("revisit", t, who("agent"), {"satisfaction": "unsatisfied"})
    # THEN it goes back to the dispatch step for another round, the reply cleared
    assert (d.to_status, d.next_step, d.outcome) == ("reviewing", "dispatch", "redispatch")
    assert d.changes["rounds"] == 1 and d.details["round"] == 2
    assert d.changes["reply"] is None and d.changes["revisit"] is None
    assert "department" not in d.changes
    assert [(n.event_type, n.department) for n in d.notices] == [("returned", "crc")]
    # AND a ticket with neither a department nor an answer still has nowhere to go
    bare = replace(t, answer=None, reply=REPLY)
    exc = refused(Conflict, "revisit", bare, who("agent"), {"satisfaction": "unsatisfied"})
    assert exc.code == "no_department"


def test_a_note_marks_duties_merges_fields_and_flags_without_moving() -> None:
    # GIVEN a ticket being handled, with a flag and a field already
    t = at_step(
        "handle",
        flags=("media",),
        fields={"location": "厦门"},
        duties_done={"approvalFormToCrc": "2026-11-22T10:00:00+08:00"},
    )
    body = {
        "text": "已报送进展",
        "duty": "progress_report",
        "flags": ["12315", "media", "12315"],
        "fields": {"handsetModel": "X9"},
    }
    # WHEN a complaint manager notes progress
    d = act("note", t, who("complaint_manager"), body)
    # THEN the duty is done now, flags and fields are merged, and the ticket stays where it is
    assert d.changes["duties_done"] == {
        "approvalFormToCrc": "2026-11-22T10:00:00+08:00",
        "progress_report": iso(NOW),
    }
    assert d.changes["flags"] == ("media", "12315")
    assert d.changes["fields"] == {"location": "厦门", "handsetModel": "X9"}
    assert (d.to_status, d.next_step, d.completes_step) == ("processing", "handle", False)
    assert d.details["duty"] == "progress_report"
    assert d.details["fields"] == ["handsetModel"]


def test_a_plain_note_changes_nothing() -> None:
    d = act("note", at_step("reply"), who("leader"), {"text": "关注"})
    assert d.changes == {}
    assert (d.to_status, d.next_step, d.completes_step) == ("resolved", "reply", False)


@pytest.mark.parametrize("duty", ["progress_report", "final_answer", "approvalFormToCrc"])
def test_every_duty_name_can_be_noted(duty: str) -> None:
    d = act("note", at_step("handle"), who("complaint_admin"), {"text": "t", "duty": duty})
    assert duty in d.changes["duties_done"]


def test_escalate_names_its_criteria_and_stays_at_the_step() -> None:
    body = {"reason": "媒体介入", "criteria": ["media", "12315", "media"]}
    d = act("escalate", at_step("dispatch"), who("senior_agent"), body)
    assert (d.outcome, d.completes_step) == ("escalated", False)
    assert (d.to_status, d.next_step) == ("reviewing", "dispatch")
    assert d.extra == {"criteria": ("media", "12315")}
    assert d.changes == {"escalated_at": NOW}  # issue 10: the customer's progress counts from it


# -- property: every decision is consistent ---------------------------------------------------

# The statuses a ticket shows while it waits at a step: STEP_STATUS, plus a returned ticket back
# at dispatch and the intake-time statuses (accepted at a first review/dispatch, answered at reply).
STATUSES_AT: dict[str, set[str]] = {
    step: {status}
    | ({"accepted"} if step in ("review", "dispatch") else set())
    | ({"returned"} if step == "dispatch" else set())
    | ({"answered"} if step == "reply" else set())
    for step, status in STEP_STATUS.items()
}
# The statuses a step-completing decision leads to when they are not STEP_STATUS[next_step].
STATUS_BY_OUTCOME = {
    "returned": "returned",
    "transferred": "dispatched",
    "unsatisfied": "dispatched",
}
CONFLICT_CODES = {
    "not_emergency",  # part C (issue 10)
    "action_not_allowed",
    "not_your_department",
    "returned_to_dispatcher",
    "missing_required_fields",
    "same_department",
    "too_many_transfers",
    "no_backward_flow",
    "nothing_to_reply",
    "no_department",
    "no_reply",
    "no_revisit",
    # issue 10 part B (flows)
    "too_late_to_withdraw",
    "too_many_requests",
    "request_not_pending",
    "not_replied",
}
DEPARTMENTS = (HOME, OTHER, "marketing")
USERS = ("sam", "olga")

junk_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 800),
    st.text(max_size=5),
    st.sampled_from([*DEPARTMENTS, "media", "unsatisfied", "phone", "A"]),
    st.lists(st.sampled_from(["media", "12315", "aliens"]), max_size=3),
)


def _usually(draw: st.DrawFn, likely: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> Any:
    """Mostly a value that lets the decision go through, sometimes any value."""
    return draw(likely) if draw(st.integers(0, 4)) else draw(other)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, Ticket, Principal, Any]:
    """An action, a ticket, a principal and a body: biased towards what the rules allow."""
    action = draw(st.sampled_from([*ACTIONS, "teleport"]))
    steps = sorted(EXPECTED_STEPS.get(action, STEPS), key=STEPS.index)
    if draw(st.integers(0, 14)) == 0:
        status = draw(st.sampled_from(CLOSED_STATUSES))
        step: str | None = None
    else:
        step = _usually(draw, st.sampled_from(steps), st.sampled_from(STEPS))
        status = draw(st.sampled_from(sorted(STATUSES_AT[step])))
    department = draw(st.none() | st.sampled_from(DEPARTMENTS))
    held = draw(st.lists(st.sampled_from(DEPARTMENTS), unique=True, max_size=3))
    resolution = draw(
        st.none() | st.sampled_from(DEPARTMENTS).map(lambda d: {**RESOLUTION, "department": d})
    )
    t = ticket(
        step=step,
        status=status,
        department=department,
        departments=tuple(held),
        dispatched_by=draw(st.none() | st.sampled_from(USERS)),
        transfers=draw(st.integers(0, 4)),
        rounds=draw(st.integers(0, 3)),
        resolution=resolution,
        reply=draw(st.none() | st.just(REPLY)),
        revisit=draw(st.none() | st.just(REVISIT)),
        answer=draw(st.none() | st.just("已解答")),
        missing_fields=_usually(
            draw, st.just(()), st.lists(st.sampled_from(["location", "handsetModel"])).map(tuple)
        ),
        flags=tuple(draw(st.lists(st.sampled_from(["media", "12315"]), unique=True))),
    )
    permitted = sorted(EXPECTED_ROLES.get(action, ROLES))
    roles = _usually(draw, st.sampled_from(permitted).map(lambda r: (r,)), st.just(()))
    roles = tuple(dict.fromkeys(roles + tuple(draw(st.lists(st.sampled_from(ROLES), max_size=1)))))
    p = Principal(
        "sub",
        draw(st.sampled_from(USERS)),
        roles or (draw(st.sampled_from(ROLES)),),
        _usually(draw, st.just(department), st.none() | st.sampled_from(DEPARTMENTS)),
    )
    return action, t, p, draw(bodies(action))


@st.composite
def bodies(draw: st.DrawFn, action: str) -> Any:
    good = GOOD.get(action, {})
    variants = st.one_of(
        st.just(good),
        # a good body with one field changed to something random
        st.tuples(st.sampled_from([*good, "extra"]), junk_value).map(
            lambda kv: {**good, kv[0]: kv[1]}
        ),
        # good bodies of other actions (wrong fields), and shapes that are not objects at all
        st.sampled_from(list(GOOD.values())),
        st.dictionaries(st.sampled_from(["valid", "reason", "department", "text"]), junk_value),
        st.sampled_from([None, [], "x", 3]),
    )
    return _usually(draw, st.just(good), variants)


def _check_refusal(exc: DomainError, action: str, t: Ticket, p: Principal) -> None:
    if isinstance(exc, Forbidden):
        # a principal lacking every permitted role, or a part of a note it does not own
        assert not set(p.roles) & EXPECTED_ROLES[action] or action in ("note", "dispatch")
    elif isinstance(exc, NotFound):
        # unknown actions, and tickets a department-scoped user's department never held
        if action in RULES:
            assert p.department_scoped
            assert p.department is None or p.department not in (*t.departments, t.department)
    elif isinstance(exc, Conflict):
        assert exc.code in CONFLICT_CODES
        if exc.code == "action_not_allowed":
            assert t.closed or t.step not in EXPECTED_STEPS[action]
            assert (action, t.status) != ("appeal", "archived")
        if exc.code == "not_your_department":
            # only department-scoped roles allow it, and another department holds the ticket
            assert set(p.roles) & EXPECTED_ROLES[action] <= {"department", "complaint_admin"}
            assert t.department != p.department or p.department is None
    else:
        assert isinstance(exc, ValidationFailed) and exc.errors


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_every_decision_is_consistent_or_a_domain_error(
    scenario: tuple[str, Ticket, Principal, Any],
) -> None:
    # GIVEN any ticket, any principal, any action, any body
    action, t, p, body = scenario
    # WHEN the action is decided
    try:
        d = act(action, t, p, body)
    except DomainError as exc:
        event(f"refused: {type(exc).__name__} {getattr(exc, 'code', '')}")
        # THEN a refusal is one of the domain's, for a reason the inputs explain
        _check_refusal(exc, action, t, p)
        return
    event(f"decided: {action}")
    # THEN otherwise the decision is what the rules allow …
    assert action in RULES and d.action == action
    assert set(p.roles) & EXPECTED_ROLES[action]
    if action == "appeal":  # the service creates a linked ticket; this one stays as it was
        assert t.status in ("replied", "revisited", "archived") and not d.completes_step
        assert (d.to_status, d.next_step, d.changes) == (t.status, t.step, {})
        return
    if action == "note" and t.closed:  # the complaint manager's quality check of an archive
        assert t.status == "archived" and "complaint_manager" in p.roles
        assert (d.to_status, d.next_step, d.changes) == (t.status, t.step, {})
        assert d.details.get("qualityCheck") is True and not d.completes_step
        return
    assert not t.closed and t.step in EXPECTED_STEPS[action]
    # … the ticket closes exactly when the new status is a closed one …
    assert (d.next_step is None) == (d.to_status in CLOSED_STATUSES)
    assert d.next_step is None or d.next_step in STEP_STATUS
    if not d.completes_step:
        # … a note or escalation leaves the ticket where and as it was …
        assert action in (
            "note",
            "escalate",
            "supplement",
            "decide",
            "judge_emergency",
            "emergency_action",
        )
        assert (d.to_status, d.next_step) == (t.status, t.step)
        assert d.to_status in STATUSES_AT[d.next_step or ""]
    elif d.next_step is not None:
        # … and a completed step shows the next step's status, but for the documented outcomes.
        expected = STATUS_BY_OUTCOME.get(d.outcome, STEP_STATUS[d.next_step])
        assert d.to_status == expected
        assert d.to_status in STATUSES_AT[d.next_step]
    else:
        assert d.changes["closing"]["kind"] == d.to_status


# -- rounds ---------------------------------------------------------------------------------


def test_a_second_round_is_not_archived_on_the_first_rounds_revisit() -> None:
    # GIVEN a ticket whose customer was unsatisfied, handled and replied again
    t = at_step("revisit")
    for action, p, body in [
        ("revisit", who("agent"), {"satisfaction": "unsatisfied"}),
        ("accept", who("department"), {}),
        ("resolve", who("department"), GOOD["resolve"]),
        ("reply", who("agent"), GOOD["reply"]),
    ]:
        d = act(action, t, p, body)
        t = replace(t, **d.changes, status=d.to_status, step=d.next_step)
    assert (t.step, t.rounds) == ("revisit", 1)
    # WHEN it is archived without revisiting round 2 and without a noRevisitReason
    # THEN 409 no_revisit, as for a first-round ticket
    exc = refused(Conflict, "archive", t, who("complaint_manager"), {"analysis": "a"})
    assert exc.code == "no_revisit"
