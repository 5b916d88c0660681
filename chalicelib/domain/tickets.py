"""The ticket: what intake accepts, what is stored, and what every response shows."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from .masking import mask_phone
from .values import iso
from .vocabulary import CLOSED_STATUSES

MAX_BODY_BYTES = 64 * 1024


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


# stand-in: replaced by the field-list view at merge
@functools.cache
def ticket_view_model() -> type[BaseModel]:
    """The ticket as every response shows it, as a pydantic model (camelCase aliases)."""
    from .vocabulary import STATUSES

    status: Any = Literal[STATUSES]
    return create_model(
        "Ticket",
        __config__=ConfigDict(alias_generator=to_camel, populate_by_name=True),
        __doc__="A ticket as every response shows it. Optional members are omitted, not null.",
        id=(str, ...),
        version=(int, Field(ge=1, description="Send it back as If-Match.")),
        kind=(str, ...),
        status=(status, ...),
        channel=(str, ...),
        service_number=(str, ...),
        description=(str, ...),
        created_at=(datetime, ...),
        updated_at=(datetime, ...),
    )
