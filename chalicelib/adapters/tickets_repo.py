"""Tickets, their history and idempotency records in DynamoDB, through pynamodb.

A ticket is written together with its history event (and on create its idempotency record and
audit entry) in one transaction, conditional on the version read: nothing is updated blind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.declared import specs
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import parse_storage_time, storage_time

from .models import AuditModel, EventModel, IdempotencyModel, TicketModel
from .query import connection, time_range

DUE_KEY = "due"
BREACHED_KEY = "breached"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    actor: str
    role: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]
    version: int | None = None

    def to_api(self) -> dict[str, Any]:
        from chalicelib.domain.values import iso

        return {
            "at": iso(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "fromStatus": self.from_status,
            "toStatus": self.to_status,
            "version": self.version,
            "details": self.details,
        }


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None


class IdempotencyReplay(Exception):
    """The key was used before with the same body: here is the ticket it created."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


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


def _reasons(err: TransactWriteError) -> list[str | None]:
    return [r.code if r is not None else None for r in (err.cancellation_reasons or [])]


class TicketRepository:
    """Domain verbs over the tickets and events tables."""

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        idempotency_key: str | None,
        fingerprint: str | None,
        audit: AuditModel | None = None,
        due_at: datetime | None = None,
    ) -> None:
        """Store a new ticket, its first event, its idempotency record and its audit entry at once.

        Raises IdempotencyReplay when the key was used with the same body, Conflict when it was
        used with another.
        """
        model = to_model(ticket)
        if due_at is not None:
            model.dueKey = DUE_KEY
            model.nextDueAt = storage_time(due_at)
        for attempt in range(5):
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
                return
            except TransactWriteError as err:
                reasons = _reasons(err)
                if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                    assert idempotency_key is not None
                    self._replay(idempotency_key, fingerprint)
                if "TransactionConflict" in reasons and attempt < 4:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise

    def _replay(self, key: str, fingerprint: str | None) -> None:
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

    def get(self, ticket_id: str, consistent: bool = False) -> Ticket | None:
        try:
            return from_model(TicketModel.get(ticket_id, consistent_read=consistent))
        except DoesNotExist:
            return None

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
    ) -> Ticket | None:
        """Write a changed ticket with its event, only if nothing changed since `before` was read
        — not its version, its step, nor the callback token the workflow delivered meanwhile.
        Returns None when the ticket moved on (the caller re-reads and decides again)."""
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
    ) -> tuple[list[Ticket], dict[str, Any] | None]:
        """One page of an index, newest first, between start and end (createdAt)."""
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
        items = [from_model(m) for m in results]
        return items, results.last_evaluated_key

    def due_tickets(
        self, now: datetime, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[Ticket], dict[str, Any] | None]:
        """One page of tickets whose next due instant has passed (sparse index, no scan; the
        index projects the whole ticket, possibly a moment behind the table)."""
        results = TicketModel.due_index.query(
            DUE_KEY,
            range_key_condition=TicketModel.nextDueAt <= storage_time(now),
            limit=limit,
            page_size=limit,
            last_evaluated_key=cursor,
        )
        return [from_model(m) for m in results], results.last_evaluated_key

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
