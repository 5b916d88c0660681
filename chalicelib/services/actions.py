"""Lifecycle actions through the API: check the rules, record the event, complete the callback.

The ticket write is conditional on what was read (version, step sequence, callback token) and
carries the callback output in an *outbox*; completing the callback comes after. If completing it
fails or the token was stale, the workflow asks again (a re-wait after a timeout) and the token
handler answers from the outbox: a step is never completed twice, never stranded.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import lifecycle
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.records import HistoryEvent
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.vocabulary import FLAGS
from chalicelib.logs import logger

from . import agenda, escalation, library, notifications, steps
from .context import Caller, Deps
from .intake import required_fields_state
from .tickets import Created, create_ticket

ATTEMPTS = 4


def perform(
    caller: Caller,
    ticket_id: str,
    action: str,
    body: Any,
    expected: int | None,
    deps: Deps,
) -> Ticket:
    """Apply `action`; `expected` is the version the caller last read (If-Match), if any."""

    def attempt() -> Ticket | None:
        ticket = deps.repo.get(ticket_id, consistent=True)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        # out of the caller's scope it is answered as missing, before anything else is checked
        lifecycle.check_visible(ticket, caller.principal)
        if expected is not None and ticket.version != expected:
            raise Conflict(
                f"If-Match {expected} is stale: the ticket is at version {ticket.version}",
                code="stale_version",
            )
        return _attempt(caller, ticket, action, body, deps)

    def give_up() -> Ticket:
        raise Conflict("the ticket kept changing; reload and try again", code="stale_version")

    return until_settled(attempt, attempts=ATTEMPTS, sleep=deps.sleep, give_up=give_up)


def _attempt(caller: Caller, ticket: Ticket, action: str, body: Any, deps: Deps) -> Ticket | None:
    p = caller.principal
    now = deps.clock()
    rules = deps.rules
    catalog = rules.catalog
    decision = lifecycle.decide(action, ticket, p, body, catalog, now)
    after = ticket.with_changes(**decision.changes, status=decision.to_status, updated_at=now)
    if "fields" in decision.changes or decision.reclassified:
        merged = {
            **after.fields,
            "serviceNumber": after.service_number,
            "contactNumber": after.complainant.contact_number,
        }
        missing, bad = required_fields_state(after.phenomenon, merged, catalog)
        if bad:
            raise ValidationFailed(bad)
        after = after.with_changes(missing_fields=tuple(missing))
    if "sla_level" in decision.changes and after.sla_level != ticket.sla_level:
        # the dispatcher set the level: the deadlines promised follow it
        deadlines = rules.policy.deadlines(
            ticket.created_at,
            after.sla_level or "A",
            after.channel,
            after.source,
            rules.calendar,
            after.category,
        )
        after = after.with_changes(
            due_at=deadlines.due_at,
            progress_due_at=deadlines.progress_due_at,
            final_due_at=deadlines.final_due_at,
        )
    after, notices = escalation.reassess(after, now, rules, decision.extra.get("criteria", ()))
    if action == "escalate" and not notices and not after.escalated:
        after = after.with_changes(escalated=True, priority="high")
        notices = (lifecycle.Notice("escalated", "crc", escalation.COMPLAINT_MANAGER_LEVEL),)
    output: dict[str, Any] | None = None
    if decision.completes_step:
        seq = ticket.step_seq + 1
        timeout = 1
        step_due = None
        if decision.next_step is not None:
            step_due = steps.step_deadline(
                after, decision.next_step, now, rules, decision.transfer_hours
            )
            timeout = steps.seconds_until(step_due, now)
        output = steps.callback_output(
            ticket.id, decision.next_step, seq, decision.outcome, timeout
        )
        after = after.with_changes(
            step=decision.next_step,
            step_seq=seq,
            step_due_at=step_due,
            step_started_at=now,
            task_token=None,
            token_escalation=0,
            # kept until the workflow is seen past this step; several may wait when actions
            # come faster than the execution moves
            outbox={**(ticket.outbox or {}), str(ticket.step_seq): output},
        )
    # issue 12 items 4-5 (cases): the case archived, the mistakes rated and a mis-transfer ride
    # on this transaction
    effects = library.effects(caller, ticket, after, decision, deps, now)
    after = effects.ticket
    event = HistoryEvent(
        at=now,
        actor=p.username,
        role=p.role,
        action=action,
        from_status=ticket.status,
        to_status=decision.to_status,
        details={**decision.details, **effects.details, "requestId": caller.request_id},
        version=ticket.version + 1,
    )
    audit = deps.audit.model(caller.audit(action, ticket.id, now))
    due_at = agenda.next_due_of(after, rules)
    stored = deps.repo.save_change(ticket, after, event, audit, due_at=due_at, also=effects.items)
    if stored is None:
        return None  # the workflow delivered a token or someone acted meanwhile: decide again
    delivered = output is not None and ticket.task_token is not None
    if delivered and not deps.workflows.complete(str(ticket.task_token), output or {}):
        logger.info(
            "callback token was stale; the outbox answers the next wait",
            extra={"ticketId": ticket.id, "step": ticket.step},
        )
    if decision.completes_step or notices or decision.notices:
        notifications.state_changed(stored, action, deps, (*decision.notices, *notices))
    return stored


# -- issue 10 part B (flows): appeals ---------------------------------------------------------


def appeal(
    caller: Caller,
    ticket_id: str,
    body: Any,
    idempotency_key: str | None,
    expected: int | None,
    deps: Deps,
) -> Created:
    """申诉 (seed 004 §5.1): a new ticket linked to a replied, revisited or archived one
    (`appealOf`), created through the intake path (so `Idempotency-Key` holds: a retried appeal
    answers the first appeal ticket), then recorded in the original's history."""
    p = caller.principal
    original = deps.repo.get(ticket_id, consistent=True)
    if original is None:
        raise NotFound(f"no ticket {ticket_id}")
    lifecycle.check_visible(original, p)
    if expected is not None and original.version != expected:
        raise Conflict(
            f"If-Match {expected} is stale: the ticket is at version {original.version}",
            code="stale_version",
        )
    now = deps.clock()
    decision = lifecycle.decide("appeal", original, p, body, deps.rules.catalog, now)
    parsed = decision.extra["appeal"]
    created = create_ticket(
        caller,
        appeal_ticket_body(original, parsed.description, parsed.source),
        idempotency_key,
        deps,
        prepare=lambda t: as_appeal(t, original.id, parsed.source, parsed.level, deps),
    )
    if not created.replayed:
        _record_appeal(caller, original, created.ticket, decision.details, deps)
    return created


def appeal_ticket_body(original: Ticket, description: str, source: str) -> dict[str, Any]:
    """The intake body of an appeal: the original's customer and classification, the appeal's
    words and source. An appeal from a supervisory source carries its flag (`media`,
    `consumer_association`, else `supervisory_body`): it is an escalated complaint."""
    body: dict[str, Any] = {
        "kind": "complaint",
        "channel": original.channel,
        "source": source,
        "complainant": original.complainant.to_api(),
        "serviceNumber": original.service_number,
        "description": description,
    }
    if original.phenomenon:
        body["phenomenon"] = original.phenomenon
    elif original.category:
        body["category"] = original.category
    if original.location:
        body["location"] = dict(original.location)
    if original.fields:
        body["fields"] = dict(original.fields)
    if source in lifecycle.SUPERVISORY_APPEAL_SOURCES:
        body["flags"] = [source if source in FLAGS else "supervisory_body"]
    return body


def as_appeal(ticket: Ticket, original_id: str, source: str, level: str, deps: Deps) -> Ticket:
    """The assessed appeal ticket, linked, with the limit of its level (the strictest applicable
    rule still wins) and priority (重大紧急 → urgent, else high)."""
    rules = deps.rules
    sla_level = lifecycle.APPEAL_LEVELS[level]
    deadlines = rules.policy.deadlines(
        ticket.created_at, sla_level, ticket.channel, ticket.source, rules.calendar, ticket.category
    )
    report = source not in lifecycle.UNREPORTED_APPEAL_SOURCES
    return ticket.with_changes(
        appeal_of=original_id,
        appeal={"source": source, "level": level, "reportRequired": report},
        sla_level=deadlines.sla_level,
        due_at=deadlines.due_at,
        progress_due_at=deadlines.progress_due_at,
        final_due_at=deadlines.final_due_at,
        sla_rule=deadlines.rule,
        priority="urgent" if level == "major_urgent" else "high",
    )


def _record_appeal(
    caller: Caller, original: Ticket, appeal_ticket: Ticket, details: dict[str, Any], deps: Deps
) -> None:
    """The original's history names its appeal (the original itself does not change). The
    ticket read for the checks is written against first; it is read again only if it moved."""
    p = caller.principal
    original_id = original.id
    read: list[Ticket | None] = [original]

    def attempt() -> bool | None:
        ticket = read.pop() if read else deps.repo.get(original_id, consistent=True)
        if ticket is None:
            return False
        now = deps.clock()
        event = HistoryEvent(
            at=now,
            actor=p.username,
            role=p.role,
            action="appeal",
            from_status=ticket.status,
            to_status=ticket.status,
            details={**details, "appealId": appeal_ticket.id, "requestId": caller.request_id},
            version=ticket.version + 1,
        )
        audit = deps.audit.model(caller.audit("appeal", ticket.id, now))
        after = ticket.with_changes(updated_at=now)
        due_at = agenda.next_due_of(after, deps.rules)
        stored = deps.repo.save_change(ticket, after, event, audit, due_at=due_at)
        return None if stored is None else True

    def give_up() -> bool:
        logger.warning(
            "the appeal was created; recording it on the original kept conflicting",
            extra={"ticketId": original_id, "appealId": appeal_ticket.id},
        )
        return False

    until_settled(attempt, attempts=ATTEMPTS, sleep=deps.sleep, give_up=give_up)
