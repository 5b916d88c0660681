"""The bulletins table (issue 11): one item per fault or planned-work bulletin.

Key: id (ULID `B…`, sortable by publication). Indexes, so that nothing is ever scanned:

- `window-index` (hash `listKey` = "bulletin", range `endsKey` = when the bulletin stops
  applying: its end, its closing if earlier, or FAR_END when open-ended). `endsKey > now` is
  every bulletin not yet ended — what intake's cache reads in one Query — and `endsKey <= now`
  the ended ones. One partition: bulletins are published by the dozen a day, not by the million.
- `notice-index` (sparse: `noticeKey` = "pending" only while the intake desks' notice waits to
  be delivered): the outbox the sweep retries.

Writes are conditional on `version` and carry their audit entry in the same transaction (a
publish also its `Idempotency-Key` record, in the tickets' idempotency table). A transaction
cancelled by a concurrent one (TransactionConflict) is tried again, as tickets_repo.py does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.bulletins import ActiveIndex, Bulletin
from chalicelib.domain.errors import Conflict, Unavailable
from chalicelib.domain.retry import until_settled
from chalicelib.domain.values import LATEST, parse_storage_time, storage_time
from chalicelib.logs import logger

from .models import LIST_KEY, AuditModel, BulletinModel, IdempotencyModel
from .query import connection
from .tickets_repo import replay

PENDING = "pending"
FAR_END = storage_time(LATEST)
IDEMPOTENCY_TTL = timedelta(days=1)  # as the tickets' records (tickets_repo.py)
CONFLICT_ATTEMPTS = 5


def _reasons(err: TransactWriteError) -> list[str | None]:
    return [r.code if r is not None else None for r in (err.cancellation_reasons or [])]


def item_size(b: Bulletin) -> int:
    """The bytes DynamoDB counts for `b` as stored (attribute names plus values, UTF-8)."""
    size = 0
    for name, value in to_model(b).serialize().items():
        size += len(name.encode())
        for kind, raw in value.items():
            size += len(raw.encode()) if kind in ("S", "N") else len(str(raw).encode())
    return size


def _time(value: str | None) -> datetime | None:
    return parse_storage_time(value) if value else None


def to_model(b: Bulletin) -> BulletinModel:
    end = b.effective_end
    return BulletinModel(
        b.id,
        version=b.version,
        listKey=LIST_KEY,
        endsKey=storage_time(end) if end is not None else FAR_END,
        noticeKey=b.notice,
        type=b.type,
        title=b.title,
        areas=list(b.areas),
        services=list(b.services),
        phenomena=list(b.phenomena),
        startsAt=storage_time(b.starts_at),
        endsAt=storage_time(b.ends_at) if b.ends_at else None,
        script=b.script,
        contact=b.contact,
        department=b.department,
        createdAt=storage_time(b.created_at),
        createdBy=b.created_by,
        updatedAt=storage_time(b.updated_at),
        closedAt=storage_time(b.closed_at) if b.closed_at else None,
        closedBy=b.closed_by,
        closeReason=b.close_reason,
        history=list(b.history),
    )


def from_model(m: BulletinModel) -> Bulletin:
    starts = _time(m.startsAt)
    created = _time(m.createdAt)
    updated = _time(m.updatedAt)
    assert starts is not None and created is not None and updated is not None
    return Bulletin(
        id=m.id,
        version=int(m.version),
        type=m.type,
        title=m.title,
        areas=tuple(m.areas or ()),
        services=tuple(m.services or ()),
        phenomena=tuple(m.phenomena or ()),
        starts_at=starts,
        ends_at=_time(m.endsAt),
        script=m.script,
        contact=m.contact,
        department=m.department,
        created_at=created,
        created_by=m.createdBy,
        updated_at=updated,
        closed_at=_time(m.closedAt),
        closed_by=m.closedBy,
        close_reason=m.closeReason,
        history=tuple(m.history or ()),
        notice=m.noticeKey,
    )


class BulletinRepository:
    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep

    def _transact(self, write: Callable[[TransactWrite], None]) -> list[str | None]:
        """Run the transaction `write` builds: [] when written, the cancellation reasons when a
        condition failed; a TransactionConflict (a concurrent transaction held the item) is
        tried again shortly, then answered 503 with Retry-After. Other errors raise."""

        def attempt() -> list[str | None] | None:
            try:
                with TransactWrite(connection=connection()) as tx:
                    write(tx)
                return []
            except TransactWriteError as err:
                reasons = _reasons(err)
                if "ConditionalCheckFailed" in reasons:
                    return reasons
                if "TransactionConflict" in reasons:
                    return None
                raise

        def give_up() -> list[str | None]:
            raise Unavailable("the bulletin is being written by another request", retry_after=1)

        return until_settled(
            attempt, attempts=CONFLICT_ATTEMPTS, sleep=self.sleep, give_up=give_up, backoff=0.05
        )

    def create(
        self,
        b: Bulletin,
        audit: AuditModel | None = None,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        """The bulletin (with its pending notice), its idempotency record and its audit entry,
        in one transaction. Raises IdempotencyReplay when the key was used with the same body,
        Conflict when with another."""
        keyed = idempotency_key is not None and fingerprint is not None

        def write(tx: TransactWrite) -> None:
            tx.save(to_model(b), condition=BulletinModel.id.does_not_exist())
            if keyed:
                tx.save(
                    IdempotencyModel(
                        idempotency_key,
                        fingerprint=fingerprint,
                        ticketId=b.id,  # the record's id attribute: here a bulletin's
                        createdAt=storage_time(b.created_at),
                        expiresAt=b.created_at + IDEMPOTENCY_TTL,
                    ),
                    condition=IdempotencyModel.key.does_not_exist(),
                )
            if audit is not None:
                tx.save(audit)

        reasons = self._transact(write)
        if not reasons:
            return
        if keyed and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            assert idempotency_key is not None
            self._replay(idempotency_key, fingerprint)
        raise Conflict("a bulletin with this id exists; retry", code="retry")

    def _replay(self, key: str, fingerprint: str | None) -> None:
        replay(key, fingerprint)  # the tickets' idempotency record, the same rule

    def get(self, bulletin_id: str, consistent: bool = False) -> Bulletin | None:
        try:
            return from_model(BulletinModel.get(bulletin_id, consistent_read=consistent))
        except DoesNotExist:
            return None

    def replace(self, b: Bulletin, expected: int, audit: AuditModel | None = None) -> bool:
        """Write `b` if the stored version is still `expected` and its notice flag is still
        the one `b` was read with; False otherwise (read it again). `notice_sent` removes the
        flag without a new version: a write of a copy read while pending must not put it back
        (the intake desks would be told twice)."""
        condition = BulletinModel.version == expected
        if b.notice is not None:
            condition &= BulletinModel.noticeKey.exists()
        else:
            condition &= BulletinModel.noticeKey.does_not_exist()

        def write(tx: TransactWrite) -> None:
            tx.save(to_model(b), condition=condition)
            if audit is not None:
                tx.save(audit)

        return not self._transact(write)

    def page(
        self,
        now: datetime,
        active: bool | None,
        limit: int,
        cursor: dict[str, Any] | None,
    ) -> tuple[list[Bulletin], dict[str, Any] | None]:
        """A page of the window-index: not yet ended at `now` (`active` true: soonest ending
        first), ended by `now` (false: latest ended first), or all (latest ending first). The
        items carry no history (not projected). `now` must be the same on every page of one
        listing: DynamoDB refuses a start key outside the key condition."""
        at = storage_time(now)
        condition = None
        if active is True:
            condition = BulletinModel.endsKey > at
        elif active is False:
            condition = BulletinModel.endsKey <= at
        results = BulletinModel.window_index.query(
            LIST_KEY,
            condition,
            scan_index_forward=active is True,
            limit=limit,
            last_evaluated_key=cursor,
        )
        items = [from_model(m) for m in results]
        return items, results.last_evaluated_key

    def not_ended(self, now: datetime) -> Iterator[Bulletin]:
        """Every bulletin in effect or scheduled: one Query (more pages only past 1 MB)."""
        for m in BulletinModel.window_index.query(
            LIST_KEY, BulletinModel.endsKey > storage_time(now)
        ):
            yield from_model(m)

    def pending_notices(self, limit: int) -> list[str]:
        """Ids of bulletins whose intake notice is not delivered yet (sparse index)."""
        return [m.id for m in BulletinModel.notice_index.query(PENDING, limit=limit)]

    def notice_sent(self, bulletin_id: str) -> None:
        """The notice went out (or is no longer due): off the outbox index (the bulletin's
        version is untouched; `replace` never puts the flag back)."""
        BulletinModel(bulletin_id).update(
            actions=[BulletinModel.noticeKey.remove()],
            condition=BulletinModel.id.exists(),
        )


class BulletinCache:
    """The bulletins intake matches against, read at most once per `ttl` seconds per container
    (Lambda keeps the process warm between requests): intake itself makes no AWS call for them.
    A bulletin published, amended or closed elsewhere takes effect here within `ttl`; writes
    made through this container clear it at once. `clock` (monotonic seconds) is injectable so
    tests move time instead of sleeping."""

    RETRY_AFTER_FAILURE = 5.0  # a failed refresh keeps the last index this long, then retries
    # Past ttl + STALE_GRACE since the last successful read, a failing refresh serves an empty
    # index: complaints are dispatched as without bulletins, never answered from one that may
    # have been closed meanwhile.
    STALE_GRACE = 30.0

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self.refreshes = 0
        self._index: ActiveIndex | None = None
        self._loaded_at = 0.0
        self._loaded_ok: float | None = None  # when the last successful read was made
        self._lock = threading.Lock()

    def index(
        self,
        load: Callable[[], Iterable[Bulletin]],
        build: Callable[[Iterable[Bulletin]], ActiveIndex] = ActiveIndex.of,
    ) -> ActiveIndex:
        """The current index; refreshed with `load` (one Query) when older than `ttl`, indexed
        by `build`."""
        now = self.clock()
        if self._index is not None and now - self._loaded_at < self.ttl:
            return self._index
        with self._lock:
            if self._index is None or now - self._loaded_at >= self.ttl:
                try:
                    self._index = build(load())
                    self._loaded_at = self._loaded_ok = now
                    self.refreshes += 1
                except Exception:
                    logger.exception("reading the active bulletins failed; intake goes on")
                    stale = self._loaded_ok is None or (
                        now - self._loaded_ok > self.ttl + self.STALE_GRACE
                    )
                    if self._index is None or stale:
                        if self._index is not None and self._index.size:
                            logger.error(
                                "the active bulletins could not be read for too long: "
                                "complaints are dispatched without them",
                                extra={"staleSeconds": round(now - (self._loaded_ok or 0.0))},
                            )
                        self._index = ActiveIndex()
                    self._loaded_at = now - self.ttl + self.RETRY_AFTER_FAILURE
            return self._index

    def clear(self) -> None:
        with self._lock:
            self._index = None
