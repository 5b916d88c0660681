"""Starting a ticket's lifecycle again where it stands: the sweep's repair and the operators'
restart (POST /tickets/{id}/workflow/restart) are this one function."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.tickets import Ticket
from chalicelib.logs import logger

from . import agenda, steps
from .context import Deps


def resume_name(ticket: Ticket, attempt: str = "") -> str:
    """The execution's name: the ticket, its step sequence and escalation level, so two sweeps
    repairing the same step start it once; `attempt` tells an operator's restart apart."""
    return f"{ticket.id}-s{ticket.step_seq}e{ticket.escalation_level}{attempt}"


def resume(
    ticket: Ticket, now: datetime, deps: Deps, *, first: bool = False, attempt: str = ""
) -> str:
    """Start the ticket's lifecycle; its execution's name. `first`: it never started, so start
    it with the input stored at intake, byte-identical (a retry finds the same run). Else a new
    execution at the ticket's current step (the workflow routes there from its first state and
    records the new execution on the ticket)."""
    if first:
        deps.workflows.start(ticket.id, steps.stored_input(ticket.workflow_input))
        name = ticket.id
    else:
        deadline = ticket.step_due_at or now
        name = resume_name(ticket, attempt)
        payload = steps.execution_input(
            ticket,
            ticket.step or steps.CLOSED_STEP,
            steps.seconds_until(deadline, now),
            agenda.next_due_of(ticket, deps.rules, after=now),
            seq=ticket.step_seq,
        )
        deps.workflows.start(ticket.id, payload, name=name)
    logger.warning(
        "started a ticket's workflow again", extra={"ticketId": ticket.id, "execution": name}
    )
    return name
