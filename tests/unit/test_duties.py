"""What is due on an open ticket, and when (DOMAIN.md §5–§6): the sweep's agenda, and the
escalation criteria. Pure: GIVEN a ticket, WHEN its duties are listed, THEN keys and instants are
the ones the policy promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.duties import (
    CRITERIA,
    DUTY_NAMES,
    EMERGENCY_DUTIES,
    EXECUTION_CHECK_MARGIN,
    Duty,
    criteria_met,
    duties,
    is_emergency,
    next_due,
)
from chalicelib.domain.tickets import Complainant, Ticket
from chalicelib.domain.vocabulary import CLOSED_STATUSES, SOURCES, STATUSES

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
WARNINGS = (0.5, 0.8)
GRACE = timedelta(minutes=5)
REPLIED = ("replied", "revisited")  # open, yet the customer has had a reply
OPEN = tuple(s for s in STATUSES if s not in CLOSED_STATUSES)

BASE = Ticket(
    id="T0001",
    version=4,
    kind="complaint",
    status="processing",
    channel="hotline",
    complainant=Complainant("王五", "ordinary", "13800138000", "phone"),
    service_number="13800138000",
    description="家里没有信号",
    created_at=T0,
    updated_at=T0,
    created_by="alice",
    due_at=T0 + 24 * H,
    step="handle",
    step_seq=3,
    step_started_at=T0 + 2 * H,
    step_due_at=T0 + 12 * H,
    department="network",
    departments=("network",),
    workflow_status="started",
)


def ticket(**changes: Any) -> Ticket:
    return replace(BASE, **changes)


def agenda(t: Ticket, limits: dict[str, datetime] | None = None) -> dict[str, Duty]:
    listed = duties(t, WARNINGS, GRACE, limits)
    keyed = {d.key: d for d in listed}
    assert len(keyed) == len(listed), "duty keys are unique"
    return keyed


def at(t: Ticket, limits: dict[str, datetime] | None = None) -> dict[str, datetime]:
    return {k: d.at for k, d in agenda(t, limits).items()}


# -- the step: warnings and the execution check -----------------------------------------------


def test_the_base_ticket_has_exactly_these_duties() -> None:
    # GIVEN a ticket handled by network since 02:00, step due 12:00, promised for tomorrow 00:00
    # WHEN its duties are listed  THEN warnings, the execution check, the promise and the breach
    assert at(BASE) == {
        "warn:3:0.5": T0 + 7 * H,
        "warn:3:0.8": T0 + 10 * H,
        "exec:3:0": T0 + 12 * H + EXECUTION_CHECK_MARGIN,
        "promise": T0 + 24 * H * 0.8,
        "breach": T0 + 24 * H,
    }


def test_warnings_go_to_the_handler_of_the_step() -> None:
    duty = agenda(BASE)["warn:3:0.8"]
    assert (duty.event_type, duty.department) == ("pre_breach_warning", "network")
    assert duty.details == {"step": "handle", "fraction": 0.8}
    assert not duty.marks_breach


@pytest.mark.parametrize(
    ("step", "department", "handler"),
    [
        ("accept", "network", "network"),
        ("handle", "billing_support", "billing_support"),
        ("review", None, "crc"),
        ("dispatch", None, "crc"),
        ("reply", "network", "crc"),
        ("revisit", "network", "crc"),
        ("archive", "network", "crc"),
    ],
)
def test_desk_steps_warn_the_crc(step: str, department: str | None, handler: str) -> None:
    duties_ = agenda(ticket(step=step, department=department))
    assert duties_["warn:3:0.5"].department == handler
    assert duties_["breach"].department == handler


def test_warning_keys_follow_the_step_sequence_and_the_policy() -> None:
    listed = duties(ticket(step_seq=7), (0.25, 0.5, 0.75), GRACE)
    assert [d.key for d in listed if d.event_type == "pre_breach_warning"] == [
        "warn:7:0.25",
        "warn:7:0.5",
        "warn:7:0.75",
    ]
    assert duties(ticket(), (), GRACE)  # no warnings configured: other duties remain
    assert not [d for d in duties(ticket(), (), GRACE) if d.key.startswith("warn:")]


def test_warnings_count_from_intake_when_the_step_start_is_unknown() -> None:
    assert at(ticket(step_started_at=None))["warn:3:0.5"] == T0 + 6 * H


@pytest.mark.parametrize("changes", [{"step_due_at": None}, {"step": None}])
def test_no_step_deadline_no_warnings_nor_execution_check(changes: dict[str, Any]) -> None:
    keys = set(agenda(ticket(**changes)))
    assert keys == {"promise", "breach"}


@pytest.mark.parametrize("level", [0, 1, 3])
def test_the_execution_check_follows_the_step_deadline(level: int) -> None:
    duty = agenda(ticket(escalation_level=level))[f"exec:3:{level}"]
    assert duty.at == T0 + 12 * H + EXECUTION_CHECK_MARGIN
    assert (duty.event_type, duty.department) == ("workflow_check", "operators")
    assert duty.details == {"check": "running", "step": "handle"}


# -- the promise to the customer --------------------------------------------------------------


def test_the_promise_reminder_and_the_breach() -> None:
    duties_ = agenda(BASE)
    promise, breach = duties_["promise"], duties_["breach"]
    assert (promise.at, promise.event_type, promise.department) == (
        T0 + 19 * H + 12 * timedelta(minutes=1),
        "reminder",
        "crc",
    )
    assert (breach.at, breach.event_type, breach.marks_breach) == (T0 + 24 * H, "breached", True)
    assert breach.details == {"duty": "reply"}


def test_no_second_breach_once_breached() -> None:
    keys = set(agenda(ticket(breached=True)))
    assert "breach" not in keys
    assert "promise" in keys


@pytest.mark.parametrize("status", REPLIED)
def test_a_replied_ticket_owes_no_promise(status: str) -> None:
    keys = set(agenda(ticket(status=status, step="revisit" if status == "replied" else "archive")))
    assert not keys & {"promise", "breach"}


@pytest.mark.parametrize("status", ["accepted", "answered", "reviewing", "returned", "resolved"])
def test_an_unreplied_ticket_owes_its_promise(status: str) -> None:
    assert {"promise", "breach"} <= set(agenda(ticket(status=status)))


def test_no_deadline_no_promise() -> None:
    assert not {"promise", "breach"} & set(agenda(ticket(due_at=None)))


# -- progress, final answer, emergency approvals ----------------------------------------------


def test_progress_and_final_answer_duties_with_their_reminders() -> None:
    # GIVEN a social-body letter: progress within 3 days, final answer within 10
    t = ticket(progress_due_at=T0 + 3 * D, final_due_at=T0 + 10 * D)
    duties_ = agenda(t)
    # THEN each has a reminder at 80 % of its time and a breach at its limit, for the CRC
    assert {k: d.at for k, d in duties_.items() if k.startswith(("progress", "final"))} == {
        "progress_report:remind": T0 + 3 * D * 0.8,
        "progress_report:due": T0 + 3 * D,
        "final_answer:remind": T0 + 8 * D,
        "final_answer:due": T0 + 10 * D,
    }
    assert duties_["final_answer:remind"].event_type == "reminder"
    assert duties_["final_answer:due"].event_type == "breached"
    assert duties_["final_answer:due"].details == {"duty": "final_answer"}
    assert {duties_[k].department for k in duties_ if ":" in k and k[0] in "pf"} == {"crc"}


@pytest.mark.parametrize("status", REPLIED)
def test_a_reply_settles_the_final_answer_but_not_the_progress_report(status: str) -> None:
    t = ticket(status=status, progress_due_at=T0 + 3 * D, final_due_at=T0 + 10 * D)
    keys = set(agenda(t))
    assert {"progress_report:remind", "progress_report:due"} <= keys
    assert not {"final_answer:remind", "final_answer:due"} & keys


def test_done_duties_vanish() -> None:
    # GIVEN a progress report already noted
    t = ticket(
        progress_due_at=T0 + 3 * D,
        final_due_at=T0 + 10 * D,
        duties_done={"progress_report": "2026-11-24T10:00:00+08:00"},
    )
    keys = set(agenda(t))
    # THEN its reminder and deadline are gone; the final answer is still owed
    assert not {"progress_report:remind", "progress_report:due"} & keys
    assert {"final_answer:remind", "final_answer:due"} <= keys


def test_emergency_limits_become_approval_duties() -> None:
    # GIVEN an emergency: form to the CRC within 3 days, the leader's approval within a week
    limits = {"approvalFormToCrc": T0 + 3 * D, "leaderApproval": T0 + 7 * D}
    assert set(EMERGENCY_DUTIES) == set(limits)
    found = at(ticket(), limits)
    assert {k: v for k, v in found.items() if k.startswith(EMERGENCY_DUTIES)} == {
        "approvalFormToCrc:remind": T0 + 3 * D * 0.8,
        "approvalFormToCrc:due": T0 + 3 * D,
        "leaderApproval:remind": T0 + 7 * D * 0.8,
        "leaderApproval:due": T0 + 7 * D,
    }
    # WHEN the form is filed  THEN only the leader's approval is still owed
    done = ticket(duties_done={"approvalFormToCrc": "2026-11-24T10:00:00+08:00"})
    assert {k for k in agenda(done, limits) if k.startswith(EMERGENCY_DUTIES)} == {
        "leaderApproval:remind",
        "leaderApproval:due",
    }


@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_closed_tickets_have_no_duties(status: str) -> None:
    t = ticket(
        status=status,
        step=None,
        workflow_status="pending",
        progress_due_at=T0 + D,
        final_due_at=T0 + 2 * D,
    )
    assert duties(t, WARNINGS, GRACE, {"leaderApproval": T0 + 7 * D}) == []


def test_a_pending_workflow_is_checked_after_the_grace() -> None:
    duty = agenda(ticket(workflow_status="pending"))["workflow:start"]
    assert duty.at == T0 + GRACE
    assert (duty.event_type, duty.department, duty.details) == (
        "workflow_check",
        "operators",
        {"check": "start"},
    )
    assert "workflow:start" not in agenda(ticket(workflow_status="started"))


# -- next_due ---------------------------------------------------------------------------------


def _duty(key: str, when: datetime) -> Duty:
    return Duty(key, when, "reminder", "crc")


def test_next_due_is_the_earliest_instant() -> None:
    listed = [_duty("b", T0 + 5 * H), _duty("a", T0 + H), _duty("c", T0 + 9 * H)]
    assert next_due(listed) == T0 + H
    assert next_due(duties(BASE, WARNINGS, GRACE)) == T0 + 7 * H


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (T0, T0 + H),
        (T0 + H, T0 + 5 * H),  # strictly after
        (T0 + 2 * H, T0 + 5 * H),
        (T0 + 5 * H, T0 + 9 * H),
        (T0 + 9 * H, None),
        (T0 + 99 * H, None),
    ],
)
def test_next_due_after_an_instant(after: datetime, expected: datetime | None) -> None:
    listed = [_duty("b", T0 + 5 * H), _duty("a", T0 + H), _duty("c", T0 + 9 * H)]
    assert next_due(listed, after=after) == expected


def test_nothing_due_is_none() -> None:
    assert next_due([]) is None
    assert next_due([], after=T0) is None


# -- escalation criteria (DOMAIN.md §6) -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "extra", "expected"),
    [
        ({}, (), ()),
        ({"flags": ("media",)}, (), ("media",)),
        ({"flags": ("public_impact", "12315")}, (), ("12315", "public_impact")),
        ({"source": "12315"}, (), ("12315",)),
        ({"source": "media"}, (), ("media",)),
        ({"source": "consumer_association"}, (), ("consumer_association",)),
        ({"source": "mayor_hotline"}, (), ("supervisory_body",)),
        ({"source": "public_service_review"}, (), ("supervisory_body",)),
        ({"source": "miit"}, (), ("supervisory_body",)),
        ({"source": "communications_administration"}, (), ("supervisory_body",)),
        ({"source": "customer"}, (), ()),
        ({"source": "other_province"}, (), ()),
        ({"source": "media", "flags": ("media",)}, (), ("media",)),
        ({"blacklisted": True}, (), ("blacklisted",)),
        ({"rounds": 1}, (), ()),
        ({"rounds": 2}, (), ("repeated_failure",)),
        ({"rounds": 5, "flags": ("repeated_failure",)}, (), ("repeated_failure",)),
        ({}, ("urgent_deadline", "nonsense"), ("urgent_deadline",)),
        (
            {"source": "miit", "blacklisted": True, "rounds": 3, "flags": ("public_impact",)},
            ("media",),
            ("media", "supervisory_body", "public_impact", "blacklisted", "repeated_failure"),
        ),
    ],
)
def test_criteria_met(changes: dict[str, Any], extra: tuple[str, ...], expected: tuple[str, ...]):
    assert criteria_met(ticket(**changes), extra) == expected


@pytest.mark.parametrize(
    ("urgent", "criteria", "emergency"),
    [
        (False, (), False),
        (True, (), True),  # issue 10: criterion 5 ("或其他紧急情况") is enough on its own
        (False, ("media",), False),
        (True, ("media",), True),
        (False, ("urgent_deadline",), True),
        (False, ("blacklisted", "urgent_deadline"), True),
    ],
)
def test_an_emergency_is_an_urgent_customer_deadline(
    urgent: bool, criteria: tuple[str, ...], emergency: bool
) -> None:
    assert is_emergency(ticket(urgent=urgent), criteria) is emergency


@given(
    flags=st.lists(st.sampled_from(CRITERIA), unique=True).map(tuple),
    source=st.none() | st.sampled_from(SOURCES),
    blacklisted=st.booleans(),
    rounds=st.integers(0, 5),
    extra=st.lists(st.sampled_from([*CRITERIA, "nonsense"])).map(tuple),
)
def test_criteria_are_known_unique_and_in_order(
    flags: tuple[str, ...],
    source: str | None,
    blacklisted: bool,
    rounds: int,
    extra: tuple[str, ...],
) -> None:
    met = criteria_met(
        ticket(flags=flags, source=source, blacklisted=blacklisted, rounds=rounds), extra
    )
    assert list(met) == [c for c in CRITERIA if c in met]
    assert set(flags) <= set(met)
    assert ("blacklisted" in met) == blacklisted or "blacklisted" in (*flags, *extra)
    assert ("repeated_failure" in met) == (rounds >= 2) or "repeated_failure" in (*flags, *extra)


# -- properties of the agenda -----------------------------------------------------------------

minutes = st.integers(0, 20 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def open_tickets(draw: st.DrawFn) -> tuple[Ticket, tuple[float, ...], dict[str, datetime]]:
    created = T0 + draw(minutes)
    started = created + draw(minutes)
    limits = draw(
        st.dictionaries(st.sampled_from(EMERGENCY_DUTIES), minutes.map(lambda m: created + m))
    )
    t = ticket(
        created_at=created,
        status=draw(st.sampled_from(OPEN)),
        step=draw(st.none() | st.sampled_from(("review", "dispatch", "accept", "handle"))),
        step_seq=draw(st.integers(1, 9)),
        step_started_at=draw(st.none() | st.just(started)),
        step_due_at=draw(st.none() | minutes.map(lambda m: started + m)),
        due_at=draw(st.none() | minutes.map(lambda m: created + m)),
        progress_due_at=draw(st.none() | minutes.map(lambda m: created + m)),
        final_due_at=draw(st.none() | minutes.map(lambda m: created + m)),
        breached=draw(st.booleans()),
        escalation_level=draw(st.integers(0, 3)),
        workflow_status=draw(st.sampled_from(("pending", "started"))),
        duties_done={
            n: "2026-11-24T10:00:00+08:00" for n in draw(st.sets(st.sampled_from(DUTY_NAMES)))
        },
        department=draw(st.none() | st.sampled_from(("network", "billing_support"))),
    )
    warnings = tuple(draw(st.sets(st.sampled_from((0.25, 0.5, 0.75, 0.8, 0.9, 1.0)))))
    return t, warnings, limits


@settings(max_examples=100, deadline=None)
@given(case=open_tickets())
def test_every_duty_lies_within_its_bounds(
    case: tuple[Ticket, tuple[float, ...], dict[str, datetime]],
) -> None:
    # GIVEN an open ticket whose instants are in order
    t, warnings, limits = case
    # WHEN its duties are listed
    listed = duties(t, warnings, GRACE, limits)
    by_key = {d.key: d for d in listed}
    # THEN keys are unique, nothing done is owed, and each duty sits where it belongs
    assert len(by_key) == len(listed)
    for d in listed:
        assert d.at >= t.created_at
        name = d.key.split(":")[0]
        assert name not in t.duties_done
        if name == "warn":
            start = t.step_started_at or t.created_at
            assert t.step_due_at is not None
            assert start <= d.at <= t.step_due_at
            assert d.key.startswith(f"warn:{t.step_seq}:")
        elif name == "exec":
            assert d.at == t.step_due_at + EXECUTION_CHECK_MARGIN  # type: ignore[operator]
        elif name == "promise":
            assert t.due_at is not None and d.at <= t.due_at
        elif name == "breach":
            assert d.at == t.due_at and d.marks_breach and not t.breached
        elif name == "workflow":
            assert d.at == t.created_at + GRACE and t.workflow_status == "pending"
        else:
            assert name in DUTY_NAMES
            assert d.at <= by_key[f"{name}:due"].at
    warned = [d for d in listed if d.event_type == "pre_breach_warning"]
    assert len(warned) == (len(warnings) if t.step and t.step_due_at else 0)
    for name in DUTY_NAMES:
        # a reminder never comes without the deadline it reminds of, nor after it
        if f"{name}:remind" in by_key:
            assert by_key[f"{name}:remind"].at <= by_key[f"{name}:due"].at


@settings(max_examples=100, deadline=None)
@given(case=open_tickets(), x=minutes, y=minutes)
def test_next_due_is_strictly_after_and_monotone(
    case: tuple[Ticket, tuple[float, ...], dict[str, datetime]], x: timedelta, y: timedelta
) -> None:
    t, warnings, limits = case
    listed = duties(t, warnings, GRACE, limits)
    first, second = sorted((T0 + x, T0 + y))
    earliest = next_due(listed)
    assert earliest == (min(d.at for d in listed) if listed else None)
    a, b = next_due(listed, after=first), next_due(listed, after=second)
    if a is not None:
        assert a > first
        assert a in {d.at for d in listed}
        assert earliest is not None and earliest <= a
    if b is not None:
        assert b > second
        # later `after`, never an earlier answer; and nothing ahead stays nothing ahead
        assert a is not None and a <= b
    if a is None:
        assert b is None
