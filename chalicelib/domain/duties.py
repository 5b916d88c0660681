"""What is due on an open ticket, and when: the sweep's agenda (DOMAIN.md §5–§6).

Every duty has a stable key, an instant and an addressee. The ticket's `nextDueAt` (on the sparse
due-index) is the earliest duty not yet handled, so the sweep reads only tickets with work due.

- pre-breach warnings at fractions of the current step's time (policy `warnings`, 50 % / 80 %);
- a reminder of the time promised to the customer (80 % of the ticket's own limit), and the
  breach itself at `dueAt`, until the customer has a reply;
- progress-report and final-answer duties (level F, social and superior bodies);
- emergency approval-form duties (to the CRC within 3 days, leader approval within a week);
- an execution check shortly after the step's deadline (the workflow should have escalated);
- an escalated ticket's periodic progress report to the customer (policy `customerProgress`).

Social and superior bodies (DOMAIN.md §11 "Counting time"): a progress report recorded within the
3-business-day limit moves the reply deadline (the breach) to the 7-business-day final answer;
without one the breach stays at `dueAt`. Level F's progress report is owed by the holding
department to the dispatching desk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .tickets import Ticket

REPLIED = ("replied", "revisited", "archived")
PROMISE_FRACTION = 0.8
DUTY_REMINDER_FRACTION = 0.8
# Past a step's deadline the workflow escalates at once; if nothing changed after this margin,
# its execution is checked (and repaired) by the sweep.
EXECUTION_CHECK_MARGIN = timedelta(minutes=2)
EMERGENCY_DUTIES = ("approvalFormToCrc", "leaderApproval")
CUSTOMER_PROGRESS = "customerProgress"
# API.md spells the duties camelCase: both spellings are accepted, stored under the first.
DUTY_ALIASES = {"progressReport": "progress_report", "finalAnswer": "final_answer"}
DUTY_NAMES = (
    "progress_report",
    "final_answer",
    *EMERGENCY_DUTIES,
    CUSTOMER_PROGRESS,
    *DUTY_ALIASES,
)
# How many periods of the customer's progress report the sweep chases after the last one given.
CUSTOMER_PROGRESS_CHASES = 3


@dataclass(frozen=True)
class Duty:
    key: str
    at: datetime
    event_type: str  # pre_breach_warning | reminder | breached | workflow_check
    department: str
    details: dict[str, Any] = field(default_factory=dict)
    marks_breach: bool = False


def handler_of(ticket: Ticket) -> str:
    """Who works the current step: its department, or the CRC desk for desk steps."""
    if ticket.step in ("accept", "handle") and ticket.department:
        return ticket.department
    return "crc"


def _between(start: datetime, end: datetime, fraction: float) -> datetime:
    return start + (end - start) * fraction


def duties(
    ticket: Ticket,
    warnings: Sequence[float],
    workflow_grace: timedelta,
    emergency_limits: dict[str, datetime] | None = None,
    customer_progress: Callable[[datetime], datetime] | None = None,
) -> list[Duty]:
    """Every duty of the ticket; `customer_progress(t)` is when the customer's next progress
    report is due after one given at `t` (the policy's interval; None: no such duty)."""
    if ticket.closed:
        return []
    out: list[Duty] = []
    if ticket.workflow_status == "pending":
        out.append(
            Duty(
                "workflow:start",
                ticket.created_at + workflow_grace,
                "workflow_check",
                "operators",
                {"check": "start"},
            )
        )
    seq = ticket.step_seq
    if ticket.step and ticket.step_due_at is not None:
        start = ticket.step_started_at or ticket.created_at
        handler = handler_of(ticket)
        for fraction in warnings:
            out.append(
                Duty(
                    f"warn:{seq}:{fraction:g}",
                    _between(start, ticket.step_due_at, fraction),
                    "pre_breach_warning",
                    handler,
                    {"step": ticket.step, "fraction": fraction},
                )
            )
        out.append(
            Duty(
                f"exec:{seq}:{ticket.escalation_level}",
                ticket.step_due_at + EXECUTION_CHECK_MARGIN,
                "workflow_check",
                "operators",
                {"check": "running", "step": ticket.step},
            )
        )
    moved = progress_reported_in_time(ticket)  # then the final answer is the deadline
    if ticket.due_at is not None and ticket.status not in REPLIED and not moved:
        out.append(
            Duty(
                "promise",
                _between(ticket.created_at, ticket.due_at, PROMISE_FRACTION),
                "reminder",
                "crc",
                {"duty": "promised_time"},
            )
        )
        if not ticket.breached:
            out.append(
                Duty(
                    "breach",
                    ticket.due_at,
                    "breached",
                    handler_of(ticket),
                    {"duty": "reply"},
                    marks_breach=True,
                )
            )
    limits: dict[str, datetime | None] = {
        "progress_report": ticket.progress_due_at,
        "final_answer": ticket.final_due_at if ticket.status not in REPLIED else None,
        **(emergency_limits or {}),
    }
    for duty, due in limits.items():
        if due is None or duty in ticket.duties_done:
            continue
        # Level F: the holding department owes its progress report to the dispatching desk.
        owed_by_holder = duty == "progress_report" and _level_f_report(ticket)
        out.append(
            Duty(
                f"{duty}:remind",
                _between(ticket.created_at, due, DUTY_REMINDER_FRACTION),
                "reminder",
                handler_of(ticket) if owed_by_holder else "crc",
                {"duty": duty, **({"reportTo": "crc"} if owed_by_holder else {})},
            )
        )
        out.append(Duty(f"{duty}:due", due, "breached", "crc", {"duty": duty}, marks_breach=True))
    out.extend(_customer_progress(ticket, customer_progress))
    return out


def _level_f_report(ticket: Ticket) -> bool:
    """A level-F ticket's own progress report (not a social or superior body's)."""
    return ticket.sla_level == "F" and ticket.final_due_at is None


def _done_at(ticket: Ticket, duty: str) -> datetime | None:
    done = ticket.duties_done.get(duty)
    return datetime.fromisoformat(done) if done else None


def progress_reported_in_time(ticket: Ticket) -> bool:
    """Social and superior bodies: a progress report recorded within its limit moves the reply
    deadline to the final answer (000 ch.3 pt.2 五(4)(5))."""
    if ticket.final_due_at is None:
        return False
    limit = ticket.progress_due_at or ticket.due_at
    done = _done_at(ticket, "progress_report")
    return done is not None and limit is not None and done <= limit


def reply_due(ticket: Ticket) -> datetime | None:
    """When the customer's answer is due: `dueAt`, or the final-answer limit once a timely
    progress report moved it."""
    return ticket.final_due_at if progress_reported_in_time(ticket) else ticket.due_at


def _customer_progress(
    ticket: Ticket, interval: Callable[[datetime], datetime] | None
) -> list[Duty]:
    """An escalated ticket reports progress to the customer regularly (000 pt.4 (三)(2)) until
    the customer has the reply: due one interval after the escalation or the last report given
    (`note {duty: customerProgress}`), chased for a few periods, each notice once."""
    if interval is None or not ticket.escalated or ticket.status in REPLIED:
        return []
    anchor = max(
        x
        for x in (ticket.escalated_at or ticket.created_at, _done_at(ticket, CUSTOMER_PROGRESS))
        if x is not None
    )
    stamp = anchor.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    out: list[Duty] = []
    at = anchor
    for period in range(1, CUSTOMER_PROGRESS_CHASES + 1):
        at = interval(at)
        out.append(
            Duty(
                f"{CUSTOMER_PROGRESS}:{stamp}:{period}",
                at,
                "reminder",
                "crc",
                {"duty": CUSTOMER_PROGRESS, "missed": period - 1},
            )
        )
    return out


def canonical_duty(name: str | None) -> str | None:
    """The stored name of a duty (API.md's camelCase spellings accepted)."""
    return DUTY_ALIASES.get(name, name) if name is not None else None


def lateness(ticket: Ticket, now: datetime) -> dict[str, str] | None:
    """Whether finishing the current step now is late, and against what: the step's deadline as
    first set when the step began (a ladder climb at this step proves it passed: grace periods
    move `stepDueAt`, never this), or the ticket's reply deadline, whichever came first."""
    climbed = (ticket.last_escalation or "").split(":")[0] == str(ticket.step_seq)
    step_late = climbed or (ticket.step_due_at is not None and now > ticket.step_due_at)
    due = reply_due(ticket)
    due_late = due is not None and now > due
    if step_late and not climbed and ticket.step_due_at is not None:
        step_first = ticket.step_due_at
        if due_late and due is not None and due < step_first:
            return {"late": "dueAt", "deadline": due.isoformat()}
        return {"late": "step", "deadline": step_first.isoformat()}
    if step_late:  # climbed: the first deadline is gone from the ticket, and passed
        return {"late": "step"}
    if due_late and due is not None:
        return {"late": "dueAt", "deadline": due.isoformat()}
    return None


def next_due(all_duties: Sequence[Duty], after: datetime | None = None) -> datetime | None:
    """The earliest duty instant (after `after`, when given): the ticket's place on the index."""
    instants = [d.at for d in all_duties if after is None or d.at > after]
    return min(instants) if instants else None


# -- escalation criteria (DOMAIN.md §6) -------------------------------------------------------

CRITERIA = (
    "media",
    "consumer_association",
    "12315",
    "supervisory_body",
    "public_impact",
    "blacklisted",
    "repeated_failure",
    "urgent_deadline",
)
_SOURCE_CRITERIA = {
    "media": "media",
    "consumer_association": "consumer_association",
    "12315": "12315",
    "mayor_hotline": "supervisory_body",
    "public_service_review": "supervisory_body",
    "miit": "supervisory_body",
    "communications_administration": "supervisory_body",
    "supervision_hotline": "supervisory_body",
}
FAILED_ROUNDS = 2


def criteria_met(ticket: Ticket, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The escalation criteria a ticket meets now: involvement of the media, consumer association,
    12315 or another supervisory body, public impact, a blacklisted customer, ≥ 2 failed rounds,
    an urgent customer deadline (`urgent`)."""
    met = {f for f in ticket.flags if f in CRITERIA}
    if ticket.urgent:  # criterion 5: an urgent customer deadline the company can meet
        met.add("urgent_deadline")
    if ticket.source in _SOURCE_CRITERIA:
        met.add(_SOURCE_CRITERIA[ticket.source])
    if ticket.blacklisted:
        met.add("blacklisted")
    if ticket.rounds >= FAILED_ROUNDS:
        met.add("repeated_failure")
    met.update(c for c in extra if c in CRITERIA)
    return tuple(c for c in CRITERIA if c in met)


def is_emergency(ticket: Ticket, criteria: Sequence[str]) -> bool:
    """Emergency (000 ch.3 pt.3 (一)(5) "或其他紧急情况"): an urgent customer deadline the company
    can meet is enough on its own — `urgent`, or the criterion `urgent_deadline`. A ticket the
    complaint administrator downgraded (`judge_emergency {confirm: false}`) stays downgraded."""
    if ticket.emergency_judgement is not None and not ticket.emergency_judgement["confirm"]:
        return False
    return ticket.urgent or "urgent_deadline" in criteria


# Pre-authorised emergency actions (DOMAIN.md §6); the first three only where the company is at
# fault (属我司责任, `companyAtFault: true`).
PRE_AUTHORISED = (
    "points_or_m_value_return",
    "cash_refund_of_charges",
    "brand_switch",
    "credit_limit_change",
    "roaming_or_international_rights",
    "topup_card_adjustment",
)
AT_FAULT_ONLY = PRE_AUTHORISED[:3]
