"""The audit trail: one item per ticket read or write (actor, role, action, ticket, time, request)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.ids import new_id
from chalicelib.domain.records import AuditEntry
from chalicelib.domain.values import parse_storage_time, storage_time

from .models import AuditModel
from .query import time_range


def audit_model(entry: AuditEntry, retention_days: int) -> AuditModel:
    return AuditModel(
        new_id("A", entry.at),
        at=storage_time(entry.at),
        day=storage_time(entry.at)[:10],
        actor=entry.actor,
        role=entry.role,
        action=entry.action,
        ticketId=entry.ticket_id,
        requestId=entry.request_id,
        outcome=entry.outcome,
        sourceIp=entry.source_ip,
        userAgent=entry.user_agent,
        expiresAt=entry.at + timedelta(days=retention_days),
    )


def from_model(m: AuditModel) -> AuditEntry:
    return AuditEntry(
        actor=m.actor,
        role=m.role,
        action=m.action,
        ticket_id=m.ticketId,
        request_id=m.requestId,
        at=parse_storage_time(m.at),
        outcome=m.outcome,
        source_ip=m.sourceIp,
        user_agent=m.userAgent,
        id=m.id,
    )


class AuditRepository:
    def __init__(self, retention_days: int) -> None:
        self.retention_days = retention_days

    def model(self, entry: AuditEntry) -> AuditModel:
        return audit_model(entry, self.retention_days)

    def record(self, entries: Sequence[AuditEntry]) -> None:
        if len(entries) == 1:
            self.model(entries[0]).save()
            return
        with AuditModel.batch_write() as batch:
            for entry in entries:
                batch.save(self.model(entry))

    def query(
        self,
        *,
        ticket_id: str | None,
        actor: str | None,
        day: str | None,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        cursor: dict[str, Any] | None,
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        if ticket_id is not None:
            index: Any = AuditModel.ticket_index
            hash_value = ticket_id
        elif actor is not None:
            index, hash_value = AuditModel.actor_index, actor
        else:
            assert day is not None
            index, hash_value = AuditModel.day_index, day
        condition = time_range(AuditModel.at, start, end)
        filt = None
        if ticket_id is not None and actor is not None:
            filt = AuditModel.actor == actor
        results = index.query(
            hash_value,
            range_key_condition=condition,
            filter_condition=filt,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=cursor,
        )
        return [from_model(m) for m in results], results.last_evaluated_key
