"""What operators see of a ticket's execution: status, current state, states entered, failures."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.auth import require_role
from chalicelib.domain.errors import NotFound
from chalicelib.domain.lifecycle import check_visible
from chalicelib.domain.values import iso

from .context import Caller, Deps

WORKFLOW_ROLES = ("operator", "complaint_manager")
_FAILURES = ("Failed", "TimedOut", "Aborted")


def describe(caller: Caller, ticket_id: str, deps: Deps) -> dict[str, Any]:
    ticket = deps.repo.get(ticket_id) if ticket_id.isalnum() else None
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    check_visible(ticket, caller.principal)  # scope before role: out of scope is no ticket
    require_role(caller.principal, WORKFLOW_ROLES)
    deps.audit.record([caller.audit("read_workflow", ticket.id, deps.clock())])
    execution = (
        deps.workflows.describe_arn(ticket.execution_arn)
        if ticket.execution_arn
        else deps.workflows.describe(ticket.id)
    )
    if execution is None:
        return {
            "ticketId": ticket.id,
            "executionArn": None,
            "status": "NOT_STARTED",
            "currentState": None,
            "states": [],
            "failures": [],
            "ticket": {"status": ticket.status, "step": ticket.step},
        }
    arn = execution["executionArn"]
    states: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for event in deps.workflows.history(arn):
        kind = event["type"]
        if kind.endswith("StateEntered"):
            states.append(
                {
                    "name": event["stateEnteredEventDetails"]["name"],
                    "enteredAt": iso(event["timestamp"]),
                    "exitedAt": None,
                }
            )
        elif kind.endswith("StateExited") and states:
            states[-1]["exitedAt"] = iso(event["timestamp"])
        elif kind.endswith(_FAILURES):
            details: dict[str, Any] = next(
                (v for k, v in event.items() if k.endswith("EventDetails")), {}
            )
            failures.append(
                {
                    "at": iso(event["timestamp"]),
                    "type": kind,
                    "error": details.get("error"),
                    "cause": details.get("cause"),
                }
            )
    running = execution["status"] == "RUNNING"
    current = states[-1]["name"] if running and states else None
    return {
        "ticketId": ticket.id,
        "executionArn": arn,
        "status": execution["status"],
        "startedAt": iso(execution.get("startDate")),
        "stoppedAt": iso(execution.get("stopDate")),
        "currentState": current,
        "states": states,
        "failures": failures,
        "ticket": {"status": ticket.status, "step": ticket.step, "version": ticket.version},
    }
