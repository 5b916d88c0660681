"""A ticket's duties under the deployment's policy, and its place on the due-index."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.duties import Duty, duties, next_due
from chalicelib.domain.tickets import Ticket

from .escalation import emergency_limits
from .rules import Rules


def of(ticket: Ticket, rules: Rules) -> list[Duty]:
    return duties(
        ticket,
        rules.policy.warnings,
        rules.workflow_grace,
        emergency_limits(ticket),
        customer_progress(ticket, rules),
    )


def customer_progress(ticket: Ticket, rules: Rules) -> Callable[[datetime], datetime] | None:
    """When an escalated ticket's next progress report to the customer is due after one given
    at `t` (policy `customerProgress`, on the business calendar); None when the policy has no
    such duty or the ticket is not escalated (no calendar is loaded for it)."""
    interval = rules.policy.customer_progress
    if interval is None or not ticket.escalated:
        return None
    calendar = rules.calendar
    return lambda t: interval.after(t, calendar)


def next_due_of(ticket: Ticket, rules: Rules, after: datetime | None = None) -> datetime | None:
    """When the sweep should next look at the ticket (None: nothing ahead; off the index)."""
    return next_due(of(ticket, rules), after)
