"""Each sweep notice goes out once: claimed with a conditional write, then marked sent.

A claim holds a lease; a sweep that died between claiming and sending leaves a claim that the
next sweep may take over once the lease has run out. A send that failed releases its claim.
The sweep claims all of a ticket's due notices in one transaction (`claim_all`) and marks them
sent in the same transaction that moves the ticket on the due-index (`settle`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.values import parse_storage_time, storage_time

from .models import NoticeModel, TicketModel
from .query import connection
from .tickets_repo import DUE_KEY

LEASE = timedelta(minutes=10)
KEEP = timedelta(days=120)


@dataclass(frozen=True)
class Claimed:
    """The notices claimed for this sweep, and until when another sweep holds some of the
    others without having sent them (None: the others are sent)."""

    keys: set[str]
    held_until: datetime | None = None


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

    def claim_all(
        self, ticket_id: str, keys: Sequence[str], now: datetime, version: int
    ) -> Claimed | None:
        """Claim every notice of `keys` that is free, in one transaction that also checks the
        ticket is still at `version`. Returns the keys claimed (ours to send; the others are
        sent or being sent), or None when the ticket moved on (the duties were computed from a
        stale copy). One call; when some key was taken already, one read of the ticket's
        notices (to learn until when another sweep holds them) and the claim again."""
        wanted = list(dict.fromkeys(keys))
        lease = storage_time(now + LEASE)
        free = NoticeModel.key.does_not_exist() | (
            (NoticeModel.status == "claimed") & (NoticeModel.leaseUntil < storage_time(now))
        )
        held: datetime | None = None
        while True:
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.condition_check(
                        TicketModel, ticket_id, condition=TicketModel.version == version
                    )
                    for key in wanted:
                        tx.save(
                            NoticeModel(
                                ticket_id,
                                key,
                                status="claimed",
                                leaseUntil=lease,
                                expiresAt=now + KEEP,
                            ),
                            condition=free,
                        )
            except TransactWriteError as err:
                reasons = [r.code if r else None for r in (err.cancellation_reasons or [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return None
                taken = {
                    key
                    for key, reason in zip(wanted, reasons[1:], strict=False)
                    if reason == "ConditionalCheckFailed"
                }
                if not taken:
                    raise
                wanted = [key for key in wanted if key not in taken]
                held = self._held(ticket_id, taken, now) or held
                continue
            return Claimed(set(wanted), held)

    def _held(self, ticket_id: str, keys: set[str], now: datetime) -> datetime | None:
        """The latest lease another sweep holds on one of `keys` without having sent it."""
        leases = [
            n.leaseUntil
            for n in NoticeModel.query(ticket_id, consistent_read=True)
            if n.key in keys and n.status == "claimed" and n.leaseUntil >= storage_time(now)
        ]
        return parse_storage_time(max(leases)) if leases else None

    def settle(
        self,
        ticket_id: str,
        keys: Sequence[str],
        now: datetime,
        *,
        version: int,
        next_due: datetime | None = None,
        place: bool = True,
    ) -> bool:
        """Mark `keys` sent and, if the ticket is still at `version`, move it to `next_due` on
        the due-index (off it when None) and clear its failed attempts: one transaction. When
        the ticket changed meanwhile (whoever changed it placed it), only the notices are
        marked (as when `place` is false). Returns whether the ticket was moved."""
        ticket = TicketModel(ticket_id)
        moves = (
            [TicketModel.dueKey.set(DUE_KEY), TicketModel.nextDueAt.set(storage_time(next_due))]
            if next_due is not None
            else [TicketModel.dueKey.remove(), TicketModel.nextDueAt.remove()]
        )
        move = place
        while True:
            if not keys and not move:
                return False
            try:
                with TransactWrite(connection=connection()) as tx:
                    if move:
                        tx.update(
                            ticket,
                            actions=[
                                *moves,
                                TicketModel.sweepAttempts.remove(),
                                TicketModel.sweepError.remove(),
                                TicketModel.stuckKey.remove(),
                                TicketModel.stuckSince.remove(),
                            ],
                            condition=TicketModel.version == version,
                        )
                    for key in keys:
                        tx.update(
                            NoticeModel(ticket_id, key),
                            actions=[
                                NoticeModel.status.set("sent"),
                                NoticeModel.expiresAt.set(now + KEEP),
                            ],
                        )
            except TransactWriteError as err:
                reasons = [r.code if r else None for r in (err.cancellation_reasons or [])]
                if move and reasons and reasons[0] == "ConditionalCheckFailed":
                    move = False
                    continue
                raise
            return move

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

    def release_all(self, ticket_id: str, keys: Sequence[str]) -> None:
        """Give back claims whose notices did not go out (the next attempt sends them)."""
        for key in keys:
            self.release(ticket_id, key)
