"""A ticket's duties under the deployment's policy, and its place on the due-index."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.duties import Duty, duties, next_due
from chalicelib.domain.tickets import Ticket

from .escalation import emergency_limits
from .rules import Rules


def of(ticket: Ticket, rules: Rules) -> list[Duty]:
    return duties(ticket, rules.policy.warnings, rules.workflow_grace, emergency_limits(ticket))


def next_due_of(ticket: Ticket, rules: Rules, after: datetime | None = None) -> datetime | None:
    """When the sweep should next look at the ticket (None: nothing ahead; off the index)."""
    return next_due(of(ticket, rules), after)
