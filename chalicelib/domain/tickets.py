"""The ticket: what intake accepts, what is stored, and what every response shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from .errors import ValidationFailed
from .masking import mask_phone
from .validation import Checker
from .values import iso
from .vocabulary import (
    CHANNELS,
    CLOSED_STATUSES,
    COMPLAINANT_TYPES,
    FLAGS,
    KINDS,
    REPLY_METHODS,
    SOURCES,
)

MAX_BODY_BYTES = 64 * 1024
CLOCK_SKEW = timedelta(minutes=5)

_TOP_FIELDS = (
    "kind",
    "channel",
    "source",
    "complainant",
    "serviceNumber",
    "category",
    "phenomenon",
    "description",
    "occurredAt",
    "location",
    "expectedResult",
    "fields",
    "urgent",
    "flags",
    "answer",
)
_COMPLAINANT_FIELDS = ("name", "type", "contactNumber", "address", "replyMethod")


class _HasCategory(Protocol):
    @property
    def category(self) -> str: ...


class CatalogView(Protocol):
    """What intake needs to know of the catalog (see chalicelib/catalog)."""

    def category(self, code: str) -> object | None: ...

    def phenomenon(self, code: str) -> _HasCategory | None: ...


@dataclass(frozen=True)
class Complainant:
    name: str
    type: str
    contact_number: str
    reply_method: str
    address: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "contactNumber": self.contact_number,
            "replyMethod": self.reply_method,
        }
        if self.address:
            out["address"] = self.address
        return out


@dataclass(frozen=True)
class NewTicket:
    """A validated intake request."""

    kind: str
    channel: str
    complainant: Complainant
    service_number: str
    description: str
    source: str | None = None
    category: str | None = None
    phenomenon: str | None = None
    occurred_at: datetime | None = None
    location: dict[str, str] | None = None
    expected_result: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False
    flags: tuple[str, ...] = ()
    answer: str | None = None


def parse_new_ticket(body: Any, catalog: CatalogView, now: datetime) -> NewTicket:
    """Check every field of a `POST /tickets` body; raise ValidationFailed listing all failures."""
    c = Checker()
    data = c.obj(
        body, "", _TOP_FIELDS, ("kind", "channel", "complainant", "serviceNumber", "description")
    )
    if data is None:
        raise ValidationFailed(c.errors)
    kind = c.enum(data, "kind", "", KINDS)
    channel = c.enum(data, "channel", "", CHANNELS)
    source = c.enum(data, "source", "", SOURCES)
    service_number = c.phone(data, "serviceNumber", "")
    description = c.string(data, "description", "", max_len=4000)
    expected = c.string(data, "expectedResult", "", max_len=1000)
    answer = c.string(data, "answer", "", max_len=2000)
    occurred_at = c.instant(data, "occurredAt", "")
    if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
        c.fail("occurredAt", "must not be in the future")
    urgent = c.boolean(data, "urgent", "")
    flags = c.enum_list(data, "flags", "", FLAGS, max_items=len(FLAGS))
    fields = c.scalar_map(data, "fields", "", max_items=30, max_len=500)

    complainant: Complainant | None = None
    raw_c = data.get("complainant")
    if raw_c is not None:
        cdata = c.obj(raw_c, "complainant", _COMPLAINANT_FIELDS, ("name", "contactNumber"))
        if cdata is not None:
            name = c.string(cdata, "name", "complainant", max_len=50)
            ctype = c.enum(cdata, "type", "complainant", COMPLAINANT_TYPES) or "ordinary"
            contact = c.phone(cdata, "contactNumber", "complainant")
            address = c.string(cdata, "address", "complainant", max_len=200)
            method = c.enum(cdata, "replyMethod", "complainant", REPLY_METHODS) or "phone"
            if name and contact:
                complainant = Complainant(name, ctype, contact, method, address)

    location: dict[str, str] | None = None
    raw_l = data.get("location")
    if raw_l is not None:
        ldata = c.obj(raw_l, "location", ("area", "landmark"), ("area",))
        if ldata is not None:
            area = c.string(ldata, "area", "location", max_len=100)
            landmark = c.string(ldata, "landmark", "location", max_len=200)
            if area:
                location = {"area": area, **({"landmark": landmark} if landmark else {})}

    category = c.string(data, "category", "", max_len=64)
    phenomenon = c.string(data, "phenomenon", "", max_len=64)
    if category is not None and catalog.category(category) is None:
        c.fail("category", "is not a category of the catalog (GET /catalog)")
    if phenomenon is not None:
        found = catalog.phenomenon(phenomenon)
        owner = found.category if found is not None else None
        if owner is None:
            c.fail("phenomenon", "is not a phenomenon of the catalog (GET /catalog)")
        elif category is not None and owner != category:
            c.fail("phenomenon", f"belongs to category {owner}, not {category}")
        else:
            category = owner

    if c.errors:
        raise ValidationFailed(c.errors)
    assert kind and channel and complainant and service_number and description
    return NewTicket(
        kind=kind,
        channel=channel,
        complainant=complainant,
        service_number=service_number,
        description=description,
        source=source,
        category=category,
        phenomenon=phenomenon,
        occurred_at=occurred_at,
        location=location,
        expected_result=expected,
        fields=fields or {},
        urgent=bool(urgent),
        flags=tuple(flags or ()),
        answer=answer,
    )


def body_fingerprint(body: Any) -> str:
    """A stable hash of a request body, to tell a repeat from a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Ticket:
    id: str
    version: int
    kind: str
    status: str
    channel: str
    complainant: Complainant
    service_number: str
    description: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    source: str | None = None
    category: str | None = None
    phenomenon: str | None = None
    occurred_at: datetime | None = None
    location: dict[str, str] | None = None
    expected_result: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False
    flags: tuple[str, ...] = ()
    classification: dict[str, Any] | None = None
    sla_level: str | None = None
    due_at: datetime | None = None
    step_due_at: datetime | None = None
    progress_due_at: datetime | None = None
    final_due_at: datetime | None = None
    breached: bool = False
    escalation_level: int = 0
    priority: str = "normal"
    emergency: bool = False
    escalated: bool = False
    blacklisted: bool = False
    department: str | None = None
    departments: tuple[str, ...] = ()
    repeat_of: str | None = None
    appeal_of: str | None = None
    bulletin_id: str | None = None
    answer_script: str | None = None
    route: str | None = None
    answer: str | None = None
    missing_fields: tuple[str, ...] = ()
    # The human step the workflow waits for, its sequence number (guards callbacks) and token.
    step: str | None = None
    step_seq: int = 0
    step_started_at: datetime | None = None
    task_token: str | None = None
    token_escalation: int = 0
    # Completed steps' callback outputs by step sequence number, kept until the workflow is seen
    # to move past them.
    outbox: dict[str, Any] | None = None
    workflow_input: str | None = None
    dispatched_by: str | None = None
    transfers: int = 0
    rounds: int = 0
    resolution: dict[str, Any] | None = None
    reply: dict[str, Any] | None = None
    revisit: dict[str, Any] | None = None
    closing: dict[str, Any] | None = None
    escalation_criteria: tuple[str, ...] = ()
    standard_solution: str | None = None
    emergency_record: dict[str, Any] | None = None
    # Duties done (progress report, approval form, leader approval) → when, ISO 8601.
    duties_done: dict[str, str] = field(default_factory=dict)
    workflow_status: str = "pending"
    execution_arn: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def with_changes(self, **changes: Any) -> Ticket:
        return replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
            "status": self.status,
            "channel": self.channel,
            "complainant": self.complainant.to_api(),
            "serviceNumber": self.service_number,
            "category": self.category,
            "phenomenon": self.phenomenon,
            "description": self.description,
            "fields": dict(self.fields),
            "urgent": self.urgent,
            "flags": list(self.flags),
            "slaLevel": self.sla_level,
            "dueAt": iso(self.due_at),
            "breached": self.breached,
            "escalationLevel": self.escalation_level,
            "priority": self.priority,
            "emergency": self.emergency,
            "escalated": self.escalated,
            "blacklisted": self.blacklisted,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "createdBy": self.created_by,
            "missingFields": list(self.missing_fields),
            "transfers": self.transfers,
            "escalationCriteria": list(self.escalation_criteria),
            "dutiesDone": dict(self.duties_done),
            "rounds": self.rounds,
            "workflow": {"status": self.workflow_status, "executionArn": self.execution_arn},
            "links": {
                "self": f"/tickets/{self.id}",
                "history": f"/tickets/{self.id}/history",
                "workflow": f"/tickets/{self.id}/workflow",
            },
        }
        optional = {
            "source": self.source,
            "occurredAt": iso(self.occurred_at),
            "location": self.location,
            "expectedResult": self.expected_result,
            "classification": self.classification,
            "stepDueAt": iso(self.step_due_at),
            "progressDueAt": iso(self.progress_due_at),
            "finalDueAt": iso(self.final_due_at),
            "department": self.department,
            "route": self.route,
            "step": self.step,
            "dispatchedBy": self.dispatched_by,
            "resolution": self.resolution,
            "reply": self.reply,
            "revisit": self.revisit,
            "closing": self.closing,
            "repeatOf": self.repeat_of,
            "appealOf": self.appeal_of,
            "bulletinId": self.bulletin_id,
            "answerScript": self.answer_script,
            "answer": self.answer,
            "stepStartedAt": iso(self.step_started_at),
            "standardSolution": self.standard_solution,
            "emergencyRecord": self.emergency_record,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update(self.extra)
        return out

    def summary(self) -> str:
        """One line for notifications: never the complainant record, numbers masked."""
        text = self.description if len(self.description) <= 80 else self.description[:79] + "…"
        return mask_phone(f"[{self.category or 'unclassified'}] {text}")
