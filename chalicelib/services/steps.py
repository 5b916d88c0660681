"""Step deadlines and the callback payloads the lifecycle state machine reads.

Deadlines are instants computed in Python with the business calendar; the state machine only
ever waits for a number of seconds derived from them (TimeoutSecondsPath).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.lifecycle import Notice
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import storage_time

from .rules import Rules

CLOSED_STEP = "closed"
FAR_FUTURE = "9999-12-31T00:00:00.000000Z"
# A wait ends at the latest this far ahead (ASL timeouts must stay below 99999999 s).
MAX_WAIT = timedelta(days=365)


def step_deadline(
    ticket: Ticket, step: str, now: datetime, rules: Rules, transfer_hours: int | None = None
) -> datetime:
    if transfer_hours is not None:
        return now + timedelta(hours=transfer_hours)
    policy = rules.policy
    if step == "handle" and ticket.due_at is not None:
        return ticket.due_at  # handling must finish by the ticket's own deadline
    limit = policy.step_limit(step, level=ticket.sla_level or "A")
    return limit.after(now, rules.calendar)


def seconds_until(deadline: datetime, now: datetime) -> int:
    remaining = (deadline - now).total_seconds()
    return max(1, min(math.ceil(remaining), int(MAX_WAIT.total_seconds())))


def callback_output(
    ticket_id: str, step: str | None, seq: int, outcome: str, timeout_seconds: int
) -> dict[str, Any]:
    """The state the workflow continues with: the next step, its sequence number and timeout."""
    return {
        "ticketId": ticket_id,
        "step": step or CLOSED_STEP,
        "seq": seq,
        "escalation": 0,
        "outcome": outcome,
        "timeoutSeconds": timeout_seconds,
    }


def execution_input(
    ticket: Ticket,
    step: str,
    timeout_seconds: int,
    next_due: datetime | None,
    seq: int = 1,
    notice: Notice | None = None,
) -> str:
    """Serialized once and stored on the ticket: a restart sends byte-identical input.
    `nextDueAt` is where the started execution puts the ticket on the sweep's due-index; status,
    summary (catalog codes only: no customer text enters an execution) and severity go into
    the `created` event it publishes; `intakeNotice` is the department notice a ticket escalated
    at intake causes, which the execution publishes too."""
    payload = callback_output(ticket.id, step, seq, "accepted", timeout_seconds)
    payload["nextDueAt"] = storage_time(next_due) if next_due else FAR_FUTURE
    payload["status"] = ticket.status
    payload["summary"] = ticket.label()  # executions carry codes and ids, never customer text
    payload["severity"] = "high" if ticket.escalated or ticket.emergency else "normal"
    payload["incidentId"] = ticket.incident_id  # issue 11: the `created` event carries it
    if notice is not None:  # published by the execution itself (ASL), never by the API
        payload["intakeNotice"] = {
            "eventType": notice.event_type,
            "department": notice.department,
            "level": str(notice.level if notice.level is not None else 0),
        }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


# -- issue 11 (incidents) ----------------------------------------------------------------------


def with_incident_opened(workflow_input: str | None, incident_id: str) -> str:
    """The execution input of the complaint that opened an incident: its execution takes the
    incident up (links the window's tickets, tells the department and the CRC, escalates)."""
    payload = json.loads(workflow_input or "{}")
    payload["incidentOpened"] = {"incidentId": incident_id}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def current_input(workflow_input: str | None) -> str:
    """A stored execution input as the state machine reads it now: one stored before the
    `created` event carried `incidentId` gets it (null), so a first start still succeeds."""
    payload = json.loads(workflow_input or "{}")
    if "incidentId" in payload:
        return workflow_input or ""
    payload["incidentId"] = None
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))
