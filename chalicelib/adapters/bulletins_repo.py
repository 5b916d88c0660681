"""The bulletins table (issue 11): one item per fault or planned-work bulletin.

Key: id (ULID `B…`, sortable by publication). Indexes, so that nothing is ever scanned:

- `window-index` (hash `listKey` = "bulletin", range `endsKey` = when the bulletin stops
  applying: its end, its closing if earlier, or FAR_END when open-ended). `endsKey > now` is
  every bulletin not yet ended — what intake's cache reads in one Query — and `endsKey <= now`
  the ended ones. One partition: bulletins are published by the dozen a day, not by the million.
- `notice-index` (sparse: `noticeKey` = "pending" only while the intake desks' notice waits to
  be delivered): the outbox the sweep retries.

Writes are conditional on `version` and carry their audit entry in the same transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.bulletins import ActiveIndex, Bulletin
from chalicelib.domain.values import LATEST, parse_storage_time, storage_time
from chalicelib.logs import logger

from .models import LIST_KEY, AuditModel, BulletinModel
from .query import connection

PENDING = "pending"
FAR_END = storage_time(LATEST)


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
    def create(self, b: Bulletin, audit: AuditModel | None = None) -> None:
        """The bulletin (with its pending notice) and its audit entry, in one transaction."""
        with TransactWrite(connection=connection()) as tx:
            tx.save(to_model(b), condition=BulletinModel.id.does_not_exist())
            if audit is not None:
                tx.save(audit)

    def get(self, bulletin_id: str, consistent: bool = False) -> Bulletin | None:
        try:
            return from_model(BulletinModel.get(bulletin_id, consistent_read=consistent))
        except DoesNotExist:
            return None

    def replace(self, b: Bulletin, expected: int, audit: AuditModel | None = None) -> bool:
        """Write `b` if the stored version is still `expected`; False if it moved on."""
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(to_model(b), condition=BulletinModel.version == expected)
                if audit is not None:
                    tx.save(audit)
        except TransactWriteError as err:
            codes = [r.code if r is not None else None for r in (err.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in codes:
                return False
            raise
        return True

    def page(
        self,
        now: datetime,
        active: bool | None,
        limit: int,
        cursor: dict[str, Any] | None,
    ) -> tuple[list[Bulletin], dict[str, Any] | None]:
        """A page of the window-index: not yet ended (`active` true: soonest ending first), ended
        (false: latest ended first), or all (latest ending first)."""
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
        """The notice went out: off the outbox index (the bulletin's version is untouched)."""
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

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self.refreshes = 0
        self._index: ActiveIndex | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def index(self, load: Callable[[], Iterable[Bulletin]]) -> ActiveIndex:
        """The current index; refreshed with `load` (one Query) when older than `ttl`."""
        now = self.clock()
        if self._index is not None and now - self._loaded_at < self.ttl:
            return self._index
        with self._lock:
            if self._index is None or now - self._loaded_at >= self.ttl:
                try:
                    self._index = ActiveIndex.of(load())
                    self._loaded_at = now
                    self.refreshes += 1
                except Exception:
                    logger.exception("reading the active bulletins failed; intake goes on")
                    if self._index is None:
                        self._index = ActiveIndex()
                    self._loaded_at = now - self.ttl + self.RETRY_AFTER_FAILURE
            return self._index

    def clear(self) -> None:
        with self._lock:
            self._index = None
