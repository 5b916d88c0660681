"""Fault and planned-work bulletins (issue 11): publish, read, list, amend, close; the notice
that tells every intake desk; the active bulletins intake matches complaints against.

Publishing is record-then-deliver (DESIGN.md, the outbox): the bulletin is stored with its
notice marked pending in the same write; the notice is then published, and marked delivered.
A failed publish leaves it pending and the scheduled sweep delivers it (`deliver_pending`):
the committed bulletin is never turned into an error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.bulletins_repo import PENDING, item_size
from chalicelib.domain import bulletins as rules
from chalicelib.domain import shapes
from chalicelib.domain.auth import require_role
from chalicelib.domain.bulletins import ActiveIndex, Bulletin
from chalicelib.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.records import IdempotencyReplay
from chalicelib.domain.retry import until_settled
from chalicelib.domain.shapes.bulletins import (
    BulletinQuery,
    CloseBulletinBody,
    NewBulletinBody,
    PatchBulletinBody,
)
from chalicelib.domain.tickets import body_fingerprint
from chalicelib.domain.values import iso, parse_storage_time, storage_time
from chalicelib.domain.vocabulary import ROLES
from chalicelib.logs import logger

from .context import Caller, Deps

WRITE_ROLES = ("department", "complaint_manager")
READ_ROLES = ROLES
INTAKE = "intake"  # the inbox of every intake desk (infra/template.py)
ATTEMPTS = 5
# The sweep leaves a notice this long to the request that published it before retrying it.
NOTICE_GRACE = timedelta(seconds=30)
NOTICE_BATCH = 50
CURSOR_KEYS = {"id", "listKey", "endsKey"}  # a window-index position
# A list cursor: that position, the filter it was issued for and the first page's instant (every
# page's key condition uses it: DynamoDB refuses a start key outside the condition).
CURSOR_STATE = {"key", "active", "at"}


# -- writes ----------------------------------------------------------------------------------


def publish(body: Any, caller: Caller, deps: Deps) -> Bulletin:
    """POST /bulletins (and the lead's POST /incidents/{id}/bulletin): store the bulletin with
    its pending notice and audit entry, then tell the intake desks."""
    return publish_once(body, caller, None, deps)[0]


def publish_once(
    body: Any,
    caller: Caller,
    idempotency_key: str | None,
    deps: Deps,
    department: str | None = None,
) -> tuple[Bulletin, bool]:
    """POST /bulletins with its `Idempotency-Key`: (the bulletin, whether it is a replay). The
    key's record is written in the bulletin's transaction (the tickets' idempotency table,
    keyed per user and apart from ticket keys); the same key and body again answers the first
    bulletin, another body a 409 `idempotency_key_reused`."""
    p = caller.principal
    require_role(p, WRITE_ROLES)
    if p.department_scoped and not p.department:
        raise Forbidden("a department user publishes for its department, and has none")
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 128):
        raise ValidationFailed([FieldError("Idempotency-Key", "must be 1 to 128 characters")])
    now = deps.clock()
    new = shapes.parse(NewBulletinBody, body, catalog=deps.rules.catalog)
    if new.ends_at is not None and new.ends_at <= now:
        raise ValidationFailed([FieldError("endsAt", "is already past: nothing to announce")])
    bulletin = Bulletin(
        id=new_id("B", now),
        version=1,
        type=new.type,
        title=new.title,
        areas=tuple(new.areas),
        services=tuple(new.services or ()),
        phenomena=tuple(new.phenomena),
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        script=new.script,
        contact=new.contact,
        department=p.department or department,  # a manager publishing for a department
        created_at=now,
        created_by=p.username,
        updated_at=now,
        history=(rules.history_entry("publish", p.username, p.role, now),),
        notice=PENDING,
    )
    key = f"{p.sub}#bulletin#{idempotency_key}" if idempotency_key else None
    try:
        deps.bulletins.create(
            bulletin,
            deps.audit.model(caller.audit("bulletin_publish", bulletin.id, now)),
            idempotency_key=key,
            fingerprint=body_fingerprint(body) if key else None,
        )
    except IdempotencyReplay as replay:
        existing = deps.bulletins.get(replay.ticket_id, consistent=True)
        if existing is None:  # pragma: no cover - the transaction wrote both or neither
            raise NotFound("the bulletin of this idempotency key is gone") from None
        deps.audit.record([caller.audit("bulletin_read", existing.id, now)])
        return existing, True
    deps.active_bulletins.clear()  # this container sees its own bulletin at once
    if deliver(bulletin, deps):
        bulletin = bulletin.with_changes(notice=None)
    return bulletin, False


def amend(
    caller: Caller, bulletin_id: str, body: Any, expected: int | None, deps: Deps
) -> Bulletin:
    """PATCH /bulletins/{id}: each change recorded with before and after. Without `If-Match`
    a concurrent change is read again and this one applied on top (none is lost)."""
    p = caller.principal
    require_role(p, WRITE_ROLES)
    patch = shapes.parse(PatchBulletinBody, body)
    changes: dict[str, Any] = {
        name: getattr(patch, name)
        for name in ("title", "script", "contact", "starts_at", "ends_at")
        if name in patch.model_fields_set
    }

    def change(b: Bulletin, now: datetime) -> Bulletin | None:
        amended = rules.amend(b, changes, p.username, p.role, now)
        if amended is not None and item_size(amended) > rules.AMEND_BUDGET:
            raise rules.too_many_amendments()  # the rest of the item is kept for the closing
        return amended

    return _write(caller, bulletin_id, expected, "bulletin_amend", change, deps)


def close(
    caller: Caller, bulletin_id: str, body: Any, expected: int | None, deps: Deps
) -> Bulletin:
    """POST /bulletins/{id}/close: it stops applying at once (at intake: within a minute)."""
    p = caller.principal
    require_role(p, WRITE_ROLES)
    reason = shapes.parse(CloseBulletinBody, body).reason

    def change(b: Bulletin, now: datetime) -> Bulletin:
        closed: Bulletin | None = rules.close(b, reason, p.username, p.role, now)
        while closed is not None and item_size(closed) > rules.ITEM_LIMIT:
            last = closed
            closed = rules.compacted(closed)  # never refused: the oldest details give way
            if closed is None:
                return last  # pragma: no cover - the amendment budget leaves room
        assert closed is not None
        return closed

    return _write(caller, bulletin_id, expected, "bulletin_close", change, deps)


def _write(
    caller: Caller,
    bulletin_id: str,
    expected: int | None,
    action: str,
    change: Callable[[Bulletin, datetime], Bulletin | None],
    deps: Deps,
) -> Bulletin:
    p = caller.principal

    def attempt() -> Bulletin | None:
        b = _existing(bulletin_id, deps, consistent=True)
        if p.department_scoped and (p.department is None or b.department != p.department):
            raise Forbidden("a department user changes only its own department's bulletins")
        if expected is not None and b.version != expected:
            raise Conflict(
                f"If-Match {expected} is stale: the bulletin is at version {b.version}",
                code="stale_version",
            )
        now = deps.clock()
        changed = change(b, now)
        if changed is None:  # nothing differs: nothing to write
            deps.audit.record([caller.audit(action, b.id, now, "unchanged")])
            return b
        audit = deps.audit.model(caller.audit(action, b.id, now))
        if not deps.bulletins.replace(changed, b.version, audit):
            return None  # read again: a new version is then a 409 under If-Match
        deps.active_bulletins.clear()
        return changed

    def give_up() -> Bulletin:
        raise Conflict("the bulletin kept changing; reload and try again", code="stale_version")

    return until_settled(attempt, attempts=ATTEMPTS, sleep=deps.sleep, give_up=give_up)


# -- reads -----------------------------------------------------------------------------------


def _plausible(bulletin_id: str) -> bool:
    return 2 <= len(bulletin_id) <= 64 and bulletin_id.isascii() and bulletin_id.isalnum()


def _existing(bulletin_id: str, deps: Deps, consistent: bool = False) -> Bulletin:
    b = deps.bulletins.get(bulletin_id, consistent) if _plausible(bulletin_id) else None
    if b is None:
        raise NotFound(f"no bulletin {bulletin_id}")
    return b


def get(caller: Caller, bulletin_id: str, deps: Deps) -> Bulletin:
    require_role(caller.principal, READ_ROLES)
    b = _existing(bulletin_id, deps)
    deps.audit.record([caller.audit("bulletin_read", b.id, deps.clock())])
    return b


def page(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    """GET /bulletins: `active=true` in effect now (soonest ending first), `false` ended (latest
    ended first), absent all; `area` those covering it. One index query per page; the area and
    the start are checked on the page read (`nextCursor` continues after it)."""
    require_role(caller.principal, READ_ROLES)
    q = shapes.parse(BulletinQuery, params)
    now = deps.clock()
    at, start = now, None
    if q.cursor:
        at, start = _cursor(deps.cursors.decode(q.cursor), q.active)
    found, lek = deps.bulletins.page(at, q.active, q.limit, start)
    area = rules.key(q.area) if q.area else None
    items = [
        b
        for b in found
        if (area is None or area in {rules.key(a) for a in b.areas})
        and (q.active is not True or b.in_effect(now))
    ]
    # one entry per bulletin shown, and one for the query itself (an empty page too)
    entries = [caller.audit("bulletin_list", None, now)]
    entries += [caller.audit("bulletin_list", b.id, now) for b in items]
    deps.audit.record(entries)
    state = {"key": lek, "active": q.active, "at": storage_time(at)} if lek else None
    return {
        "items": [b.to_api(now, with_history=False) for b in items],
        "nextCursor": deps.cursors.encode(state) if state else None,
    }


def _cursor(state: dict[str, Any], active: bool | None) -> tuple[datetime, dict[str, Any]]:
    """(the first page's instant, the start key) of a signed cursor issued for this filter."""
    bad = ValidationFailed([FieldError("cursor", "is not a cursor of this list")])
    key = state.get("key")
    if set(state) != CURSOR_STATE or not isinstance(key, dict) or set(key) != CURSOR_KEYS:
        raise bad  # signed, but another list's
    if state["active"] is not active:
        raise ValidationFailed(
            [FieldError("cursor", "was issued for another `active` filter: start again")]
        )
    try:
        at = parse_storage_time(state["at"])
    except (TypeError, ValueError, AttributeError):
        raise bad from None
    return at, key


# -- intake ----------------------------------------------------------------------------------


def active_index(deps: Deps) -> ActiveIndex:
    """What intake matches against: from the container's cache, refreshed by one Query at most
    once a minute (never a call per intake)."""
    catalog = deps.rules.catalog

    def category_of(code: str) -> str | None:
        phenomenon = catalog.phenomenon(code)
        return phenomenon.category if phenomenon is not None else None

    return deps.active_bulletins.index(
        lambda: list(deps.bulletins.not_ended(deps.clock())),
        lambda found: ActiveIndex.of(found, category_of),
    )


# -- the intake desks' notice (outbox) -------------------------------------------------------


def notice(b: Bulletin, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `bulletin` notice to every intake desk: what the pop-up shows. Never personal data:
    no contact and no publisher (the notifier masks any phone number in the text too)."""
    body = {
        "eventType": "bulletin",
        "bulletinId": b.id,
        "at": iso(now),
        "department": INTAKE,
        "type": b.type,
        "status": b.status(now),
        "title": b.title,
        "areas": list(b.areas),
        "services": list(b.services),
        "phenomena": list(b.phenomena),
        "startsAt": iso(b.starts_at),
        "endsAt": iso(b.ends_at),
        "script": b.script,
        "links": {"self": f"/bulletins/{b.id}"},
    }
    attributes = {
        "eventType": "bulletin",
        "department": INTAKE,
        "level": 0,
        "severity": "high" if b.type == "fault" else "normal",
        "bulletinId": b.id,
    }
    return body, attributes


def deliver(b: Bulletin, deps: Deps) -> bool:
    """Publish the notice and take it off the outbox; False (logged) when it stays pending."""
    try:
        deps.notifier.department(*notice(b, deps.clock()))
    except Exception:
        logger.exception("the bulletin notice failed; the sweep retries it", extra={"id": b.id})
        return False
    try:
        deps.bulletins.notice_sent(b.id)
    except Exception:  # delivered; the sweep may deliver it once more (at least once)
        logger.exception("marking a bulletin notice sent failed", extra={"id": b.id})
    return True


def deliver_pending(deps: Deps) -> int:
    """The sweep's part: deliver notices a failed publish left pending (sparse index, no scan).
    Returns how many went out."""
    now = deps.clock()
    sent = 0
    for bulletin_id in deps.bulletins.pending_notices(NOTICE_BATCH):
        try:
            b = deps.bulletins.get(bulletin_id, consistent=True)
            if b is None or b.notice is None or now - b.created_at < NOTICE_GRACE:
                continue
            if b.closed:  # closed before its notice went out: nothing to announce any more
                deps.bulletins.notice_sent(b.id)
                continue
            sent += deliver(b, deps)
        except Exception:  # one bulletin's failure never stops the others
            logger.exception("delivering a bulletin notice failed", extra={"id": bulletin_id})
    return sent
