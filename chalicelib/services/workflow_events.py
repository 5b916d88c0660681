"""What the lifecycle state machine asks of the app: callback tokens and overdue steps.

- `on_task_token`: each human step sends `{ticketId, step, seq, escalation, taskToken}` through
  the task-token queue. The token is kept only if it is for the step the ticket waits at (same
  sequence number, no older escalation); if that step was already completed (its output sits in
  the outbox), the output is delivered with the new token. Clients never see tokens.
- `escalate_step`: a step's callback timed out. The ticket climbs one level of the ladder
  (handler → department administrator → CRC complaint manager → leader in charge →
  vice-president), the level is notified, and the workflow waits again with that level's grace
  period. Past the top the breach is recorded once and the leaders told; the ticket stays open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.lifecycle import DEPARTMENT_STEPS
from chalicelib.domain.records import HistoryEvent
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.logs import logger

from . import agenda, notifications, steps
from .context import Deps
from .rules import Rules

# When the step was completed while its wait timed out, wait briefly: the outbox answers.
REDELIVERY_WAIT_SECONDS = 2


def on_task_token(message: dict[str, Any], deps: Deps) -> str:
    ticket_id = str(message["ticketId"])
    seq, escalation = int(message["seq"]), int(message.get("escalation", 0))
    token = str(message["taskToken"])

    def attempt() -> str | None:
        ticket = deps.repo.get(ticket_id, consistent=True)
        if ticket is None:
            return "unknown-ticket"
        # The workflow waits at `seq`: every completion before it has been delivered.
        pending = {k: v for k, v in (ticket.outbox or {}).items() if int(k) >= seq}
        if ticket.step_seq == seq and ticket.step == message.get("step"):
            if deps.repo.record_token(ticket_id, seq, escalation, token, pending or None):
                return "recorded"
            return None  # an action completed the step meanwhile: look again
        if str(seq) in pending:  # that step was completed before its token arrived
            deps.workflows.complete(token, pending[str(seq)])
            return "redelivered"
        logger.info("ignored a stale task token", extra={"ticketId": ticket_id, "seq": seq})
        return "stale"

    def give_up() -> str:
        raise RuntimeError(f"ticket {ticket_id} kept changing while its token was recorded")

    return until_settled(attempt, attempts=4, sleep=deps.sleep, give_up=give_up)


def escalate_step(state: dict[str, Any], deps: Deps) -> dict[str, Any]:
    ticket_id = str(state["ticketId"])
    seq, escalation = int(state["seq"]), int(state.get("escalation", 0))
    base: dict[str, Any] = {
        k: state[k] for k in ("ticketId", "step", "seq", "outcome") if k in state
    }

    def attempt() -> dict[str, Any] | None:
        ticket = deps.repo.get(ticket_id, consistent=True)
        if ticket is None or ticket.closed:
            return {
                **base,
                "step": steps.CLOSED_STEP,
                "escalation": escalation,
                "timeoutSeconds": 1,
            }
        if ticket.step_seq != seq:
            return {**base, "escalation": escalation, "timeoutSeconds": REDELIVERY_WAIT_SECONDS}
        result = _climb(ticket, escalation + 1, deps)
        if result is None:
            return None
        return {**base, "escalation": escalation + 1, "timeoutSeconds": result}

    def give_up() -> dict[str, Any]:
        raise RuntimeError(f"ticket {ticket_id} kept changing while escalating")

    return until_settled(attempt, attempts=4, sleep=deps.sleep, give_up=give_up)


def _climb(ticket: Ticket, level: int, deps: Deps) -> int | None:
    """Raise the ticket to `level` for its current step; returns the next wait in seconds."""
    now = deps.clock()
    ladder = deps.rules.catalog.ladder
    top = ladder[-1].level
    step = ticket.step or ""
    handler = ticket.department if step in DEPARTMENT_STEPS and ticket.department else "crc"
    exhausted = level > top
    rung = ladder[min(level, top)]
    department = rung.department or handler
    marker = f"{ticket.step_seq}:{level}"
    if ticket.last_escalation == marker:  # a retried invocation: already done
        return _grace_seconds(deps.rules, level, now)
    grace = _grace_seconds(deps.rules, level, now)
    changes: dict[str, Any] = {
        "escalation_level": max(ticket.escalation_level, min(level, top)),
        "updated_at": now,
        "step_due_at": now + timedelta(seconds=grace),
        "last_escalation": marker,
        "overdue_step": step,
    }
    if exhausted:
        changes["breached"] = True
    event = HistoryEvent(
        at=now,
        actor="workflow",
        role="system",
        action="ladder_exhausted" if exhausted else "escalated",
        from_status=ticket.status,
        to_status=ticket.status,
        details={
            "step": step,
            "level": min(level, top),
            "to": rung.code,
            "department": department,
            "overdue": True,
        },
        version=ticket.version + 1,
    )
    after = ticket.with_changes(**changes)
    stored = deps.repo.save_change(
        ticket, after, event, due_at=agenda.next_due_of(after, deps.rules)
    )
    if stored is None:
        return None
    try:
        if level == 1:  # the handling department is chased (催办) as its admin is told
            notifications.notify_department(stored, "reminder", handler, deps, level=0)
        notifications.notify_department(
            stored,
            "breached" if exhausted else "escalated",
            department,
            deps,
            level=min(level, top),
        )
        notifications.state_changed(stored, "escalated", deps)
    except Exception:
        logger.exception("escalation notice failed", extra={"ticketId": ticket.id})
    return grace


def _grace_seconds(rules: Rules, level: int, now: datetime) -> int:
    if level > len(rules.policy.ladder_grace):
        return int(steps.MAX_WAIT.total_seconds())
    grace = rules.policy.ladder_grace[level - 1]
    return steps.seconds_until(grace.after(now, rules.calendar), now)
