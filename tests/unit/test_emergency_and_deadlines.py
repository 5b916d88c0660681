"""Issue 10, part C: emergencies as the handbook runs them, time limits as it counts them, the
overdue reason and the customer's periodic progress report. Pure: GIVEN a ticket, WHEN a rule is
applied, THEN the result is the seed's (000 ch.3 pt.2 五, pt.3, pt.4; 004 §4 六 3(4))."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.calendar import SHANGHAI, BusinessCalendar
from chalicelib.domain.duties import (
    AT_FAULT_ONLY,
    CUSTOMER_PROGRESS,
    PRE_AUTHORISED,
    criteria_met,
    duties,
    is_emergency,
    lateness,
    progress_reported_in_time,
    reply_due,
)
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.lifecycle import DUTY_ROLES
from chalicelib.domain.sla import SlaPolicyError, load_policy, parse_policy
from chalicelib.domain.values import iso
from chalicelib.services import agenda
from chalicelib.services.rules import Rules
from tests.unit.test_lifecycle import BASE, HOME, NOW, OTHER, act, at_step, who

CAL = BusinessCalendar()
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday
D = timedelta(days=1)
H = timedelta(hours=1)
WARNINGS = (0.5, 0.8)
GRACE = timedelta(minutes=5)


def sh(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def social(**changes: Any) -> Any:
    """A 12315 complaint at handling: answer in 3 business days, progress by then, final in 7."""
    base = replace(
        BASE,
        source="12315",
        created_at=T0,
        due_at=sh(11, 26, 10),
        progress_due_at=sh(11, 26, 10),
        final_due_at=sh(12, 2, 10),
        step="handle",
        status="processing",
        department=HOME,
        departments=(HOME,),
        step_started_at=T0,
        step_due_at=sh(11, 26, 10),
        emergency=False,
    )
    return replace(base, **changes)


def keyed(t: Any, **kwargs: Any) -> dict[str, Any]:
    return {d.key: d for d in duties(t, WARNINGS, GRACE, **kwargs)}


# -- 6. emergencies ----------------------------------------------------------------------------


def test_urgency_alone_meets_criterion_5_and_makes_an_emergency() -> None:
    # GIVEN an urgent ticket meeting no other criterion
    t = replace(BASE, urgent=True, emergency=False)
    # THEN it meets "urgent_deadline", and that alone is an emergency ("或其他紧急情况")
    assert criteria_met(t) == ("urgent_deadline",)
    assert is_emergency(t, criteria_met(t)) is True
    # AND a ticket that is not urgent and meets only other criteria is escalated, not an emergency
    assert is_emergency(replace(t, urgent=False), ("media",)) is False


def test_a_downgraded_emergency_is_never_an_emergency_again() -> None:
    judgement = {"confirm": False, "reason": "客户期限可协商", "by": "ann", "role": "x", "at": ""}
    t = replace(BASE, urgent=True, emergency_judgement=judgement)
    assert is_emergency(t, ("urgent_deadline", "media")) is False
    confirmed = replace(t, emergency_judgement={**judgement, "confirm": True})
    assert is_emergency(confirmed, ("urgent_deadline",)) is True


def test_the_six_pre_authorised_actions_and_the_three_needing_fault() -> None:
    assert len(PRE_AUTHORISED) == 6 and len(set(PRE_AUTHORISED)) == 6
    assert AT_FAULT_ONLY == ("points_or_m_value_return", "cash_refund_of_charges", "brand_switch")


@pytest.mark.parametrize("role", ["complaint_admin", "complaint_manager"])
@pytest.mark.parametrize("confirm", [True, False])
def test_judge_emergency_confirms_or_downgrades_without_moving_the_step(
    role: str, confirm: bool
) -> None:
    # GIVEN an emergency held by HOME, with its approval-form duties
    t = at_step(
        "handle",
        emergency=True,
        priority="urgent",
        emergency_record={"declaredAt": iso(T0), "preAuthorisedActions": [], "dutiesDueAt": {}},
    )
    # WHEN HOME's complaint administrator (or the CRC manager) re-judges it
    d = act("judge_emergency", t, who(role), {"confirm": confirm, "reason": "客户明早出国"})
    # THEN the step does not move and the judgement is kept
    assert (d.completes_step, d.to_status, d.next_step) == (False, t.status, t.step)
    assert d.changes["emergency_judgement"]["confirm"] is confirm
    assert d.changes["emergency_judgement"]["by"] == role
    assert d.details == {"confirm": confirm, "reason": "客户明早出国"}
    if confirm:
        assert d.outcome == "confirmed" and "emergency" not in d.changes
    else:
        # downgraded: no emergency, no approval-form duties, priority high (still escalated)
        assert d.outcome == "downgraded"
        assert d.changes["emergency"] is False and d.changes["emergency_record"] is None
        assert d.changes["priority"] == "high"


def test_judge_emergency_refusals() -> None:
    body = {"confirm": True, "reason": "复核"}
    # not an emergency: 409 not_emergency
    with pytest.raises(Conflict) as exc:
        act("judge_emergency", at_step("handle", emergency=False), who("complaint_manager"), body)
    assert exc.value.code == "not_emergency"
    # a department-scoped administrator of another department that held it: 409 at home only
    held_before = at_step("handle", department=OTHER, departments=(HOME, OTHER))
    with pytest.raises(Conflict) as exc:
        act("judge_emergency", held_before, who("complaint_admin"), body)
    assert exc.value.code == "not_your_department"
    # one its department never held: 404; the department role itself: 403
    never = at_step("handle", department=OTHER, departments=(OTHER,))
    with pytest.raises(NotFound):
        act("judge_emergency", never, who("complaint_admin"), body)
    with pytest.raises(Forbidden):
        act("judge_emergency", at_step("handle"), who("department"), body)
    # a reason is required
    with pytest.raises(ValidationFailed) as bad:
        act("judge_emergency", at_step("handle"), who("complaint_manager"), {"confirm": False})
    assert {e.field for e in bad.value.errors} == {"reason"}


def test_emergency_action_is_recorded_and_does_not_move_the_step() -> None:
    body = {"type": "cash_refund_of_charges", "amount": 50, "companyAtFault": True, "note": "误扣"}
    d = act("emergency_action", at_step("reply"), who("complaint_manager"), body)
    assert (d.completes_step, d.next_step, d.outcome) == (False, "reply", "recorded")
    taken = d.changes["emergency_action"]
    assert {k: taken[k] for k in ("type", "amount", "companyAtFault", "note")} == {
        "type": "cash_refund_of_charges",
        "amount": 50,
        "companyAtFault": True,
        "note": "误扣",
    }
    assert taken["by"] == "complaint_manager" and taken["at"] == iso(NOW)
    assert d.details == {k: v for k, v in taken.items() if k not in ("by", "role", "at")}


@pytest.mark.parametrize("kind", PRE_AUTHORISED)
def test_company_at_fault_is_required_exactly_for_the_first_three(kind: str) -> None:
    body = {"type": kind, "companyAtFault": False}
    if kind in AT_FAULT_ONLY:
        with pytest.raises(ValidationFailed) as bad:
            act("emergency_action", at_step("handle"), who("complaint_admin"), body)
        assert [e.field for e in bad.value.errors] == ["companyAtFault"]
    else:
        d = act("emergency_action", at_step("handle"), who("complaint_admin"), body)
        assert d.changes["emergency_action"]["companyAtFault"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "brand_switch"}, "companyAtFault"),
        ({"type": "teleport", "companyAtFault": True}, "type"),
        ({"type": "brand_switch", "companyAtFault": True, "amount": 0}, "amount"),
        ({"type": "brand_switch", "companyAtFault": True, "amount": -5}, "amount"),
        ({"type": "brand_switch", "companyAtFault": True, "amount": 100_001}, "amount"),
        ({"type": "brand_switch", "companyAtFault": True, "amount": "50"}, "amount"),
        ({"type": "brand_switch", "companyAtFault": "yes"}, "companyAtFault"),
    ],
)
def test_emergency_action_bodies_are_bounded(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as bad:
        act("emergency_action", at_step("handle"), who("complaint_manager"), body)
    assert field in {e.field for e in bad.value.errors}


def test_emergency_action_only_on_an_emergency() -> None:
    body = {"type": "credit_limit_change", "companyAtFault": False}
    with pytest.raises(Conflict) as exc:
        act("emergency_action", at_step("handle", emergency=False), who("complaint_admin"), body)
    assert exc.value.code == "not_emergency"


def test_an_urgent_ticket_must_describe_the_customers_deadline() -> None:
    from chalicelib.domain import shapes
    from tests.unit.test_lifecycle import CATALOG

    body = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {"name": "张三", "contactNumber": "13800138000"},
        "serviceNumber": "13800138000",
        "description": "明早出国，国际漫游无法开通",
        "urgent": True,
    }

    def fields(extra: dict[str, Any]) -> set[str]:
        with pytest.raises(ValidationFailed) as bad:
            shapes.parse(shapes.NewTicketBody, {**body, **extra}, catalog=CATALOG, now=NOW)
        return {e.field for e in bad.value.errors}

    assert fields({}) == {"customerDeadline"}
    assert fields({"customerDeadline": {"at": "2026-11-24T08:00:00+08:00"}}) == {
        "customerDeadline.detail"
    }
    bad_at = {"at": "tomorrow", "detail": "出国"}
    assert fields({"customerDeadline": bad_at}) == {"customerDeadline.at"}
    past = {"at": iso(NOW - D), "detail": "出国"}
    assert fields({"customerDeadline": past}) == {"customerDeadline.at"}
    good = {"at": "2026-11-24T08:00:00+08:00", "detail": "明早8点出国前须开通"}
    parsed = shapes.parse(
        shapes.NewTicketBody, {**body, "customerDeadline": good}, catalog=CATALOG, now=NOW
    )
    assert parsed.customer_deadline is not None
    assert parsed.customer_deadline.record() == {
        "at": "2026-11-24T08:00:00+08:00",
        "detail": "明早8点出国前须开通",
    }


# -- 7. counting time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "channel", "source", "due", "rule"),
    [
        # the 10086 hotline: electronic tickets under A–F; level E keeps 5 business days
        ("E", "hotline", None, sh(11, 30, 10), "level:E"),
        ("D", "hotline", None, sh(11, 26, 10), "level:D"),
        ("B", "hotline", None, sh(11, 24, 10), "level:B"),
        # letters, visits and calls to a company office: 3 business days (来信来访来电)
        ("E", "office_call", None, sh(11, 26, 10), "channel:office_call"),
        ("E", "letter", None, sh(11, 26, 10), "channel:letter"),
        ("E", "visit", None, sh(11, 26, 10), "channel:visit"),
        # a social body, even by the hotline: 3 business days
        ("E", "hotline", "12315", sh(11, 26, 10), "source:12315"),
    ],
)
def test_the_hotline_follows_the_levels_and_office_calls_the_three_day_rule(
    level: str, channel: str, source: str | None, due: datetime, rule: str
) -> None:
    d = load_policy().deadlines(T0, level, channel, source, CAL)
    assert (d.due_at, d.rule) == (due, rule)


def test_without_a_progress_report_a_social_body_ticket_is_breached_at_three_days() -> None:
    t = social()
    assert not progress_reported_in_time(t) and reply_due(t) == t.due_at
    found = keyed(t)
    assert found["breach"].at == sh(11, 26, 10) and found["breach"].marks_breach
    assert found["progress_report:due"].at == sh(11, 26, 10)
    assert found["final_answer:due"].at == sh(12, 2, 10)


def test_a_timely_progress_report_moves_the_breach_to_the_final_answer() -> None:
    # GIVEN a progress report recorded on the second day, within the 3 business days
    t = social(duties_done={"progress_report": iso(sh(11, 25, 9))})
    assert progress_reported_in_time(t) and reply_due(t) == sh(12, 2, 10)
    found = keyed(t)
    # THEN no breach at 3 days: the final answer (7 business days) is the deadline now
    assert "breach" not in found and "promise" not in found
    assert "progress_report:due" not in found
    final = found["final_answer:due"]
    assert (final.at, final.marks_breach, final.details) == (
        sh(12, 2, 10),
        True,
        {"duty": "final_answer"},
    )


def test_a_late_progress_report_does_not_move_the_breach() -> None:
    t = social(duties_done={"progress_report": iso(sh(11, 26, 11))})
    assert not progress_reported_in_time(t)
    assert keyed(t)["breach"].at == sh(11, 26, 10)


def test_the_superior_body_rule_is_the_same() -> None:
    d = load_policy().deadlines(T0, "D", "superior_body", None, CAL)
    t = social(source=None, channel="superior_body", due_at=d.due_at,
               progress_due_at=d.progress_due_at, final_due_at=d.final_due_at,
               duties_done={"progress_report": iso(sh(11, 24, 9))})  # fmt: skip
    assert (d.due_at, d.progress_due_at, d.final_due_at) == (
        sh(11, 26, 10),
        sh(11, 26, 10),
        sh(12, 2, 10),
    )
    assert reply_due(t) == sh(12, 2, 10) and "breach" not in keyed(t)


def test_level_f_progress_is_reminded_to_the_holder_and_missed_to_the_dispatching_desk() -> None:
    d = load_policy().deadlines(T0, "F", "hotline", None, CAL)
    assert (d.progress_due_at, d.final_due_at) == (sh(11, 24, 10), None)
    t = replace(social(source=None, final_due_at=None), sla_level="F",
                progress_due_at=d.progress_due_at, due_at=d.due_at)  # fmt: skip
    found = keyed(t)
    remind, due = found["progress_report:remind"], found["progress_report:due"]
    assert (remind.department, remind.details) == (
        HOME,
        {"duty": "progress_report", "reportTo": "crc"},
    )
    assert (due.department, due.marks_breach) == ("crc", True)


def test_progress_report_is_accepted_in_api_spelling_and_stored_once() -> None:
    t = at_step("handle")
    d = act("note", t, who("department"), {"text": "进展：已派人核查", "duty": "progressReport"})
    assert d.changes["duties_done"] == {"progress_report": iso(NOW)}
    assert d.details["duty"] == "progress_report"


# -- 8. overdue reason -------------------------------------------------------------------------

GOOD = {
    "resolve": ("handle", {"cause": "weak_coverage", "result": "已优化"}),
    "return": ("handle", {"reason": "不属于本部门"}),
    "reply": ("reply", {"content": "已处理完毕", "method": "sms"}),
}


@pytest.mark.parametrize("action", GOOD)
def test_done_in_time_needs_no_reason(action: str) -> None:
    step, body = GOOD[action]
    t = at_step(step, step_due_at=NOW + H, due_at=NOW + D)
    d = act(action, t, who("complaint_manager" if action == "reply" else "department"), body)
    assert "overdue_reasons" not in d.changes and "overdueReason" not in d.details


@pytest.mark.parametrize("action", GOOD)
@pytest.mark.parametrize(
    ("changes", "late", "deadline"),
    [
        # past the step's deadline, before the ticket's
        ({"step_due_at": NOW - H, "due_at": NOW + D}, "step", NOW - H),
        # past the ticket's deadline, before the step's: whichever came first is named
        ({"step_due_at": NOW + H, "due_at": NOW - 2 * H}, "dueAt", NOW - 2 * H),
        ({"step_due_at": NOW - H, "due_at": NOW - 2 * H}, "dueAt", NOW - 2 * H),
        ({"step_due_at": NOW - 2 * H, "due_at": NOW - H}, "step", NOW - 2 * H),
        # a ladder climb at this step moved stepDueAt ahead: the first deadline still passed
        ({"step_due_at": NOW + H, "due_at": NOW + D, "last_escalation": "7:1"}, "step", None),
    ],
)
def test_done_late_needs_an_overdue_reason(
    action: str, changes: dict[str, Any], late: str, deadline: datetime | None
) -> None:
    step, body = GOOD[action]
    role = "complaint_manager" if action == "reply" else "department"
    t = at_step(step, step_seq=7, **changes)
    # WHEN done late without a reason  THEN 400 naming overdueReason
    with pytest.raises(ValidationFailed) as bad:
        act(action, t, who(role), body)
    assert [e.field for e in bad.value.errors] == ["overdueReason"]
    # WHEN with one  THEN it is recorded in the history and on the ticket
    d = act(action, t, who(role), {**body, "overdueReason": "等待第三方核查"})
    expected = {"late": late, **({"deadline": deadline.isoformat()} if deadline else {})}
    assert d.details["overdueReason"] == "等待第三方核查"
    assert {k: d.details[k] for k in ("late", "deadline") if k in d.details} == expected
    (record,) = d.changes["overdue_reasons"]
    assert record["action"] == action and record["step"] == step
    assert record["reason"] == "等待第三方核查" and record["by"] == role
    assert d.completes_step  # the step moves as usual


def test_a_climb_at_an_earlier_step_does_not_make_this_one_late() -> None:
    t = at_step("handle", step_seq=7, last_escalation="6:2", step_due_at=NOW + H, due_at=NOW + D)
    assert lateness(t, NOW) is None


def test_overdue_reasons_accumulate_and_the_moved_deadline_counts() -> None:
    # GIVEN a social-body ticket whose timely progress report moved its deadline to the final
    t = social(duties_done={"progress_report": iso(sh(11, 25, 9))})
    # THEN past the 3 days but before the final answer it is not late for the ticket's deadline
    at = sh(11, 27, 10)
    assert lateness(replace(t, step_due_at=at + H), at) is None
    assert lateness(replace(t, step_due_at=sh(12, 9)), sh(12, 2, 11)) == {
        "late": "dueAt",
        "deadline": sh(12, 2, 10).isoformat(),
    }
    earlier = {"action": "resolve", "step": "handle", "reason": "x", "late": "step"}
    t2 = at_step("reply", step_due_at=NOW - H, overdue_reasons=[earlier])
    d = act("reply", t2, who("agent"), {**GOOD["reply"][1], "overdueReason": "客户电话未接通"})
    assert [r["action"] for r in d.changes["overdue_reasons"]] == ["resolve", "reply"]


def test_an_overdue_reason_is_bounded_text() -> None:
    t = at_step("handle", step_due_at=NOW - H)
    with pytest.raises(ValidationFailed) as bad:
        act("resolve", t, who("department"), {**GOOD["resolve"][1], "overdueReason": "x" * 1001})
    assert [e.field for e in bad.value.errors] == ["overdueReason"]


# -- 10b. progress to the customer on escalated tickets ----------------------------------------


def progress_every_day(t: datetime) -> datetime:
    return CAL.add_business_days(t, 1)


def test_an_escalated_ticket_owes_the_customer_progress_each_period() -> None:
    # GIVEN a ticket escalated on Monday 10:00, progress due each business day
    t = social(source=None, escalated=True, escalated_at=T0)
    found = {k: d for k, d in keyed(t, customer_progress=progress_every_day).items()
             if k.startswith(CUSTOMER_PROGRESS)}  # fmt: skip
    # THEN Tuesday's report is due, then chased on Wednesday and Thursday, to the CRC desk
    assert sorted(d.at for d in found.values()) == [sh(11, 24, 10), sh(11, 25, 10), sh(11, 26, 10)]
    assert {d.department for d in found.values()} == {"crc"}
    assert {d.event_type for d in found.values()} == {"reminder"}
    assert sorted(d.details["missed"] for d in found.values()) == [0, 1, 2]
    assert not any(d.marks_breach for d in found.values())
    # WHEN the desk reports on Tuesday 15:00  THEN the next falls due Wednesday 15:00, new keys
    done = replace(t, duties_done={CUSTOMER_PROGRESS: iso(sh(11, 24, 15))})
    after = {k: d.at for k, d in keyed(done, customer_progress=progress_every_day).items()
             if k.startswith(CUSTOMER_PROGRESS)}  # fmt: skip
    assert min(after.values()) == sh(11, 25, 15)
    assert not set(after) & set(found)


@pytest.mark.parametrize(
    "changes",
    [{"escalated": False}, {"status": "replied", "step": "revisit"}, {"status": "archived"}],
)
def test_no_customer_progress_duty_unless_escalated_and_unanswered(changes: dict) -> None:
    t = social(**{"escalated": True, "escalated_at": T0, **changes})
    found = keyed(t, customer_progress=progress_every_day)
    assert not [k for k in found if k.startswith(CUSTOMER_PROGRESS)]


def test_the_agenda_takes_the_interval_from_the_policy() -> None:
    t = social(source=None, escalated=True, escalated_at=T0)
    rules = Rules(policy=load_policy(), calendar=CAL)
    keys = {d.key: d.at for d in agenda.of(t, rules) if d.key.startswith(CUSTOMER_PROGRESS)}
    assert min(keys.values()) == sh(11, 24, 10)
    assert agenda.customer_progress(replace(t, escalated=False), rules) is None


def test_customer_progress_is_recorded_by_the_desk() -> None:
    assert DUTY_ROLES[CUSTOMER_PROGRESS] == ("agent", "senior_agent", "complaint_manager")
    t = at_step("handle", escalated=True)
    d = act("note", t, who("agent"), {"text": "已告知客户处理进展", "duty": CUSTOMER_PROGRESS})
    assert d.changes["duties_done"] == {CUSTOMER_PROGRESS: iso(NOW)}
    with pytest.raises(Forbidden):
        act("note", t, who("department"), {"text": "进展", "duty": CUSTOMER_PROGRESS})


def test_the_policy_interval_is_optional_positive_and_round_trips() -> None:
    raw = load_policy().to_json()
    assert raw["customerProgress"] == {"businessDays": 1}
    assert parse_policy(raw).customer_progress == load_policy().customer_progress
    without = {k: v for k, v in raw.items() if k != "customerProgress"}
    assert parse_policy(without).customer_progress is None
    with pytest.raises(SlaPolicyError, match="customerProgress"):
        parse_policy({**raw, "customerProgress": {"hours": 0}})
    with pytest.raises(SlaPolicyError, match="customerProgress"):
        parse_policy({**raw, "customerProgress": {"fortnights": 1}})


def test_every_shipped_policy_has_an_interval() -> None:
    for name in ("default", "demo_seconds", "gansu", "training_manual"):
        assert load_policy(name).customer_progress is not None, name
