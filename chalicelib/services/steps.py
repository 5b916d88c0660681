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
    # issue 11: the `created` event names the bulletin a ticket was answered from (null if none),
    # for the reports (`bulletin_answered`)
    payload["bulletinId"] = ticket.bulletin_id
    # issue 12 (KPIs): the `created` event's id and the ticket's KPI facts (decision 0018)
    from .notifications import event_identity

    payload.update(event_identity(ticket))
    payload["incidentId"] = ticket.incident_id  # issue 11: the `created` event carries it
    if notice is not None:  # published by the execution itself (ASL), never by the API
        payload["intakeNotice"] = {
            "eventType": notice.event_type,
            "department": notice.department,
            "level": str(notice.level if notice.level is not None else 0),
        }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


# The first state announces members added since some tickets were stored ("$.bulletinId" fails
# when it is absent): a stored input that lacks one gets it (null) when the sweep or an operator
# first starts it.
_ADDED_MEMBERS = ("bulletinId", "incidentId")  # issue 11: bulletins, incidents


def stored_input(raw: str | None) -> str:
    """The input stored at intake, as the current workflow reads it: unchanged (byte-identical,
    so a repeated start finds the same execution) unless it lacks a member added since."""
    try:
        payload = json.loads(raw or "{}")
    except ValueError:
        return raw or ""
    if not isinstance(payload, dict) or all(m in payload for m in _ADDED_MEMBERS):
        return raw or ""
    for member in _ADDED_MEMBERS:
        payload.setdefault(member, None)
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


# -- issue 11 (incidents) ----------------------------------------------------------------------


def with_incident_opened(workflow_input: str | None, incident_id: str) -> str:
    """The execution input of the complaint that opened an incident: its execution takes the
    incident up (links the window's tickets, tells the department and the CRC, escalates)."""
    payload = json.loads(workflow_input or "{}")
    payload["incidentOpened"] = {"incidentId": incident_id}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))
