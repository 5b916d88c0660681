"""The sweep (every 5 minutes on AWS): chase exactly what is due, repair what is stranded.

It queries only the sparse due-index (`nextDueAt <= now`), a page at a time, never a scan. For
each due ticket it handles every duty whose instant has passed (agenda.py): pre-breach warnings,
follow-up and promised-time reminders, progress/final/approval duties, breaches, and a check that
the ticket's execution is alive (started again if it never started or died). Each notice is
claimed with a conditional write that also checks the ticket version it was computed from, so it
goes out once; then the ticket moves to its next due instant. A sweep that dies mid-page leaves
the remaining tickets due: the next sweep picks them up, and claims prevent repeats.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from chalicelib.domain.duties import Duty
from chalicelib.domain.records import HistoryEvent, TicketUnreadableError, UnreadableTicket
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.logs import logger

from . import agenda, notifications, steps
from .context import Deps

PAGE = 100


def run(deps: Deps, max_pages: int = 100, page_size: int = PAGE) -> dict[str, Any]:
    now = deps.clock()
    stats: Counter[str] = Counter()
    cursor: dict[str, Any] | None = None
    for _ in range(max_pages):
        tickets, cursor, unreadable = deps.repo.due_tickets(now, page_size, cursor)
        stats["read"] += len(tickets)
        for ticket in tickets:
            try:
                process(ticket, now, deps, stats)
            except TicketUnreadableError as err:  # it went bad since the index copy was read
                unreadable.append(err.item)
        set_aside(unreadable, deps, stats)
        if cursor is None:
            break
    keys = ("read", "sent", "breached", "repaired", "stale", "set_aside")
    return {k: stats[k] for k in keys}


def set_aside(unreadable: list[UnreadableTicket], deps: Deps, stats: Counter[str]) -> None:
    """Take tickets that do not decode off the due-index (so no sweep reads them again until
    someone rewrites them) and tell the operators once."""
    for item in unreadable:
        try:
            deps.repo.take_off_due(item)
        except Exception:
            logger.exception(
                "taking a ticket off the due-index failed", extra={"ticketId": item.ticket_id}
            )
        stats["set_aside"] += 1
    notifications.set_aside(unreadable, deps)


def process(ticket: Ticket, now: datetime, deps: Deps, stats: Counter[str]) -> None:
    current = [ticket]

    def attempt() -> bool | None:
        fresher = _handle(current[0], now, deps, stats)
        if fresher is None:
            return True
        stats["stale"] += 1
        current[0] = fresher  # the index copy was behind: go again from the table's copy
        return None

    until_settled(attempt, attempts=3, sleep=deps.sleep, give_up=lambda: False)


def _handle(ticket: Ticket, now: datetime, deps: Deps, stats: Counter[str]) -> Ticket | None:
    """Do the ticket's due duties; returns a fresher ticket when the index copy was stale."""
    for duty in agenda.of(ticket, deps.rules):
        if duty.at > now:
            continue
        claimed = deps.notices.claim(ticket.id, duty.key, now, ticket.version)
        if claimed is None:
            return deps.repo.get(ticket.id, consistent=True)
        if not claimed:
            continue
        try:
            fresher = _perform(ticket, duty, now, deps, stats)
        except Exception:
            deps.notices.release(ticket.id, duty.key)
            raise
        deps.notices.sent(ticket.id, duty.key)
        if fresher is not None:
            ticket = fresher
    if ticket.closed:
        deps.repo.set_next_due(ticket.id, None, ticket.version)
    else:
        deps.repo.set_next_due(
            ticket.id, agenda.next_due_of(ticket, deps.rules, after=now), ticket.version
        )
    return None


def _perform(
    ticket: Ticket, duty: Duty, now: datetime, deps: Deps, stats: Counter[str]
) -> Ticket | None:
    if duty.event_type == "workflow_check":
        if _repair(ticket, duty, now, deps):
            stats["repaired"] += 1
        return None
    fresher = None
    if duty.marks_breach:
        fresher = _mark_breached(ticket, duty, now, deps)
        stats["breached"] += 1
    notifications.notify_department(
        fresher or ticket,
        duty.event_type,
        duty.department,
        deps,
        level=ticket.escalation_level,
        extra={**duty.details, "notice": duty.key},
    )
    stats["sent"] += 1
    return fresher


def _mark_breached(ticket: Ticket, duty: Duty, now: datetime, deps: Deps) -> Ticket | None:
    """Record the breach for reporting: `breached`, and which duty was missed."""
    name = str(duty.details.get("duty", "reply"))
    current: list[Ticket | None] = [ticket]

    def attempt() -> Ticket | bool | None:
        seen = current[0]
        if seen is None:
            return False  # the ticket is gone
        event = HistoryEvent(
            now,
            "sweep",
            "system",
            "breached",
            seen.status,
            seen.status,
            {"duty": name, "dueAt": duty.at.isoformat()},
            seen.version + 1,
        )
        overdue = tuple(sorted({*seen.overdue_duties, name}))
        after = seen.with_changes(breached=True, updated_at=now, overdue_duties=overdue)
        stored = deps.repo.save_change(
            seen, after, event, due_at=agenda.next_due_of(after, deps.rules)
        )
        if stored is None:  # changed meanwhile: decide again from the table's copy
            current[0] = deps.repo.get(seen.id, consistent=True)
        return stored

    result = until_settled(attempt, attempts=3, sleep=deps.sleep, give_up=lambda: False)
    return result if isinstance(result, Ticket) else None


def _repair(ticket: Ticket, duty: Duty, now: datetime, deps: Deps) -> bool:
    """Start the lifecycle of a ticket that has none running; tell the operators."""
    if duty.details.get("check") == "start":
        deps.workflows.start(ticket.id, ticket.workflow_input or "")
        name = ticket.id
    else:
        execution = (
            deps.workflows.describe_arn(ticket.execution_arn) if ticket.execution_arn else None
        )
        if execution is not None and execution["status"] == "RUNNING":
            return False
        # Resume at the ticket's current step: the workflow routes there from its first state.
        deadline = ticket.step_due_at or now
        name = f"{ticket.id}-s{ticket.step_seq}e{ticket.escalation_level}"
        payload = steps.execution_input(
            ticket,
            ticket.step or steps.CLOSED_STEP,
            steps.seconds_until(deadline, now),
            agenda.next_due_of(ticket, deps.rules, after=now),
            seq=ticket.step_seq,
        )
        deps.workflows.start(ticket.id, payload, name=name)
    logger.warning("repaired a ticket's workflow", extra={"ticketId": ticket.id, "execution": name})
    notifications.notify_department(
        ticket,
        "workflow_repaired",
        "operators",
        deps,
        extra={"execution": name, "notice": duty.key},
    )
    return True
