"""pynamodb models of the four tables. Key patterns are in each docstring.

Times are stored as UTC ISO 8601 strings so they sort as they compare.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib import config
from chalicelib.domain.declared import specs
from chalicelib.domain.tickets import Ticket

STUCK_KEY = "stuck"
# What operators see of a stuck ticket without reading it (its status and step are declared
# ticket fields, stored under their wire names).
STUCK_PROJECTION = ["sweepAttempts", "sweepError", "nextDueAt", "status", "step"]


class _Index(GlobalSecondaryIndex):
    class Meta:
        projection = AllProjection()


class StatusIndex(_Index):
    class Meta(_Index.Meta):
        index_name = "status-index"

    status = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class DepartmentIndex(_Index):
    class Meta(_Index.Meta):
        index_name = "department-index"

    department = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class CategoryIndex(_Index):
    class Meta(_Index.Meta):
        index_name = "category-index"

    category = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class CustomerIndex(_Index):
    class Meta(_Index.Meta):
        index_name = "customer-index"

    serviceNumber = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class MonthIndex(_Index):
    class Meta(_Index.Meta):
        index_name = "month-index"

    month = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class BreachedIndex(_Index):
    """Sparse: only breached tickets carry `breachedKey`."""

    class Meta(_Index.Meta):
        index_name = "breached-index"

    breachedKey = UnicodeAttribute(hash_key=True)
    createdAt = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex):
    """Sparse: only open tickets with work ahead carry `dueKey`; the sweep reads
    `nextDueAt <= now`. Projects the whole ticket so the sweep reads each due ticket once;
    its writes are conditional on the version it saw."""

    class Meta:
        index_name = "due-index"
        projection = AllProjection()

    dueKey = UnicodeAttribute(hash_key=True)
    nextDueAt = UnicodeAttribute(range_key=True)


class StuckIndex(GlobalSecondaryIndex):
    """Sparse: only tickets the sweep failed at (retrying or set aside, or unreadable) carry
    `stuckKey`, until the sweep settles them or anyone rewrites them. Operators list them
    (GET /operations/executions?status=stuck) without a scan."""

    class Meta:
        index_name = "stuck-index"
        projection = IncludeProjection(STUCK_PROJECTION)

    stuckKey = UnicodeAttribute(hash_key=True)
    stuckSince = UnicodeAttribute(range_key=True)


_ATTRIBUTE = {
    "text": UnicodeAttribute,
    "number": NumberAttribute,
    "bool": BooleanAttribute,
    "list": ListAttribute,
    "json": JSONAttribute,
}


def _ticket_attributes() -> Any:
    """A mixin holding one attribute per declared ticket field but the key, named by its wire
    name (chalicelib/domain/tickets.py declares them; nothing here lists them again)."""
    attributes = {
        spec.wire: _ATTRIBUTE[spec.codec.stored_as](null=not spec.required)
        for spec in specs(Ticket)
        if spec.name != "id"
    }
    return type("TicketAttributes", (), attributes)


class TicketModel(_ticket_attributes(), Model):  # type: ignore[misc]
    """One item per ticket. Key: id = ticket id (ULID, sortable by intake time). Beside the
    declared fields, storage-only attributes: `month` (month-index), `dueKey` / `nextDueAt`
    (due-index), `breachedKey` (breached-index), `sweepAttempts` / `sweepError` (the sweep's
    failed attempts at the ticket's due duties since it last settled them), `stuckKey` /
    `stuckSince` (stuck-index) and `extra` (read
    only: older items kept some fields there)."""

    class Meta:
        table_name = config.tickets_table()

    id = UnicodeAttribute(hash_key=True)
    month = UnicodeAttribute()
    dueKey = UnicodeAttribute(null=True)
    nextDueAt = UnicodeAttribute(null=True)
    breachedKey = UnicodeAttribute(null=True)
    sweepAttempts = NumberAttribute(null=True)
    sweepError = UnicodeAttribute(null=True)
    stuckKey = UnicodeAttribute(null=True)
    stuckSince = UnicodeAttribute(null=True)
    extra = JSONAttribute(null=True)

    status_index = StatusIndex()
    department_index = DepartmentIndex()
    category_index = CategoryIndex()
    customer_index = CustomerIndex()
    month_index = MonthIndex()
    breached_index = BreachedIndex()
    due_index = DueIndex()
    stuck_index = StuckIndex()


class EventModel(Model):
    """A ticket's history. Key: ticketId, sk = `<UTC time>#<unique suffix>` (time order)."""

    class Meta:
        table_name = config.events_table()

    ticketId = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    role = UnicodeAttribute()
    action = UnicodeAttribute()
    fromStatus = UnicodeAttribute(null=True)
    toStatus = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    details = JSONAttribute(null=True)


class AuditByTicket(_Index):
    class Meta(_Index.Meta):
        index_name = "ticket-index"

    ticketId = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditByActor(_Index):
    class Meta(_Index.Meta):
        index_name = "actor-index"

    actor = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditByDay(_Index):
    class Meta(_Index.Meta):
        index_name = "day-index"

    day = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditModel(Model):
    """Who read or wrote which ticket. Key: id (ULID); indexes by ticket, actor and UTC day."""

    class Meta:
        table_name = config.audit_table()

    id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute()
    day = UnicodeAttribute()
    actor = UnicodeAttribute()
    role = UnicodeAttribute()
    action = UnicodeAttribute()
    ticketId = UnicodeAttribute(null=True)  # absent: not on the (sparse) ticket index
    requestId = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(default="ok")
    sourceIp = UnicodeAttribute(null=True)
    userAgent = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute(null=True)

    ticket_index = AuditByTicket()
    actor_index = AuditByActor()
    day_index = AuditByDay()


class IdempotencyModel(Model):
    """Idempotency-Key records. Key: `<user sub>#<key>`; expire after a day (TTL)."""

    class Meta:
        table_name = config.idempotency_table()

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    ticketId = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    expiresAt = TTLAttribute(null=True)


class BlacklistModel(Model):
    """Customers known for frequent, well-informed complaints. Key: serviceNumber."""

    class Meta:
        table_name = config.blacklist_table()

    serviceNumber = UnicodeAttribute(hash_key=True)
    reason = UnicodeAttribute()
    addedBy = UnicodeAttribute()
    addedAt = UnicodeAttribute()


class NoticeModel(Model):
    """Notices the sweep sent (or is sending), so each goes out once.
    Key: ticketId, key = the duty's key (e.g. `warn:3:0.8`, `breach`)."""

    class Meta:
        table_name = config.notices_table()

    ticketId = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # claimed | sent
    leaseUntil = UnicodeAttribute()
    expiresAt = TTLAttribute(null=True)


# -- issue 11: bulletins (adapters/bulletins_repo.py says how they are read and written) -------

LIST_KEY = "bulletin"
WINDOW_ATTRIBUTES = [
    "version",
    "type",
    "title",
    "areas",
    "services",
    "phenomena",
    "startsAt",
    "endsAt",
    "script",
    "contact",
    "department",
    "createdAt",
    "createdBy",
    "updatedAt",
    "closedAt",
    "closedBy",
    "closeReason",
]  # infra/template.base.json projects the same


class WindowIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "window-index"
        # what intake's match and the list pages need: not the history (GET by id reads it)
        projection = IncludeProjection(WINDOW_ATTRIBUTES)

    listKey = UnicodeAttribute(hash_key=True)
    endsKey = UnicodeAttribute(range_key=True)


class NoticeIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "notice-index"
        projection = KeysOnlyProjection()

    noticeKey = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class BulletinModel(Model):
    """A bulletin. Key: id. See the module docstring for the indexes."""

    class Meta:
        table_name = config.bulletins_table()

    id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    listKey = UnicodeAttribute(default=LIST_KEY)
    endsKey = UnicodeAttribute()
    noticeKey = UnicodeAttribute(null=True)
    type = UnicodeAttribute()
    title = UnicodeAttribute()
    areas = JSONAttribute()
    services = JSONAttribute(null=True)
    phenomena = JSONAttribute()
    startsAt = UnicodeAttribute()
    endsAt = UnicodeAttribute(null=True)
    script = UnicodeAttribute()
    contact = UnicodeAttribute(null=True)
    department = UnicodeAttribute(null=True)
    createdAt = UnicodeAttribute()
    createdBy = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    closedAt = UnicodeAttribute(null=True)
    closedBy = UnicodeAttribute(null=True)
    closeReason = UnicodeAttribute(null=True)
    history = JSONAttribute(null=True)

    window_index = WindowIndex()
    notice_index = NoticeIndex()
