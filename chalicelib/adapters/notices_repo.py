"""Each sweep notice goes out once: claimed with a conditional write, then marked sent.

A claim holds a lease; a sweep that died between claiming and sending leaves a claim that the
next sweep may take over once the lease has run out. A send that failed releases its claim.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.values import storage_time

from .models import NoticeModel, TicketModel
from .query import connection

LEASE = timedelta(minutes=10)
KEEP = timedelta(days=120)


class NoticeRepository:
    def claim(self, ticket_id: str, key: str, now: datetime, version: int) -> bool | None:
        """True: ours to send. False: sent or being sent. None: the ticket is no longer at
        `version` (the duty was computed from a stale copy)."""
        m = NoticeModel(
            ticket_id,
            key,
            status="claimed",
            leaseUntil=storage_time(now + LEASE),
            expiresAt=now + KEEP,
        )
        free = NoticeModel.key.does_not_exist() | (
            (NoticeModel.status == "claimed") & (NoticeModel.leaseUntil < storage_time(now))
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.condition_check(TicketModel, ticket_id, condition=TicketModel.version == version)
                tx.save(m, condition=free)
        except TransactWriteError as err:
            reasons = [r.code if r else None for r in (err.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return None
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def claim_once(self, ticket_id: str, key: str, now: datetime) -> bool:
        """True the first time `key` is claimed for the ticket (kept `KEEP`; `sent` or `release`
        it after), False after: a plain conditional write, for notices about items that may
        lack a readable version."""
        m = NoticeModel(
            ticket_id, key, status="claimed", leaseUntil=storage_time(now), expiresAt=now + KEEP
        )
        try:
            m.save(condition=NoticeModel.key.does_not_exist())
        except PutError as err:
            if err.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def sent(self, ticket_id: str, key: str) -> None:
        # If the claim vanished (TTL), the notice went out all the same.
        with contextlib.suppress(UpdateError):
            NoticeModel(ticket_id, key).update(
                actions=[NoticeModel.status.set("sent")], condition=NoticeModel.key.exists()
            )

    def release(self, ticket_id: str, key: str) -> None:
        with contextlib.suppress(DeleteError):
            NoticeModel(ticket_id, key).delete(condition=NoticeModel.status == "claimed")
