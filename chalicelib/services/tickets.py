"""Use cases of intake and reading: create, get, list, a customer's tickets, history, audit.

Each is a plain function taking the caller, plain inputs and the dependencies it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.profile_repo import IntakeRaced
from chalicelib.domain import repeats, shapes, values
from chalicelib.domain.auth import can_see, require_role
from chalicelib.domain.errors import (
    DomainError,
    FieldError,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.records import (
    AuditEntry,
    HistoryEvent,
    IdempotencyReplay,
    TicketUnreadableError,
)
from chalicelib.domain.tickets import Ticket, body_fingerprint
from chalicelib.domain.vocabulary import ROLES
from chalicelib.logs import logger

from . import agenda, intake, notifications
from .context import Caller, Deps

CREATE_ROLES = ("agent", "senior_agent", "complaint_manager")
INTAKE_ATTEMPTS = 3  # reads of the customer's record when another intake changed it meanwhile
READ_ROLES = ROLES  # every role reads; department roles only their department's tickets
AUDIT_ROLES = ("auditor",)
DEFAULT_LIMIT = shapes.DEFAULT_LIMIT
MAX_LIMIT = shapes.MAX_LIMIT
# Lists cover at most this span (the default window ends at `to`, or now): a month walk stays
# within 25 index queries whatever `from` says.
LIST_MONTHS_BACK = 24
MAX_LIST_SPAN = timedelta(days=731)
# The audit log walked day by day (no ticket, no actor) covers at most 31 days, 7 by default.
MAX_AUDIT_SPAN = timedelta(days=31)
DEFAULT_AUDIT_SPAN = timedelta(days=7)


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    replayed: bool


def create_ticket(
    caller: Caller,
    body: Any,
    idempotency_key: str | None,
    deps: Deps,
    *,
    prepare: Callable[[Ticket], Ticket] | None = None,
) -> Created:
    """Validate, assess (classification, SLA), store atomically, then start the lifecycle.
    `prepare` adjusts the assessed ticket before its first step is chosen (an appeal's link,
    level and limit: services/actions.py)."""
    p = caller.principal
    require_role(p, CREATE_ROLES)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 128):
        raise ValidationFailed([FieldError("Idempotency-Key", "must be 1 to 128 characters")])
    now = deps.clock()
    new = shapes.parse(shapes.NewTicketBody, body, catalog=deps.rules.catalog, now=now)
    ticket_id = new_id("T", now)
    for attempt in range(INTAKE_ATTEMPTS):
        # one read (profile, blacklist, suggestion indexes), one transaction, one start
        view, ids = intake.read_view(new, deps, now)
        plan = intake.plan(
            new, ticket_id, p.username, p.role, now, deps, view, ids, prepare=prepare
        )
        try:
            created = _store(caller, plan, body, idempotency_key, now, deps)
        except IntakeRaced:
            if attempt + 1 == INTAKE_ATTEMPTS:
                raise Unavailable(
                    "the customer's record kept changing; retry", retry_after=1
                ) from None
            continue
        if created is not None:
            return created
        _start_workflow(plan.ticket, deps)
        return Created(plan.ticket, replayed=False)
    raise AssertionError("unreachable")  # pragma: no cover


def _store(
    caller: Caller,
    plan: intake.Plan,
    body: Any,
    idempotency_key: str | None,
    now: datetime,
    deps: Deps,
) -> Created | None:
    """Store the planned ticket; the replayed one when the idempotency key was used before."""
    p = caller.principal
    ticket, ticket_id = plan.ticket, plan.ticket.id
    event = HistoryEvent(
        at=now,
        actor=p.username,
        role=p.role,
        action="create",
        from_status=None,
        to_status=ticket.status,
        details={"channel": ticket.channel, "requestId": caller.request_id, **plan.details},
        version=1,
    )
    audit = deps.audit.model(_audit(caller, "create", ticket_id, now))
    key = f"{p.sub}#{idempotency_key}" if idempotency_key else None
    try:
        deps.repo.create(
            ticket,
            event,
            idempotency_key=key,
            fingerprint=body_fingerprint(body) if key else None,
            audit=audit,
            due_at=agenda.next_due_of(ticket, deps.rules) if not ticket.closed else None,
            intake=plan.writes,
        )
    except IdempotencyReplay as replay:
        existing = deps.repo.get(replay.ticket_id, consistent=True)
        if existing is None:  # pragma: no cover - the transaction wrote both or neither
            raise NotFound("the ticket of this idempotency key is gone") from None
        deps.audit.record([_audit(caller, "read", existing.id, now)])
        return Created(existing, replayed=True)
    return None


def _start_workflow(ticket: Ticket, deps: Deps) -> None:
    """Start the execution; on failure the ticket stays marked pending and the sweep restarts it."""
    try:
        deps.workflows.start(ticket.id, ticket.workflow_input or "")
    except Exception:
        logger.exception(
            "starting the workflow failed; the sweep will retry", extra={"ticketId": ticket.id}
        )


def get_ticket(caller: Caller, ticket_id: str, deps: Deps) -> Ticket:
    ticket = _visible(caller, ticket_id, deps)
    deps.audit.record([_audit(caller, "read", ticket.id, deps.clock())])
    return ticket


# An unreadable ticket: how long a client should wait before asking again (operators are told).
UNREADABLE_RETRY_AFTER = 3600


def unreadable(err: TicketUnreadableError, deps: Deps) -> Unavailable:
    """What any request that needed an unreadable ticket answers (README, API): 503, code
    `ticket_unreadable`, after the operators are told (once per ticket and version)."""
    notifications.set_aside([err.item], deps)
    return Unavailable(
        f"ticket {err.item.ticket_id} is stored in a form this service cannot read; the "
        "operators have been told",
        retry_after=UNREADABLE_RETRY_AFTER,
        code="ticket_unreadable",
    )


def _visible(caller: Caller, ticket_id: str, deps: Deps) -> Ticket:
    require_role(caller.principal, READ_ROLES)
    ticket = deps.repo.get(ticket_id) if _plausible_id(ticket_id) else None
    # A ticket outside a department user's scope is reported as absent, not forbidden:
    # its existence is itself information.
    if ticket is None or not can_see(caller.principal, _departments(ticket)):
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def _departments(ticket: Ticket) -> list[str]:
    return [*ticket.departments, *([ticket.department] if ticket.department else [])]


def _plausible_id(ticket_id: str) -> bool:
    return 2 <= len(ticket_id) <= 64 and ticket_id.isascii() and ticket_id.isalnum()


def history(caller: Caller, ticket_id: str, deps: Deps) -> list[dict[str, Any]]:
    ticket = _visible(caller, ticket_id, deps)
    deps.audit.record([_audit(caller, "read_history", ticket.id, deps.clock())])
    return [e.to_api() for e in deps.repo.history(ticket.id)]


# -- lists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filters: dict[str, str | bool]
    start: datetime | None
    end: datetime | None
    limit: int
    cursor: dict[str, Any] | None


def _window(
    start: datetime | None, end: datetime | None, now: datetime, span: timedelta
) -> tuple[datetime, datetime]:
    """A bounded range: `to` defaults to now, `from` to `span` before it; wider is refused."""
    end_at = end or now
    start_at = start or end_at - span
    if end_at - start_at > span:
        raise ValidationFailed(
            [FieldError("from", f"the range from `from` to `to` may span at most {span.days} days")]
        )
    return start_at, end_at


_FILTERS = (
    ("status", "status"),
    ("department", "department"),
    ("category", "category"),
    ("service_number", "serviceNumber"),
    ("breached", "breached"),
)


def list_query(
    q: shapes.TicketQuery | shapes.CustomerTicketsQuery, deps: Deps, **filters: str | bool
) -> ListQuery:
    for name, key in _FILTERS:
        value = getattr(q, name, None)
        if value is not None:
            filters[key] = value
    start, end = _window(q.from_, q.to, deps.clock(), MAX_LIST_SPAN)
    cursor = deps.cursors.decode(q.cursor) if q.cursor else None
    return ListQuery(filters, start, end, q.limit, cursor)


# Most selective first: the first filter present picks the index, the rest filter its pages.
_INDEX_FOR = (
    ("serviceNumber", "customer_index"),
    ("department", "department_index"),
    ("category", "category_index"),
    ("status", "status_index"),
)


def list_tickets(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    p = caller.principal
    require_role(p, READ_ROLES)
    q = list_query(shapes.parse(shapes.TicketQuery, params), deps)
    filters = dict(q.filters)
    if p.department_scoped:
        if filters.get("department", p.department) != p.department:
            raise NotFound("a department user lists only its own department's tickets")
        filters["department"] = p.department or "-"
    items, cursor = _query(filters, q, deps)
    _audit_reads(caller, items, "list", deps)
    masked = not p.sees_contact_details
    return {"items": [t.to_api(masked) for t in items], "nextCursor": cursor}


def customer_tickets(
    caller: Caller, service_number: str, params: dict[str, str], deps: Deps
) -> dict[str, Any]:
    p = caller.principal
    require_role(p, READ_ROLES)
    number = values.phone_or_none(service_number)
    if number is None:
        raise ValidationFailed([FieldError("serviceNumber", values.PHONE_RULE)])
    query = shapes.parse(shapes.CustomerTicketsQuery, params, catalog=deps.rules.catalog)
    q = list_query(query, deps, serviceNumber=number)
    filters = dict(q.filters)
    if p.department_scoped:
        filters["department"] = p.department or "-"
    items, cursor = _query(filters, q, deps)
    _audit_reads(caller, items, "list_customer", deps)
    masked = not p.sees_contact_details
    out: dict[str, Any] = {"items": [t.to_api(masked) for t in items], "nextCursor": cursor}
    if query.phenomenon or query.category:  # the intake screen: what a new complaint repeats
        out["wouldRepeatOf"] = _would_repeat(number, query, caller, deps)
    return out


def _would_repeat(
    number: str, query: shapes.CustomerTicketsQuery, caller: Caller, deps: Deps
) -> str | None:
    """The ticket a new complaint of this phenomenon (or category) would repeat, from the
    customer profile intake reads; a department user learns only of its department's."""
    view = deps.profiles.read(number)
    found = repeats.find_original(view.entries, query.phenomenon, query.category, deps.clock())
    if found is None:
        return None
    if caller.principal.department_scoped:
        original = deps.repo.get(found[0].id)
        if original is None or not can_see(caller.principal, _departments(original)):
            return None
    return found[0].id


def _query(
    filters: dict[str, str | bool], q: ListQuery, deps: Deps
) -> tuple[list[Ticket], str | None]:
    index, key, hash_value = "month_index", None, None
    for name, idx in _INDEX_FOR:
        if name in filters:
            index, key, hash_value = idx, name, str(filters[name])
            break
    else:
        if filters.get("breached") is True:
            index, key, hash_value = "breached_index", "breached", "breached"
    # the filter that picked the index is its key; every other one filters its pages
    rest = [(k, v) for k, v in filters.items() if k != key]
    if index != "month_index":
        assert hash_value is not None
        items, lek, unreadable = deps.repo.query(
            index,
            hash_value,
            start=q.start,
            end=q.end,
            limit=q.limit,
            cursor=q.cursor,
            filters=rest,
        )
        notifications.set_aside(unreadable, deps)
        return items, deps.cursors.encode(lek) if lek else None
    return _walk_months(rest, q, deps)


def _walk_months(
    rest: list[tuple[str, str | bool]], q: ListQuery, deps: Deps
) -> tuple[list[Ticket], str | None]:
    """Newest first across month partitions, from `to` back to `from` (at most 24 months)."""
    end = q.end or deps.clock()
    floor = q.start or end - MAX_LIST_SPAN
    month = str((q.cursor or {}).get("m") or _month(end))
    lek = (q.cursor or {}).get("k")
    items: list[Ticket] = []
    while month >= _month(floor):
        page, lek, unreadable = deps.repo.query(
            "month_index",
            month,
            start=q.start,
            end=q.end,
            limit=q.limit - len(items),
            cursor=lek,
            filters=rest,
        )
        items.extend(page)
        notifications.set_aside(unreadable, deps)
        if len(items) >= q.limit:
            if lek is None:
                month = _previous_month(month)
            more = month >= _month(floor)
            return items, deps.cursors.encode({"m": month, "k": lek}) if more else None
        if lek is None:
            month = _previous_month(month)
    return items, None


def _month(at: datetime) -> str:
    return values.storage_time(at)[:7]


def _previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return f"{year:04d}-{mon:02d}"


# -- audit -----------------------------------------------------------------------------------


def _audit(caller: Caller, action: str, ticket_id: str, at: datetime) -> AuditEntry:
    return caller.audit(action, ticket_id, at)


def _audit_reads(caller: Caller, items: list[Ticket], action: str, deps: Deps) -> None:
    if items:
        now = deps.clock()
        deps.audit.record([_audit(caller, action, t.id, now) for t in items])


def query_audit(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, AUDIT_ROLES)
    q = shapes.parse(shapes.AuditQuery, params)
    ticket_id, actor, start, end, limit = q.ticket_id, q.actor, q.from_, q.to, q.limit
    state = deps.cursors.decode(q.cursor) if q.cursor else {}
    by_day = ticket_id is None and actor is None
    if by_day:  # walked a day at a time: a bounded window
        start, end = _window(start, end, deps.clock(), MAX_AUDIT_SPAN)
        if q.from_ is None:
            start = end - DEFAULT_AUDIT_SPAN
    end_at = end or deps.clock()
    floor = start or end_at
    day = str(state.get("d") or _day(end_at))
    lek = state.get("k")
    items: list[dict[str, Any]] = []
    while True:
        page, lek = deps.audit.query(
            ticket_id=ticket_id,
            actor=actor,
            day=day,
            start=start,
            end=end,
            limit=limit - len(items),
            cursor=lek,
        )
        items.extend(entry.to_api() for entry in page)
        if lek is None and by_day and day > _day(floor):
            day = _previous_day(day)
            if len(items) < limit:
                continue
            return {"items": items, "nextCursor": deps.cursors.encode({"d": day, "k": None})}
        cursor = deps.cursors.encode({"d": day, "k": lek}) if lek else None
        # reading the audit log is itself recorded (after the query: not in its own answer)
        deps.audit.record([caller.audit("read_audit", ticket_id, deps.clock())])
        return {"items": items, "nextCursor": cursor}


ANONYMOUS = "anonymous"


def record_refusal(
    caller: Caller | None,
    meta: Caller,
    action: str,
    ticket_id: str | None,
    err: DomainError,
    deps: Deps,
) -> None:
    """Record a refused attempt (one PutItem) as `refused:<status>/<code>`. `caller` is None when
    the token named no usable user: recorded as `anonymous`, and only when it names a ticket id
    that could exist (anything else is noise no ticket's audit would show)."""
    outcome = f"refused:{err.status}/{err.code or 'error'}"
    at = deps.clock()
    ticket = ticket_id if ticket_id is not None and _plausible_id(ticket_id) else None
    if caller is not None:
        named = ticket if ticket_id is None or ticket else ticket_id[:64]
        deps.audit.record([caller.audit(action, named, at, outcome)])
    elif ticket is not None:
        entry = AuditEntry(
            ANONYMOUS,
            "none",
            action,
            ticket,
            meta.request_id,
            at,
            outcome,
            meta.source_ip,
            meta.user_agent,
        )
        deps.audit.record([entry])


def _day(at: datetime) -> str:
    return values.storage_time(at)[:10]


def _previous_day(day: str) -> str:
    return (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
