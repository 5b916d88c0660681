"""Criteria-based escalation and emergencies (DOMAIN.md §6), applied at intake and whenever a
ticket changes: the ticket becomes `escalated`, its priority rises, the complaint manager is told
and gets the catalog's standard solution; an emergency also gets its pre-authorised actions and
the approval-form duties the sweep chases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.duties import PRE_AUTHORISED, criteria_met, is_emergency
from chalicelib.domain.lifecycle import Notice
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import iso

from .rules import Rules

COMPLAINT_MANAGER_LEVEL = 2


def reassess(
    ticket: Ticket, now: datetime, rules: Rules, extra: Sequence[str] = ()
) -> tuple[Ticket, tuple[Notice, ...]]:
    """The ticket with any newly met criteria applied, and the notices that causes."""
    met = criteria_met(ticket, (*ticket.escalation_criteria, *extra))
    new = tuple(c for c in met if c not in ticket.escalation_criteria)
    if not new:
        return ticket, ()
    emergency = ticket.emergency or is_emergency(ticket, met)
    changes: dict[str, Any] = {
        "escalated": True,
        "escalation_criteria": met,
        "priority": "urgent" if emergency else "high",
        "escalation_level": max(ticket.escalation_level, COMPLAINT_MANAGER_LEVEL),
        "escalated_at": ticket.escalated_at or now,  # part C: the customer's progress counts
    }
    phenomenon = rules.catalog.phenomenon(ticket.phenomenon) if ticket.phenomenon else None
    if phenomenon is not None and phenomenon.standard_solution:
        changes["standard_solution"] = phenomenon.standard_solution
    if emergency and not ticket.emergency:
        changes["emergency"] = True
        changes["emergency_record"] = emergency_record(now, rules)
    escalated = ticket.with_changes(**changes)
    return escalated, intake_notices(escalated)


def emergency_record(now: datetime, rules: Rules) -> dict[str, Any]:
    policy, calendar = rules.policy, rules.calendar
    duties = {
        name: iso(limit.after(now, calendar)) for name, limit in policy.emergency_duties.items()
    }
    return {
        "declaredAt": iso(now),
        # Act first, approve after ("outside first, inside later"), only where we are at fault.
        "preAuthorisedActions": list(PRE_AUTHORISED),
        "dutiesDueAt": duties,
    }


def emergency_limits(ticket: Ticket) -> dict[str, datetime]:
    if not ticket.emergency_record:
        return {}
    due = ticket.emergency_record.get("dutiesDueAt", {})
    return {name: datetime.fromisoformat(at) for name, at in due.items()}


def intake_notices(ticket: Ticket) -> tuple[Notice, ...]:
    """The notices a ticket escalated at intake causes (the CRC's complaint manager)."""
    if not ticket.escalated:
        return ()
    return (Notice("escalated", "crc", COMPLAINT_MANAGER_LEVEL),)
