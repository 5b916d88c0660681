"""What operators use to keep lifecycles moving: the executions that failed, timed out or were
aborted; the tickets the sweep could not move (stuck); and a restart of one ticket's lifecycle
at its current step (the sweep's own repair, on demand)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import shapes
from chalicelib.domain.auth import require_role
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.lifecycle import check_visible
from chalicelib.domain.records import HistoryEvent, StuckTicket
from chalicelib.domain.values import iso

from . import agenda, notifications, repair
from .context import Caller, Deps

OPERATIONS_ROLES = ("operator",)


def executions(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, OPERATIONS_ROLES)
    q = shapes.parse(shapes.ExecutionsQuery, params)
    state = deps.cursors.decode(q.cursor) if q.cursor else {}
    if state and state.get("s") != q.status:
        raise ValidationFailed([FieldError("cursor", "belongs to another `status`")])
    deps.audit.record([caller.audit("list_executions", None, deps.clock())])
    if q.status == "stuck":
        page = deps.repo.stuck(q.limit, state.get("k"))
        items = [_stuck(item) for item in page.items]
        after = {"s": q.status, "k": page.cursor} if page.cursor else None
    else:
        found, token = deps.workflows.executions(q.status, q.limit, state.get("t"))
        items = [_execution(e) for e in found]
        after = {"s": q.status, "t": token} if token else None
    return {"items": items, "nextCursor": deps.cursors.encode(after) if after else None}


def _links(ticket_id: str) -> dict[str, str]:
    return {
        "ticket": f"/tickets/{ticket_id}",
        "workflow": f"/tickets/{ticket_id}/workflow",
        "restart": f"/tickets/{ticket_id}/workflow/restart",
    }


def _execution(e: dict[str, Any]) -> dict[str, Any]:
    name = str(e.get("name", ""))
    ticket_id = name.split("-", 1)[0]  # executions are named after their ticket (repair.py)
    return {
        "ticketId": ticket_id,
        "executionArn": e.get("executionArn"),
        "name": name,
        "status": e.get("status"),
        "startedAt": iso(e.get("startDate")),
        "stoppedAt": iso(e.get("stopDate")),
        "links": _links(ticket_id),
    }


def _stuck(item: StuckTicket) -> dict[str, Any]:
    return {
        "ticketId": item.ticket_id,
        "status": "stuck",
        "since": item.since,
        "sweepAttempts": item.attempts,
        "reason": item.reason,
        "setAside": item.retry_at is None,
        "retryAt": item.retry_at,
        "ticket": {"status": item.status, "step": item.step},
        "links": _links(item.ticket_id),
    }


def restart(caller: Caller, ticket_id: str, deps: Deps) -> dict[str, Any]:
    """Start a fresh execution at the ticket's step, put it back on the sweep's due-index and
    clear its sweep failures. 409 when its execution is running or the ticket is closed."""
    ticket = deps.repo.get(ticket_id, consistent=True) if ticket_id.isalnum() else None
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    check_visible(ticket, caller.principal)  # scope before role: out of scope is no ticket
    require_role(caller.principal, OPERATIONS_ROLES)
    now = deps.clock()
    if ticket.closed:
        raise Conflict("the ticket is closed: it has no step to wait at", code="ticket_closed")
    execution = (
        deps.workflows.describe_arn(ticket.execution_arn)
        if ticket.execution_arn
        else deps.workflows.describe(ticket.id)
    )
    if execution is not None and execution["status"] == "RUNNING":
        raise Conflict(
            f"its execution is running ({execution['executionArn']}): nothing to restart",
            code="workflow_running",
        )
    first = execution is None and ticket.workflow_status != "started"
    attempt = "" if first else f"-r{now.strftime('%m%d%H%M%S')}"
    name = repair.resume_name(ticket, attempt) if not first else ticket.id
    event = HistoryEvent(
        now,
        caller.principal.username,
        caller.principal.role,
        "workflow_restarted",
        ticket.status,
        ticket.status,
        {"execution": name, "previous": execution["status"] if execution else None},
    )
    # Off the stuck-index and back on the due-index first: the new execution bumps the version
    # as it starts, and if starting fails the sweep's workflow check starts it.
    due = agenda.next_due_of(ticket, deps.rules, after=now)
    if not deps.repo.back_on_due(ticket.id, ticket.version, due or now, event):
        raise Conflict("the ticket changed meanwhile: look again", code="stale_version")
    repair.resume(ticket, now, deps, first=first, attempt=attempt)
    deps.audit.record([caller.audit("restart_workflow", ticket.id, now)])
    notifications.notify_department(
        ticket, "workflow_repaired", "operators", deps, extra={"execution": name, "by": "operator"}
    )
    return {
        "ticketId": ticket.id,
        "execution": name,
        "previousStatus": execution["status"] if execution else None,
        "step": ticket.step,
        "links": _links(ticket.id),
    }
