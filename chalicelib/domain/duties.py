"""What is due on an open ticket, and when: the sweep's agenda (DOMAIN.md §5–§6).

Every duty has a stable key, an instant and an addressee. The ticket's `nextDueAt` (on the sparse
due-index) is the earliest duty not yet handled, so the sweep reads only tickets with work due.

- pre-breach warnings at fractions of the current step's time (policy `warnings`, 50 % / 80 %);
- a reminder of the time promised to the customer (80 % of the ticket's own limit), and the
  breach itself at `dueAt`, until the customer has a reply;
- progress-report and final-answer duties (level F, social and superior bodies);
- emergency approval-form duties (to the CRC within 3 days, leader approval within a week);
- an execution check shortly after the step's deadline (the workflow should have escalated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .tickets import Ticket

REPLIED = ("replied", "revisited", "archived")
PROMISE_FRACTION = 0.8
DUTY_REMINDER_FRACTION = 0.8
# Past a step's deadline the workflow escalates at once; if nothing changed after this margin,
# its execution is checked (and repaired) by the sweep.
EXECUTION_CHECK_MARGIN = timedelta(minutes=2)
EMERGENCY_DUTIES = ("approvalFormToCrc", "leaderApproval")
DUTY_NAMES = ("progress_report", "final_answer", *EMERGENCY_DUTIES)


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
) -> list[Duty]:
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
    if ticket.due_at is not None and ticket.status not in REPLIED:
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
        out.append(
            Duty(
                f"{duty}:remind",
                _between(ticket.created_at, due, DUTY_REMINDER_FRACTION),
                "reminder",
                "crc",
                {"duty": duty},
            )
        )
        out.append(Duty(f"{duty}:due", due, "breached", "crc", {"duty": duty}, marks_breach=True))
    return out


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
    12315 or another supervisory body, public impact, a blacklisted customer, ≥ 2 failed rounds."""
    met = {f for f in ticket.flags if f in CRITERIA}
    if ticket.source in _SOURCE_CRITERIA:
        met.add(_SOURCE_CRITERIA[ticket.source])
    if ticket.blacklisted:
        met.add("blacklisted")
    if ticket.rounds >= FAILED_ROUNDS:
        met.add("repeated_failure")
    met.update(c for c in extra if c in CRITERIA)
    return tuple(c for c in CRITERIA if c in met)


def is_emergency(ticket: Ticket, criteria: Sequence[str]) -> bool:
    """Emergency: escalation criteria plus a very urgent customer deadline the company can meet."""
    return bool(criteria) and (ticket.urgent or "urgent_deadline" in criteria)


# Pre-authorised emergency actions (DOMAIN.md §6), each only where the company is at fault.
PRE_AUTHORISED = (
    "points_or_m_value_return",
    "cash_refund_of_charges",
    "brand_switch",
    "credit_limit_change",
    "roaming_or_international_rights",
    "topup_card_adjustment",
)
