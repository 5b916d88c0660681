"""Tickets, their history and idempotency records in DynamoDB, through pynamodb.

A ticket is written together with its history event (and on create its idempotency record and
audit entry) in one transaction, conditional on the version read: nothing is updated blind.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import (
    AttributeDeserializationError,
    DoesNotExist,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.update import Action
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from chalicelib.domain.declared import Unreadable, specs
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.records import (
    HistoryEvent,
    IdempotencyReplay,
    StuckTicket,
    TicketUnreadableError,
    UnreadableTicket,
)
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import parse_storage_time, storage_time
from chalicelib.logs import logger

from . import aws
from .models import STUCK_KEY, AuditModel, EventModel, IdempotencyModel, TicketModel
from .profile_repo import IntakeRaced, ProfileRepository, entry_of
from .query import connection, time_range

DUE_KEY = "due"
BREACHED_KEY = "breached"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DuePage:
    """A page of the due-index: the tickets, the cursor, the items that did not decode, and the
    sweep's failed attempts so far per ticket (absent: none)."""

    tickets: list[Ticket]
    cursor: dict[str, Any] | None
    unreadable: list[UnreadableTicket]
    attempts: dict[str, int]


@dataclass(frozen=True)
class StuckPage:
    items: list[StuckTicket]
    cursor: dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None


def to_model(t: Ticket) -> TicketModel:
    model = TicketModel(
        t.id,
        **{s.wire: s.encode(getattr(t, s.name)) for s in specs(Ticket) if s.name != "id"},
    )
    model.breachedKey = BREACHED_KEY if t.breached else None
    model.month = storage_time(t.created_at)[:7]
    return model


def from_model(m: TicketModel) -> Ticket:
    """The ticket of a stored item; raises `declared.Unreadable` naming the attribute that does
    not decode. Items written before a field was declared may hold it in `extra`."""
    legacy = m.extra if isinstance(m.extra, dict) else {}
    values = {}
    for spec in specs(Ticket):
        stored = getattr(m, spec.wire)
        values[spec.name] = spec.decode(legacy.get(spec.wire) if stored is None else stored)
    return Ticket(**values)


def decode(raw: dict[str, Any]) -> Ticket | UnreadableTicket:
    """One stored item, decoded on its own: the ticket, or why it is set aside."""
    try:
        return from_model(TicketModel.from_raw_data(raw))
    except Unreadable as err:
        reason = str(err)
    except AttributeDeserializationError as err:
        reason = str(err)  # names the attribute and the stored type, not the value
    except Exception as err:
        reason = f"item: {type(err).__name__}"
    stored_version = raw.get("version")
    number = (stored_version or {}).get("N")
    item = UnreadableTicket(
        ticket_id=str((raw.get("id") or {}).get("S", "?")),
        version=str(number) if number is not None else "?",
        reason=reason,
        stored_version=stored_version,
    )
    logger.error(
        "a stored ticket does not decode; it is set aside",
        extra={"ticketId": item.ticket_id, "version": item.version, "reason": reason},
    )
    return item


def _decode_all(
    raws: Iterable[dict[str, Any]],
) -> tuple[list[Ticket], list[UnreadableTicket]]:
    good: list[Ticket] = []
    bad: list[UnreadableTicket] = []
    for raw in raws:
        result = decode(raw)
        (good if isinstance(result, Ticket) else bad).append(result)  # type: ignore[arg-type]
    return good, bad


def _raw(results: ResultIterator[TicketModel]) -> Iterator[dict[str, Any]]:
    """The raw items of a query, so that each is decoded on its own: one bad item must not
    fail the page (pynamodb would map them all with `from_raw_data`)."""
    results._map_fn = None
    return iter(results)  # type: ignore[arg-type]


def event_model(ticket_id: str, event: HistoryEvent) -> EventModel:
    return EventModel(
        ticket_id,
        f"{storage_time(event.at)}#{new_id('E', event.at)}",
        at=storage_time(event.at),
        actor=event.actor,
        role=event.role,
        action=event.action,
        fromStatus=event.from_status,
        toStatus=event.to_status,
        version=event.version,
        details=event.details or None,
    )


@dataclass(frozen=True)
class IntakeWrites:
    """Intake's items of the create transaction: events on other tickets (a supplementary
    complaint on the original, a suggestion counted), raw Put and Update items
    (adapters/profile_repo.py); a failed condition on any of them raises IntakeRaced."""

    events: tuple[tuple[str, HistoryEvent], ...] = ()
    puts: tuple[dict[str, Any], ...] = ()
    updates: tuple[dict[str, Any], ...] = ()


def _summarised_change(before: Ticket, after: Ticket) -> bool:
    """Whether a complaint's profile entry (adapters/profile_repo.py) changes."""
    if after.kind != "complaint":
        return False
    return entry_of(before) != entry_of(after)


def _reasons(err: TransactWriteError) -> list[str | None]:
    return [r.code if r is not None else None for r in (err.cancellation_reasons or [])]


class TicketRepository:
    """Domain verbs over the tickets and events tables."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        idempotency_key: str | None,
        fingerprint: str | None,
        audit: AuditModel | None = None,
        due_at: datetime | None = None,
        intake: IntakeWrites | None = None,
    ) -> None:
        """Store a new ticket, its first event, its idempotency record and its audit entry at once
        — with intake's own writes (`intake`: the customer profile, suggestion indexes and counts,
        events on other tickets), in the same transaction.

        Raises IdempotencyReplay when the key was used with the same body, Conflict when it was
        used with another, IntakeRaced when what intake read changed meanwhile.
        """
        model = to_model(ticket)
        if due_at is not None:
            model.dueKey = DUE_KEY
            model.nextDueAt = storage_time(due_at)
        writes = intake or IntakeWrites()
        # positions in TransactItems (puts first, then updates) of intake's conditional items:
        # after the ticket, its event, the idempotency record, the audit entry, other events
        first = 2 + (idempotency_key is not None and fingerprint is not None) + (audit is not None)
        first += len(writes.events)
        intake_positions = set(range(first, first + len(writes.puts) + len(writes.updates)))

        def attempt() -> bool | None:
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.save(model, condition=TicketModel.id.does_not_exist())
                    tx.save(event_model(ticket.id, event))
                    if idempotency_key is not None and fingerprint is not None:
                        tx.save(
                            IdempotencyModel(
                                idempotency_key,
                                fingerprint=fingerprint,
                                ticketId=ticket.id,
                                createdAt=storage_time(ticket.created_at),
                                expiresAt=ticket.created_at
                                + timedelta(seconds=IDEMPOTENCY_TTL_SECONDS),
                            ),
                            condition=IdempotencyModel.key.does_not_exist(),
                        )
                    if audit is not None:
                        tx.save(audit)
                    for other_id, other_event in writes.events:
                        tx.save(event_model(other_id, other_event))
                    tx._put_items.extend(writes.puts)
                    tx._update_items.extend(writes.updates)
                return True
            except TransactWriteError as err:
                reasons = _reasons(err)
                if (
                    idempotency_key is not None
                    and len(reasons) > 2
                    and reasons[2] == "ConditionalCheckFailed"
                ):
                    self._replay(idempotency_key, fingerprint)
                if any(
                    r == "ConditionalCheckFailed" and i in intake_positions
                    for i, r in enumerate(reasons)
                ):
                    raise IntakeRaced() from err
                if "TransactionConflict" in reasons:
                    last[0] = err
                    return None  # another transaction held an item: try again shortly
                raise

        def give_up() -> bool:
            raise last[0] or RuntimeError("the create transaction kept conflicting")

        last: list[TransactWriteError | None] = [None]
        until_settled(attempt, attempts=5, sleep=self.sleep, give_up=give_up, backoff=0.05)

    def _replay(self, key: str, fingerprint: str | None) -> None:
        replay(key, fingerprint)

    def get(self, ticket_id: str, consistent: bool = False) -> Ticket | None:
        """The ticket, None if there is none; raises TicketUnreadableError if it is stored but
        does not decode."""
        table = TicketModel._get_connection()
        data = table.get_item(ticket_id, consistent_read=consistent)
        raw = data.get("Item")
        if raw is None:
            return None
        result = decode(raw)
        if isinstance(result, UnreadableTicket):
            raise TicketUnreadableError(result)
        return result

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        return [
            HistoryEvent(
                at=parse_storage_time(e.at),
                actor=e.actor,
                role=e.role,
                action=e.action,
                from_status=e.fromStatus,
                to_status=e.toStatus,
                details=e.details or {},
                version=int(e.version) if e.version is not None else None,
            )
            for e in EventModel.query(ticket_id)
        ]

    def save_change(
        self,
        before: Ticket,
        after: Ticket,
        event: HistoryEvent,
        audit: AuditModel | None = None,
        due_at: datetime | None = None,
        also: Sequence[Callable[[TransactWrite], None]] = (),
    ) -> Ticket | None:
        """Write a changed ticket with its event, only if nothing changed since `before` was read
        — not its version, its step, nor the callback token the workflow delivered meanwhile.
        Returns None when the ticket moved on (the caller re-reads and decides again).
        `also`: more items of the same transaction (issue 12: a case, agents' counters)."""
        stored = after.with_changes(version=before.version + 1)
        model = to_model(stored)
        if due_at is not None:
            model.dueKey, model.nextDueAt = DUE_KEY, storage_time(due_at)
        condition = (TicketModel.version == before.version) & (
            TicketModel.stepSeq == before.step_seq
        )
        condition &= (
            TicketModel.taskToken == before.task_token
            if before.task_token
            else TicketModel.taskToken.does_not_exist()
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(model, condition=condition)
                tx.save(event_model(before.id, event))
                if audit is not None:
                    tx.save(audit)
                if _summarised_change(before, stored):  # the customer profile follows (part A)
                    tx._update_items.append(ProfileRepository().entry_update(stored))
                for item in also:  # issue 12 items 4-5 (cases)
                    item(tx)
        except TransactWriteError as err:
            if "ConditionalCheckFailed" in _reasons(err):
                return None
            raise
        return stored

    def record_token(
        self,
        ticket_id: str,
        seq: int,
        escalation: int,
        token: str,
        outbox: dict[str, Any] | None = None,
    ) -> bool:
        """Keep the callback token of the step the ticket waits at; stale ones are refused."""
        try:
            TicketModel(ticket_id).update(
                actions=[
                    TicketModel.taskToken.set(token),
                    TicketModel.tokenEscalation.set(escalation),
                    TicketModel.outbox.set(outbox) if outbox else TicketModel.outbox.remove(),
                ],
                condition=(TicketModel.stepSeq == seq)
                & (
                    TicketModel.tokenEscalation.does_not_exist()
                    | (TicketModel.tokenEscalation <= escalation)
                ),
            )
        except UpdateError as err:
            if err.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- listing -------------------------------------------------------------------------

    def query(
        self,
        index: str,
        hash_value: str,
        *,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        cursor: dict[str, Any] | None,
        filters: Sequence[tuple[str, str | bool]] = (),
    ) -> tuple[list[Ticket], dict[str, Any] | None, list[UnreadableTicket]]:
        """One page of an index, newest first, between start and end (createdAt): the tickets,
        the cursor, and the items that did not decode (left out)."""
        idx = getattr(TicketModel, index)
        condition = time_range(TicketModel.createdAt, start, end)
        filter_condition = None
        for name, value in filters:
            clause = getattr(TicketModel, name) == value
            filter_condition = clause if filter_condition is None else filter_condition & clause
        results = idx.query(
            hash_value,
            range_key_condition=condition,
            filter_condition=filter_condition,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=cursor,
        )
        items, unreadable = _decode_all(_raw(results))
        return items, results.last_evaluated_key, unreadable

    def due_tickets(self, now: datetime, limit: int, cursor: dict[str, Any] | None) -> DuePage:
        """One page of tickets whose next due instant has passed (sparse index, no scan; the
        index projects the whole ticket, possibly a moment behind the table)."""
        results = TicketModel.due_index.query(
            DUE_KEY,
            range_key_condition=TicketModel.nextDueAt <= storage_time(now),
            limit=limit,
            page_size=limit,
            last_evaluated_key=cursor,
        )
        raws = list(_raw(results))
        attempts: dict[str, int] = {}
        for raw in raws:
            number = (raw.get("sweepAttempts") or {}).get("N")
            ticket_id = (raw.get("id") or {}).get("S")
            if number is not None and ticket_id is not None:
                with contextlib.suppress(ValueError):
                    attempts[ticket_id] = int(number)
        items, unreadable = _decode_all(raws)
        return DuePage(items, results.last_evaluated_key, unreadable, attempts)

    def record_failure(
        self,
        ticket_id: str,
        version: int,
        attempts: int,
        retry_at: datetime,
        reason: str,
        now: datetime,
    ) -> bool:
        """Count a failed sweep attempt at the ticket (`attempts` in all), put it back on the
        due-index at `retry_at` and on the stuck-index (since the first failure), if it is still
        at `version` (else whoever changed it placed it and the count starts again)."""
        try:
            aws.dynamodb().update_item(
                TableName=TicketModel.Meta.table_name,
                Key={"id": {"S": ticket_id}},
                UpdateExpression="SET sweepAttempts = :n, sweepError = :e, dueKey = :k, "
                "nextDueAt = :at, stuckKey = :stuck, stuckSince = if_not_exists(stuckSince, :now)",
                ConditionExpression="version = :v",
                ExpressionAttributeValues={
                    ":n": {"N": str(attempts)},
                    ":e": {"S": reason[:500]},
                    ":k": {"S": DUE_KEY},
                    ":at": {"S": storage_time(retry_at)},
                    ":v": {"N": str(version)},
                    ":stuck": {"S": STUCK_KEY},
                    ":now": {"S": storage_time(now)},
                },
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        return True

    def set_next_due(self, ticket_id: str, due_at: datetime | None, version: int) -> bool:
        """Move a ticket on the due-index, if it is still at `version` (else whoever changed
        it has placed it already)."""
        actions: list[Action] = (
            [TicketModel.dueKey.set(DUE_KEY), TicketModel.nextDueAt.set(storage_time(due_at))]
            if due_at is not None
            else [TicketModel.dueKey.remove(), TicketModel.nextDueAt.remove()]
        )
        try:
            TicketModel(ticket_id).update(actions=actions, condition=TicketModel.version == version)
        except UpdateError as err:
            if err.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def take_off_due(self, item: UnreadableTicket, now: datetime) -> bool:
        """Move an unreadable ticket from the due-index to the stuck-index, unless it was
        rewritten meanwhile (its stored version, whatever its type, is still the one seen; or
        still absent)."""
        names = {"#v": "version"}
        values: dict[str, Any] = {
            ":stuck": {"S": STUCK_KEY},
            ":now": {"S": storage_time(now)},
            ":e": {"S": f"unreadable: {item.reason}"[:500]},
        }
        args: dict[str, Any] = {"ExpressionAttributeNames": names}
        if item.stored_version is None:
            args["ConditionExpression"] = "attribute_not_exists(#v)"
        else:
            args["ConditionExpression"] = "#v = :v"
            values[":v"] = item.stored_version
        args["ExpressionAttributeValues"] = values
        try:
            aws.dynamodb().update_item(
                TableName=TicketModel.Meta.table_name,
                Key={"id": {"S": item.ticket_id}},
                UpdateExpression="SET stuckKey = :stuck, stuckSince = :now, sweepError = :e "
                "REMOVE dueKey, nextDueAt",
                **args,
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        return True

    def stuck(self, limit: int, cursor: dict[str, Any] | None) -> StuckPage:
        """One page of the stuck-index, oldest first: tickets the sweep failed at and has not
        settled since (it projects only what operators need, so unreadable items list too)."""
        args: dict[str, Any] = {
            "TableName": TicketModel.Meta.table_name,
            "IndexName": "stuck-index",
            "KeyConditionExpression": "stuckKey = :k",
            "ExpressionAttributeValues": {":k": {"S": STUCK_KEY}},
            "Limit": limit,
        }
        if cursor:
            args["ExclusiveStartKey"] = cursor
        r = aws.dynamodb().query(**args)
        items = [_stuck_item(raw) for raw in r.get("Items", [])]
        return StuckPage(items, r.get("LastEvaluatedKey"))

    def back_on_due(
        self, ticket_id: str, version: int, due_at: datetime, event: HistoryEvent
    ) -> bool:
        """Clear the sweep's failures and stuck mark, place the ticket on the due-index at
        `due_at` and record `event`, if it is still at `version`: one transaction."""
        ticket = TicketModel(ticket_id)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    ticket,
                    actions=[
                        TicketModel.dueKey.set(DUE_KEY),
                        TicketModel.nextDueAt.set(storage_time(due_at)),
                        TicketModel.sweepAttempts.remove(),
                        TicketModel.sweepError.remove(),
                        TicketModel.stuckKey.remove(),
                        TicketModel.stuckSince.remove(),
                    ],
                    condition=TicketModel.version == version,
                )
                tx.save(event_model(ticket_id, event))
        except TransactWriteError as err:
            if "ConditionalCheckFailed" in _reasons(err):
                return False
            raise
        return True


def _stuck_item(raw: dict[str, Any]) -> StuckTicket:
    def text(name: str) -> str | None:
        value = (raw.get(name) or {}).get("S")
        return value if isinstance(value, str) else None

    attempts = (raw.get("sweepAttempts") or {}).get("N")
    return StuckTicket(
        ticket_id=text("id") or "",
        since=text("stuckSince") or "",
        attempts=int(attempts) if isinstance(attempts, str) and attempts.isdigit() else 0,
        reason=text("sweepError"),
        retry_at=text("nextDueAt"),
        status=text("status"),
        step=text("step"),
    )


def replay(key: str, fingerprint: str | None) -> None:
    """A create whose idempotency record exists: the first request's result if the body is the
    same (IdempotencyReplay, naming what it created), else 409 `idempotency_key_reused`."""
    try:
        record = IdempotencyModel.get(key, consistent_read=True)
    except DoesNotExist:  # expired between the two calls: treat as new next time
        raise Conflict("the idempotency key is being reused; retry", code="retry") from None
    if record.fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used with a different request body",
            code="idempotency_key_reused",
        )
    raise IdempotencyReplay(record.ticketId)
