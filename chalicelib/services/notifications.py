"""What goes out on SNS: every state change to ticket-events, addressed notices to departments.

Bodies follow API.md: {eventType, ticketId, at, department?, level?, status, dueAt?, summary,
links} — never the complainant record; the notifier masks phone numbers on the way out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.domain.lifecycle import Notice
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import iso
from chalicelib.logs import logger

from .context import Deps

SEVERITY = {"urgent": "high", "high": "high", "normal": "normal"}


def message(
    ticket: Ticket, event_type: str, department: str | None = None, level: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventType": event_type,
        "ticketId": ticket.id,
        "at": iso(ticket.updated_at),
        "status": ticket.status,
        "step": ticket.step,
        "summary": ticket.summary(),
        "links": {"self": f"/tickets/{ticket.id}", "history": f"/tickets/{ticket.id}/history"},
    }
    if department:
        body["department"] = department
    if level is not None:
        body["level"] = level
    due = ticket.step_due_at or ticket.due_at
    if due is not None:
        body["dueAt"] = iso(due)
    return body


def attributes(
    ticket: Ticket, event_type: str, department: str | None, level: int | None = None
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "ticketId": ticket.id,
        "department": department,
        "level": level if level is not None else ticket.escalation_level,
        "severity": "high" if ticket.emergency or ticket.escalated else SEVERITY[ticket.priority],
    }


def state_changed(
    ticket: Ticket, event_type: str, deps: Deps, notices: Iterable[Notice] = ()
) -> None:
    """Publish the change; a failed publish is logged, never undoes the stored change."""
    try:
        deps.notifier.ticket_event(
            message(ticket, event_type, ticket.department),
            attributes(ticket, event_type, ticket.department),
        )
        for notice in notices:
            notify_department(ticket, notice.event_type, notice.department, deps, notice.level)
    except Exception:
        logger.exception("publishing a notification failed", extra={"ticketId": ticket.id})


def notify_department(
    ticket: Ticket,
    event_type: str,
    department: str,
    deps: Deps,
    level: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    deps.notifier.department(
        {**message(ticket, event_type, department, level), **(extra or {})},
        attributes(ticket, event_type, department, level),
    )
