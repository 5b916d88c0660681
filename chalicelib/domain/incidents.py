"""Mass complaints (大面积投诉, seed 001): the intake interface, the counting window, and what one
new complaint does to it — open an incident, join the open one, or only count.

Ten or more complaints of one phenomenon at one intake interface within 30 minutes are a mass
complaint (thresholds are policy data: chalicelib/catalog/mass_complaint.json). Intake keeps a
counter item per interface, phenomenon and 5-minute bucket, and a pointer item per interface and
phenomenon naming the open incident and a generation; it reads them with the customer profile
(one BatchGetItem) and writes them in the create transaction (adapters/incidents_repo.py). This
module decides from what was read; the transaction's conditions catch a read gone stale where
it matters (decision 0017).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .ids import _ALPHABET

ID_PREFIX = "I"
NO_AREA = "-"


@dataclass(frozen=True)
class MassComplaintPolicy:
    threshold: int = 10
    window: timedelta = timedelta(minutes=30)
    bucket: timedelta = timedelta(minutes=5)
    counter_channels: tuple[str, ...] = ("business_hall", "account_manager")
    escalation_level: int = 2
    ids_per_bucket: int = 100

    @property
    def buckets_per_window(self) -> int:
        return int(self.window / self.bucket)

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], where: str = "mass_complaint.json"
    ) -> MassComplaintPolicy:
        """The policy of a data file; a bad entry raises ValueError naming the file and field."""

        def number(name: str, low: int, high: int) -> int:
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{where}: `{name}` must be an integer from {low} to {high}")
            return value

        threshold = number("threshold", 2, 10_000)
        window = number("windowMinutes", 1, 24 * 60)
        bucket = number("bucketMinutes", 1, 60)
        if window % bucket:
            raise ValueError(f"{where}: `bucketMinutes` must divide `windowMinutes`")
        channels = data.get("counterChannels", [])
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ValueError(f"{where}: `counterChannels` must be a list of channel codes")
        return cls(
            threshold=threshold,
            window=timedelta(minutes=window),
            bucket=timedelta(minutes=bucket),
            counter_channels=tuple(channels),
            escalation_level=number("escalationLevel", 0, 5),
            ids_per_bucket=number("idsPerBucket", 1, 1000),
        )


def interface(
    channel: str, area: str | None, policy: MassComplaintPolicy
) -> tuple[str, str | None]:
    """(channel, area): the intake interface (受理界面) — the channel, and for a counter channel
    the area it serves (a complaint without one counts at the channel's `-`)."""
    if channel in policy.counter_channels:
        return channel, (area or NO_AREA)
    return channel, None


def counter_key(channel: str, area: str | None, phenomenon: str) -> str:
    """A short fixed-form key of (interface, phenomenon) for item ids (areas are free text)."""
    raw = "\x1f".join((channel, area if area is not None else "", phenomenon))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def incident_id(key: str, generation: int) -> str:
    """Deterministic: every intake that opens generation `generation` names the same incident."""
    digest = hashlib.sha256(f"{key}:{generation}".encode()).hexdigest()[:20].upper()
    return ID_PREFIX + digest


def bucket_of(at: datetime, policy: MassComplaintPolicy) -> int:
    return int(at.timestamp() // policy.bucket.total_seconds())


def window_buckets(at: datetime, policy: MassComplaintPolicy) -> tuple[int, ...]:
    """The buckets the window ending at `at` touches, oldest first (the oldest only in part)."""
    current = bucket_of(at, policy)
    return tuple(range(current - policy.buckets_per_window, current + 1))


def id_instant(ticket_id: str) -> datetime | None:
    """When a ticket was created, read from its id (domain/ids.py: 48-bit milliseconds)."""
    digits = ticket_id[1:11]
    if len(digits) != 10:
        return None
    millis = 0
    for ch in digits:
        pos = _ALPHABET.find(ch)
        if pos < 0:
            return None
        millis = millis * 32 + pos
    return datetime.fromtimestamp(millis / 1000, UTC)


@dataclass(frozen=True)
class Bucket:
    index: int
    count: int
    ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pointer:
    """The (interface, phenomenon)'s pointer: its generation (incidents opened so far) and the
    incident open now, if any."""

    generation: int = 0
    incident_id: str | None = None
    # when its last incident was resolved: complaints before then belong to it, not to the next
    count_from: datetime | None = None


@dataclass(frozen=True)
class Detection:
    action: Literal["count", "open", "join"]
    window_count: int  # complaints in the window, this one included
    generation: int  # the pointer's generation as read
    incident_id: str | None = None
    linked: tuple[str, ...] = ()  # opening: the window's earlier tickets to link
    count_cap: int | None = None  # counting: the current bucket's count may be at most this
    keep_id: bool = True  # whether the bucket keeps this ticket's id


def detect(
    key: str,
    buckets: Mapping[int, Bucket],
    pointer: Pointer,
    now: datetime,
    policy: MassComplaintPolicy,
) -> Detection:
    """What a new complaint at (interface, phenomenon) = `key` does, from the counters read.

    - An incident is open and the window still has complaints: the complaint joins it.
    - Else, with this one the window reaches the threshold: it opens generation + 1, linking the
      window's earlier tickets.
    - Else it only counts; `count_cap` is what the current bucket's count may still be for this
      reading to hold (another intake meanwhile could make this one the threshold's).
    """
    indexes = window_buckets(now, policy)
    start = now - policy.window
    if pointer.count_from is not None and pointer.count_from > start:
        start = pointer.count_from
    current = indexes[-1]
    earlier: list[str] = []
    others = 0
    in_current = 0
    for index in indexes:
        bucket = buckets.get(index)
        if bucket is None:
            continue
        if _bucket_start(index, policy) < start:  # partly before: its tickets' instants decide
            inside = sorted(i for i in bucket.ids if _within(i, start, now))
            others += len(inside)
            earlier.extend(inside)
            continue
        others += bucket.count
        earlier.extend(sorted(bucket.ids))
        if index == current:
            in_current = bucket.count
    count = others + 1
    keep = in_current < policy.ids_per_bucket
    if pointer.incident_id is not None and others >= 1:
        return Detection("join", count, pointer.generation, pointer.incident_id, keep_id=keep)
    if count >= policy.threshold:
        generation = pointer.generation + 1
        return Detection(
            "open",
            count,
            pointer.generation,
            incident_id(key, generation),
            linked=tuple(earlier),
            keep_id=keep,
        )
    if current in buckets and _bucket_start(current, policy) < start:
        # counted by instants above; the condition is on the bucket's whole count
        cap = policy.threshold - 2 - others + buckets[current].count
        return Detection("count", count, pointer.generation, count_cap=cap, keep_id=keep)
    cap = policy.threshold - 2 - (others - in_current)
    return Detection("count", count, pointer.generation, count_cap=cap, keep_id=keep)


def _within(ticket_id: str, start: datetime, end: datetime) -> bool:
    at = id_instant(ticket_id)
    return at is not None and start <= at <= end


def _bucket_start(index: int, policy: MassComplaintPolicy) -> datetime:
    return datetime.fromtimestamp(index * policy.bucket.total_seconds(), UTC)
