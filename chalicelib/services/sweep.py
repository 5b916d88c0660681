"""The sweep: reads only tickets whose next due instant has passed (sparse due-index, no scan).

Today it repairs lifecycles that never started: a ticket is stored with a due instant a grace
period after intake, and its execution's first state clears it. Still due means the start failed
(or the execution never recorded itself), so the sweep starts it again, under the same name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib import config
from chalicelib.logs import logger

from .context import Deps

PAGE = 100


def run(deps: Deps, max_pages: int = 50) -> dict[str, Any]:
    now = deps.clock()
    grace = timedelta(seconds=config.workflow_start_grace_seconds())
    read = started = cleared = 0
    cursor: dict[str, Any] | None = None
    for _ in range(max_pages):
        ids, cursor = deps.repo.due(now, PAGE, cursor)
        read += len(ids)
        for ticket_id in ids:
            ticket = deps.repo.get(ticket_id, consistent=True)
            if ticket is None:
                continue
            if ticket.workflow_status == "pending" and not ticket.closed:
                deps.workflows.start(ticket.id, ticket.workflow_input or "")
                deps.repo.set_next_due(ticket.id, now + grace)
                started += 1
                logger.warning("restarted a ticket's lifecycle", extra={"ticketId": ticket.id})
            else:
                deps.repo.set_next_due(ticket.id, None)
                cleared += 1
        if cursor is None:
            break
    return {"read": read, "restarted": started, "cleared": cleared}
