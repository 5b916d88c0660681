"""A ticket's duties under the deployment's policy, and its place on the due-index."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain.duties import Duty, duties, next_due
from chalicelib.domain.tickets import Ticket

from . import rules
from .escalation import emergency_limits


def of(ticket: Ticket) -> list[Duty]:
    return duties(
        ticket,
        rules.policy().warnings,
        timedelta(seconds=config.workflow_start_grace_seconds()),
        emergency_limits(ticket),
    )


def next_due_of(ticket: Ticket, after: datetime | None = None) -> datetime | None:
    """When the sweep should next look at the ticket (None: nothing ahead; off the index)."""
    return next_due(of(ticket), after)
