"""What goes out on SNS: every state change to ticket-events, addressed notices to departments.

Bodies follow API.md: {eventType, ticketId, at, department?, level?, status, dueAt?, summary,
links} — never the complainant record; the notifier masks phone numbers on the way out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.lifecycle import Notice
from chalicelib.domain.records import UnreadableTicket
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
    if event_type == "dispatched":  # the department is told it serves a blacklisted customer
        body["blacklisted"] = ticket.blacklisted
    if ticket.incident_id is not None:  # issue 11: events of an incident's tickets name it
        body["incidentId"] = ticket.incident_id
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
            {**message(ticket, event_type, ticket.department), **event_identity(ticket)},
            attributes(ticket, event_type, ticket.department),
        )
        for notice in notices:
            notify_department(ticket, notice.event_type, notice.department, deps, notice.level)
    except Exception:
        logger.exception("publishing a notification failed", extra={"ticketId": ticket.id})


def set_aside(items: Iterable[UnreadableTicket], deps: Deps) -> set[str]:
    """Tell the operators, once per ticket and stored version, that a stored ticket does not
    decode (or failed the sweep too often) and is left out of lists or the sweep. The message
    names the ticket, its version and the attribute or stage at fault, never the stored item.
    A failed publish releases the claim. Returns the tickets told (now or before)."""
    now = deps.clock()
    told: set[str] = set()
    newly = 0
    for item in items:
        key = f"set_aside:{item.version}"
        try:
            if not deps.notices.claim_once(item.ticket_id, key, now):
                told.add(item.ticket_id)
                continue
        except Exception:
            logger.exception(
                "claiming a set-aside notice failed", extra={"ticketId": item.ticket_id}
            )
            continue
        try:
            body = {
                "eventType": "ticket_set_aside",
                "ticketId": item.ticket_id,
                "at": iso(now),
                "department": "operators",
                "version": item.version,
                "reason": item.reason,
                "links": {"self": f"/tickets/{item.ticket_id}"},
            }
            deps.notifier.department(
                body,
                {
                    "eventType": "ticket_set_aside",
                    "ticketId": item.ticket_id,
                    "department": "operators",
                    "level": 0,
                    "severity": "high",
                },
            )
        except Exception:
            deps.notices.release(item.ticket_id, key)  # the next reader tries again
            logger.exception(
                "reporting an unreadable ticket failed", extra={"ticketId": item.ticket_id}
            )
            continue
        deps.notices.sent(item.ticket_id, key)
        told.add(item.ticket_id)
        newly += 1
    if newly:
        telemetry.count("TicketsSetAside", newly)  # the stack's alarm watches it
    return told


def department_notice(
    ticket: Ticket,
    event_type: str,
    department: str,
    level: int | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body and attributes of a notice addressed to a department."""
    return (
        {**message(ticket, event_type, department, level), **(extra or {})},
        attributes(ticket, event_type, department, level),
    )


def notify_department(
    ticket: Ticket,
    event_type: str,
    department: str,
    deps: Deps,
    level: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    deps.notifier.department(*department_notice(ticket, event_type, department, level, extra))


# -- issue 12 (KPIs): what the aggregator needs on every ticket event (decision 0018) ---------


def event_identity(ticket: Ticket) -> dict[str, Any]:
    """`eventId` (the ticket id and its stored version: the same on any re-publish of this
    change), `version`, and `kpi`: the ticket's KPI facts now (catalog codes and counts, never
    personal data), null for what is not a complaint."""
    from chalicelib.domain import kpis

    return {
        "eventId": f"{ticket.id}:{ticket.version}",
        "version": ticket.version,
        "kpi": kpis.facts(ticket),
    }
