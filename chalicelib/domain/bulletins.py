"""Fault and planned-work bulletins (信息报送单 / 障碍公告, seed 001): what a network department
tells the front desk about a known outage, and how intake matches a complaint against them.

Pure rules: a bulletin's status at an instant, amending one with its history, and the matcher
intake uses (`ActiveIndex`): phenomenon → area → bulletins and service label → area →
bulletins, so matching against a thousand active bulletins is two dictionary look-ups.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .errors import Conflict, FieldError, ValidationFailed
from .values import iso

TYPES = ("fault", "planned_work")
STATUSES = ("scheduled", "active", "expired", "closed")
# Ticket fields (catalog required fields) that name the service or product a complaint is
# about; a bulletin's free `services` labels are matched against them.
SERVICE_FIELDS = ("serviceName", "serviceRequested", "planName", "appName", "spName")
# PATCHes a bulletin keeps in its history; past that, publish a new bulletin.
MAX_AMENDMENTS = 50
# DynamoDB's item limit is 400 KB. An amendment is refused (409 too_many_amendments) once the
# stored item would pass AMEND_BUDGET: the rest is kept for the closing, which is never refused
# (services/bulletins.py measures the item as stored before each write).
ITEM_LIMIT = 400 * 1024
AMEND_BUDGET = 300 * 1024
# A script change is recorded by length and a short hash, not its text (up to 2,000 characters
# twice per amendment would fill the item); titles and contacts are short: before and after.
HASHED = ("script",)
AMENDABLE = ("title", "script", "contact", "starts_at", "ends_at")
WIRE = {"starts_at": "startsAt", "ends_at": "endsAt"}


def key(label: str) -> str:
    """How areas and service labels compare: NFKC, trimmed, case-folded (`5G` = `５ｇ`)."""
    return unicodedata.normalize("NFKC", label).strip().casefold()


@dataclass(frozen=True)
class Bulletin:
    id: str
    version: int
    type: str
    title: str
    areas: tuple[str, ...]
    phenomena: tuple[str, ...]
    starts_at: datetime
    script: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    services: tuple[str, ...] = ()
    ends_at: datetime | None = None
    contact: str | None = None
    department: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    history: tuple[dict[str, Any], ...] = ()
    notice: str | None = None  # "pending" until the intake desks' notice is delivered

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def effective_end(self) -> datetime | None:
        """When it stops applying: its end, or when it was closed if that came first."""
        ends = [t for t in (self.ends_at, self.closed_at) if t is not None]
        return min(ends) if ends else None

    def status(self, now: datetime) -> str:
        if self.closed:
            return "closed"
        if self.ends_at is not None and now >= self.ends_at:
            return "expired"
        if now < self.starts_at:
            return "scheduled"
        return "active"

    def in_effect(self, now: datetime) -> bool:
        """startsAt ≤ now < endsAt, and not closed: intake answers from it."""
        return self.status(now) == "active"

    def with_changes(self, **changes: Any) -> Bulletin:
        return replace(self, **changes)

    def to_api(self, now: datetime, with_history: bool = True) -> dict[str, Any]:
        """The API view; list pages leave `history` out (the window-index does not carry it)."""
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "type": self.type,
            "status": self.status(now),
            "title": self.title,
            "areas": list(self.areas),
            "services": list(self.services),
            "phenomena": list(self.phenomena),
            "startsAt": iso(self.starts_at),
            "endsAt": iso(self.ends_at),
            "script": self.script,
            "contact": self.contact,
            "department": self.department,
            "createdAt": iso(self.created_at),
            "createdBy": self.created_by,
            "updatedAt": iso(self.updated_at),
            "closedAt": iso(self.closed_at),
            "closedBy": self.closed_by,
            "closeReason": self.close_reason,
            "history": [dict(h) for h in self.history],
            "links": {"self": f"/bulletins/{self.id}"},
        }
        if not with_history:
            del out["history"]
        return out


def _wire(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def digest(text: str) -> dict[str, Any]:
    """How the history records a script: its length and a short hash (the first 12 hex digits
    of its SHA-256), enough to tell versions apart without storing the text."""
    return {"length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()[:12]}


def _recorded(name: str, value: Any) -> Any:
    return digest(value) if name in HASHED and isinstance(value, str) else _wire(value)


def history_entry(
    action: str, actor: str, role: str, at: datetime, changes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": iso(at), "actor": actor, "role": role, "action": action}
    if changes:
        entry["changes"] = dict(changes)
    return entry


def amend(
    b: Bulletin, changes: Mapping[str, Any], actor: str, role: str, now: datetime
) -> Bulletin | None:
    """The bulletin with `changes` (names of AMENDABLE) applied and recorded in its history
    with before and after (a script: its length and hash); None when nothing actually changes.
    A closed bulletin is final."""
    if b.closed:
        raise Conflict("the bulletin is closed: publish a new one", code="bulletin_closed")
    diff = {
        name: {"before": _recorded(name, getattr(b, name)), "after": _recorded(name, value)}
        for name, value in changes.items()
        if name in AMENDABLE and getattr(b, name) != value
    }
    if not diff:
        return None
    amended = b.with_changes(**{name: changes[name] for name in diff})
    if amended.ends_at is not None and amended.ends_at <= amended.starts_at:
        # reported against the field that moved (a later start, or an earlier end)
        moved = "startsAt" if "starts_at" in diff and "ends_at" not in diff else "endsAt"
        other = "`endsAt`" if moved == "startsAt" else "`startsAt`"
        relation = "before" if moved == "startsAt" else "after"
        raise ValidationFailed([FieldError(moved, f"must be {relation} {other}")])
    if len(b.history) > MAX_AMENDMENTS:
        raise Conflict(
            f"a bulletin takes at most {MAX_AMENDMENTS} amendments: publish a new one",
            code="too_many_amendments",
        )
    wire = {WIRE.get(name, name): value for name, value in diff.items()}
    return amended.with_changes(
        version=b.version + 1,
        updated_at=now,
        history=(*b.history, history_entry("amend", actor, role, now, wire)),
    )


def too_many_amendments() -> Conflict:
    return Conflict(
        "the bulletin's history is full: publish a new bulletin", code="too_many_amendments"
    )


def compacted(b: Bulletin) -> Bulletin | None:
    """`b` with the details of its oldest amendment still detailed dropped (`changes` replaced
    by the names of what changed), so that a closing always fits; None when none is left."""
    history = list(b.history)
    for i, entry in enumerate(history):
        changes = entry.get("changes")
        if entry.get("action") == "amend" and isinstance(changes, dict):
            kept = {k: v for k, v in entry.items() if k != "changes"}
            history[i] = {**kept, "changed": sorted(changes), "detailsDropped": True}
            return b.with_changes(history=tuple(history))
    return None


def close(b: Bulletin, reason: str | None, actor: str, role: str, now: datetime) -> Bulletin:
    if b.closed:
        raise Conflict("the bulletin is already closed", code="bulletin_closed")
    details = {"reason": reason} if reason else None
    return b.with_changes(
        version=b.version + 1,
        updated_at=now,
        closed_at=now,
        closed_by=actor,
        close_reason=reason,
        history=(*b.history, history_entry("close", actor, role, now, details)),
    )


# -- matching at intake ----------------------------------------------------------------------


def ticket_services(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The service or product labels a ticket names (its SERVICE_FIELDS), as match keys."""
    return tuple(
        key(v) for name in SERVICE_FIELDS if isinstance(v := fields.get(name), str) and v.strip()
    )


@dataclass
class ActiveIndex:
    """The bulletins that are (or will be) in effect, indexed for intake's match: a lookup per
    key, whatever the number of bulletins. Built from one read; the window and the closing are
    checked again at match time against the ticket's own clock."""

    by_phenomenon: dict[str, dict[str, list[Bulletin]]] = field(default_factory=dict)
    by_service: dict[str, dict[str, list[Bulletin]]] = field(default_factory=dict)
    # the catalog categories of each bulletin's phenomena: a service label matches within them
    categories: dict[str, frozenset[str]] = field(default_factory=dict)
    size: int = 0

    @classmethod
    def of(
        cls,
        bulletins: Iterable[Bulletin],
        category_of: Callable[[str], str | None] = lambda code: None,
    ) -> ActiveIndex:
        """`category_of`: a phenomenon code's catalog category (None if unknown)."""
        index = cls()
        for b in bulletins:
            if b.closed:
                continue
            index.size += 1
            index.categories[b.id] = frozenset(
                c for code in b.phenomena if (c := category_of(code)) is not None
            )
            areas = {key(a) for a in b.areas}
            for code in set(b.phenomena):
                by_area = index.by_phenomenon.setdefault(code, {})
                for area in areas:
                    by_area.setdefault(area, []).append(b)
            for label in {key(s) for s in b.services}:
                by_area = index.by_service.setdefault(label, {})
                for area in areas:
                    by_area.setdefault(area, []).append(b)
        return index

    def match(
        self,
        phenomenon: str | None,
        area: str | None,
        services: Iterable[str] = (),
        now: datetime | None = None,
        category: str | None = None,
    ) -> Bulletin | None:
        """The bulletin in effect at `now` whose area is the ticket's and whose phenomena
        include the ticket's phenomenon, or whose services include a service the ticket names
        *and* whose phenomena are of the ticket's `category` (a billing dispute naming a plan
        never matches a network fault listing that plan; no category: no match by service).
        The latest started one if several (then by id)."""
        if not area or now is None:
            return None
        where = key(area)
        found: list[Bulletin] = []
        if phenomenon:
            found += self.by_phenomenon.get(phenomenon, {}).get(where, [])
        if category is not None:
            for label in services:
                found += [
                    b
                    for b in self.by_service.get(label, {}).get(where, [])
                    if category in self.categories.get(b.id, frozenset())
                ]
        live = [b for b in found if b.in_effect(now)]
        if not live:
            return None
        return max(live, key=lambda b: (b.starts_at, b.id))
