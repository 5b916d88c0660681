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

from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.records import HistoryEvent, IdempotencyReplay
from chalicelib.domain.tickets import Complainant, Ticket
from chalicelib.domain.values import parse_storage_time, storage_time

from .models import AuditModel, EventModel, IdempotencyModel, TicketModel
from .query import connection, time_range

DUE_KEY = "due"
BREACHED_KEY = "breached"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None


def _opt_time(value: str | None) -> datetime | None:
    return parse_storage_time(value) if value else None


def _opt_store(value: datetime | None) -> str | None:
    return storage_time(value) if value is not None else None


def to_model(t: Ticket) -> TicketModel:
    m = TicketModel(
        t.id,
        version=t.version,
        kind=t.kind,
        status=t.status,
        channel=t.channel,
        source=t.source,
        complainant=t.complainant.to_api(),
        serviceNumber=t.service_number,
        category=t.category,
        phenomenon=t.phenomenon,
        description=t.description,
        occurredAt=_opt_store(t.occurred_at),
        location=t.location,
        expectedResult=t.expected_result,
        fields=t.fields or None,
        urgent=t.urgent,
        flags=list(t.flags) or None,
        classification=t.classification,
        slaLevel=t.sla_level,
        dueAt=_opt_store(t.due_at),
        stepDueAt=_opt_store(t.step_due_at),
        progressDueAt=_opt_store(t.progress_due_at),
        finalDueAt=_opt_store(t.final_due_at),
        breached=t.breached,
        breachedKey=BREACHED_KEY if t.breached else None,
        escalationLevel=t.escalation_level,
        priority=t.priority,
        emergency=t.emergency,
        escalated=t.escalated,
        blacklisted=t.blacklisted,
        department=t.department,
        departments=list(t.departments) or None,
        repeatOf=t.repeat_of,
        appealOf=t.appeal_of,
        bulletinId=t.bulletin_id,
        answerScript=t.answer_script,
        route=t.route,
        missingFields=list(t.missing_fields) or None,
        step=t.step,
        stepSeq=t.step_seq,
        stepStartedAt=_opt_store(t.step_started_at),
        escalationCriteria=list(t.escalation_criteria) or None,
        standardSolution=t.standard_solution,
        emergencyRecord=t.emergency_record,
        dutiesDone=t.duties_done or None,
        taskToken=t.task_token,
        tokenEscalation=t.token_escalation,
        outbox=t.outbox,
        workflowInput=t.workflow_input,
        answer=t.answer,
        dispatchedBy=t.dispatched_by,
        transfers=t.transfers,
        rounds=t.rounds,
        resolution=t.resolution,
        reply=t.reply,
        revisit=t.revisit,
        closing=t.closing,
        workflowStatus=t.workflow_status,
        executionArn=t.execution_arn,
        extra=t.extra or None,
        createdAt=storage_time(t.created_at),
        updatedAt=storage_time(t.updated_at),
        createdBy=t.created_by,
        month=storage_time(t.created_at)[:7],
    )
    return m


def from_model(m: TicketModel) -> Ticket:
    c = m.complainant or {}
    return Ticket(
        id=m.id,
        version=int(m.version),
        kind=m.kind,
        status=m.status,
        channel=m.channel,
        source=m.source,
        complainant=Complainant(
            name=c.get("name", ""),
            type=c.get("type", "ordinary"),
            contact_number=c.get("contactNumber", ""),
            reply_method=c.get("replyMethod", "phone"),
            address=c.get("address"),
        ),
        service_number=m.serviceNumber,
        category=m.category,
        phenomenon=m.phenomenon,
        description=m.description,
        occurred_at=_opt_time(m.occurredAt),
        location=m.location,
        expected_result=m.expectedResult,
        fields=m.fields or {},
        urgent=bool(m.urgent),
        flags=tuple(m.flags or ()),
        classification=m.classification,
        sla_level=m.slaLevel,
        due_at=_opt_time(m.dueAt),
        step_due_at=_opt_time(m.stepDueAt),
        progress_due_at=_opt_time(m.progressDueAt),
        final_due_at=_opt_time(m.finalDueAt),
        breached=bool(m.breached),
        escalation_level=int(m.escalationLevel or 0),
        priority=m.priority or "normal",
        emergency=bool(m.emergency),
        escalated=bool(m.escalated),
        blacklisted=bool(m.blacklisted),
        department=m.department,
        departments=tuple(m.departments or ()),
        repeat_of=m.repeatOf,
        appeal_of=m.appealOf,
        bulletin_id=m.bulletinId,
        answer_script=m.answerScript,
        route=m.route,
        missing_fields=tuple(m.missingFields or ()),
        step=m.step,
        step_seq=int(m.stepSeq or 0),
        step_started_at=_opt_time(m.stepStartedAt),
        escalation_criteria=tuple(m.escalationCriteria or ()),
        standard_solution=m.standardSolution,
        emergency_record=m.emergencyRecord,
        duties_done=m.dutiesDone or {},
        task_token=m.taskToken,
        token_escalation=int(m.tokenEscalation or 0),
        outbox=m.outbox,
        workflow_input=m.workflowInput,
        answer=m.answer,
        dispatched_by=m.dispatchedBy,
        transfers=int(m.transfers or 0),
        rounds=int(m.rounds or 0),
        resolution=m.resolution,
        reply=m.reply,
        revisit=m.revisit,
        closing=m.closing,
        workflow_status=m.workflowStatus or "pending",
        execution_arn=m.executionArn,
        extra=m.extra or {},
        created_at=parse_storage_time(m.createdAt),
        updated_at=parse_storage_time(m.updatedAt),
        created_by=m.createdBy,
    )


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
