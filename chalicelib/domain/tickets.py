"""The ticket: what intake accepts, what is stored, and what every response shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypedDict

from .declared import Codec, IsoInstant, declared, field, specs
from .masking import mask_pii
from .values import iso
from .vocabulary import (
    CHANNELS,
    CLOSED_STATUSES,
    FLAGS,
    KINDS,
    PRIORITIES,
    SOURCES,
    STATUSES,
)

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
        if self.address is not None:
            out["address"] = self.address
        return out

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Complainant:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise TypeError("not a complainant")
        return cls(
            name=data["name"],
            type=data.get("type", "ordinary"),
            contact_number=data.get("contactNumber", ""),
            reply_method=data.get("replyMethod", "phone"),
            address=data.get("address"),
        )


def body_fingerprint(body: Any) -> str:
    """A stable hash of a request body, to tell a repeat from a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Optional keys are declared in `total=False` subclasses: on Python 3.11, `NotRequired` is not
# seen under `from __future__ import annotations`.
class _Area(TypedDict):
    area: str


class Location(_Area, total=False):
    landmark: str


class Actor(TypedDict):
    by: str
    role: str
    at: IsoInstant


class Suggestion(TypedDict):
    category: str
    phenomenon: str | None
    score: float


class _Classified(TypedDict):
    source: str
    confirmed: bool
    suggestions: list[Suggestion]


class Classification(_Classified, total=False):
    confirmedBy: str


class Resolution(Actor):
    cause: str
    result: str
    department: str | None


class Reply(Actor):
    content: str
    method: str


class Revisit(Actor):
    satisfaction: str
    comment: str | None


class _Closed(Actor):
    kind: str


class Closing(_Closed, total=False):
    reason: str | None
    analysis: str
    caseLibrary: bool
    noRevisitReason: str | None


class EmergencyRecord(TypedDict):
    declaredAt: IsoInstant
    preAuthorisedActions: list[str]
    dutiesDueAt: dict[str, IsoInstant]


# -- part C (issue 10): the customer's deadline, emergency judgement and action, overdue reasons


class CustomerDeadline(TypedDict):
    at: IsoInstant
    detail: str


# -- issue 13 (calendar)


class DeadlineCalendar(TypedDict):
    official: bool
    years: list[int]


class EmergencyJudgement(Actor):
    confirm: bool
    reason: str


class _EmergencyAction(Actor):
    type: str
    companyAtFault: bool


class EmergencyAction(_EmergencyAction, total=False):
    amount: float
    note: str


class _OverdueReason(Actor):
    action: str
    step: str
    reason: str
    late: str  # "step": past the step's first deadline; "dueAt": past the ticket's own


class OverdueReason(_OverdueReason, total=False):
    deadline: IsoInstant  # absent when a ladder climb has since moved the step's deadline


def _records(value: Any) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError("not a list of objects")
    return value


RECORDS = Codec("json", list, _records)


class WorkflowState(TypedDict):
    status: str
    executionArn: str | None


class Links(TypedDict):
    self: str
    history: str
    workflow: str


# -- issue 10 part B (flows): supplementary requests, appeals, the review record --------------


class PendingRequest(Actor):
    """A follow-up (`chase`) or withdrawal (`withdraw`) request waiting for a senior's decision."""

    type: str
    text: str


class _Appeal(TypedDict):
    source: str
    level: str


class AppealRecord(_Appeal, total=False):
    verified: bool
    reportRequired: bool
    reportedAt: IsoInstant


class _Reviewed(Actor):
    valid: bool


class ReviewRecord(_Reviewed, total=False):
    opinion: str
    reason: str


COMPLAINANT = Codec("json", lambda c: c.to_api(), lambda d: Complainant.from_api(d))


@declared
class Ticket:
    """A ticket, declared once: storage, `to_api` and the API's view model follow from these
    fields (chalicelib/domain/declared.py). `api=False` fields never reach a response."""

    id: str
    version: int = field(doc="Send as If-Match.")
    kind: str = field(choices=KINDS)
    status: str = field(choices=STATUSES)
    channel: str = field(choices=CHANNELS)
    complainant: Complainant = field(codec=COMPLAINANT)
    service_number: str
    description: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    source: str | None = field(default=None, api="optional", choices=SOURCES)
    category: str | None = None
    phenomenon: str | None = None
    occurred_at: datetime | None = field(default=None, api="optional")
    location: Location | None = field(default=None, api="optional")
    expected_result: str | None = field(default=None, api="optional")
    fields: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False
    flags: tuple[str, ...] = field(default=(), choices=FLAGS)
    classification: Classification | None = field(
        default=None, api="optional", doc="How it was classified."
    )
    sla_level: str | None = None
    sla_rule: str | None = field(default=None, api="optional", doc="The SLA rule that set `dueAt`.")
    due_at: datetime | None = None
    step_due_at: datetime | None = field(default=None, api="optional")
    progress_due_at: datetime | None = field(default=None, api="optional")
    final_due_at: datetime | None = field(default=None, api="optional")
    breached: bool = False
    overdue_duties: tuple[str, ...] = field(
        default=(),
        doc="Duties the sweep found missed (why `breached`): `reply` (the promised time) or a "
        "duty name.",
    )
    escalation_level: int = 0
    priority: str = field(default="normal", choices=PRIORITIES)
    emergency: bool = False
    escalated: bool = False
    blacklisted: bool = False
    department: str | None = field(
        default=None, api="optional", doc="The department holding it now."
    )
    departments: tuple[str, ...] = field(default=(), api=False)
    repeat_of: str | None = field(default=None, api="optional")
    appeal_of: str | None = field(default=None, api="optional")
    bulletin_id: str | None = field(default=None, api="optional")
    answer_script: str | None = field(default=None, api="optional")
    route: str | None = field(
        default=None, api="optional", doc="Department its phenomenon routes to."
    )
    answer: str | None = field(default=None, api="optional", doc="The answer given at intake.")
    missing_fields: tuple[str, ...] = field(default=(), doc="Required dispatch fields unanswered.")
    # The human step the workflow waits for, its sequence number (guards callbacks) and token.
    step: str | None = field(
        default=None, api="optional", doc="The step it waits at; absent once closed."
    )
    step_seq: int = field(default=0, api=False)
    step_started_at: datetime | None = field(default=None, api="optional")
    task_token: str | None = field(default=None, api=False)
    token_escalation: int = field(default=0, api=False)
    # Completed steps' callback outputs by step sequence number, kept until the workflow is seen
    # to move past them.
    outbox: dict[str, Any] | None = field(default=None, api=False)
    workflow_input: str | None = field(default=None, api=False)
    # `<step seq>:<level>` of the last ladder climb (a retried invocation does nothing), and the
    # step that was overdue then.
    last_escalation: str | None = field(default=None, api=False)
    overdue_step: str | None = field(default=None, api=False)
    dispatched_by: str | None = field(default=None, api="optional", doc="Who dispatched it last.")
    transfers: int = 0
    rounds: int = field(default=0, doc="Unsatisfied revisits.")
    resolution: Resolution | None = field(default=None, api="optional")
    reply: Reply | None = field(default=None, api="optional")
    revisit: Revisit | None = field(default=None, api="optional")
    closing: Closing | None = field(default=None, api="optional")
    escalation_criteria: tuple[str, ...] = ()
    standard_solution: str | None = field(
        default=None, api="optional", doc="The catalog's, if escalated."
    )
    emergency_record: EmergencyRecord | None = field(default=None, api="optional")
    # Duties done (progress report, approval form, leader approval) → when, ISO 8601.
    duties_done: dict[str, IsoInstant] = field(
        default_factory=dict, doc="Duties recorded done (`note` with `duty`), and when."
    )
    workflow_status: str = field(default="pending", api=False)
    execution_arn: str | None = field(default=None, api=False)
    # -- issue 10 part B (flows) --
    pending_requests: dict[str, PendingRequest] = field(
        default_factory=dict,
        doc="Chase or withdrawal requests (`supplement`) waiting for a senior's `decide`, by "
        "requestId.",
    )
    appeal: AppealRecord | None = field(
        default=None,
        api="optional",
        doc="An appeal's source and level, whether it was verified and reported (`appealOf`).",
    )
    review: ReviewRecord | None = field(
        default=None, api="optional", doc="The senior's review: verdict and opinion."
    )
    # -- part C (issue 10): emergencies, overdue reasons, the customer's progress duty
    customer_deadline: CustomerDeadline | None = field(
        default=None,
        api="optional",
        doc="The customer's deadline (required with `urgent`): when, and what it is about.",
    )
    emergency_judgement: EmergencyJudgement | None = field(
        default=None,
        api="optional",
        doc="The complaint administrator's re-judgement (`judge_emergency`): confirmed or not.",
    )
    emergency_action: EmergencyAction | None = field(
        default=None,
        api="optional",
        doc="The last pre-authorised emergency action taken (`emergency_action`); the history "
        "has every one.",
    )
    overdue_reasons: list[OverdueReason] = field(
        default_factory=list,
        codec=RECORDS,
        doc="Why a step was done late (`overdueReason` of `resolve`, `return`, `reply`).",
    )
    escalated_at: datetime | None = field(
        default=None,
        api="optional",
        doc="When it became `escalated`: its progress reports to the customer count from then.",
    )
    # -- issue 10 part A (intake): repeats, suggestions, closing on the spot
    repeat: bool = field(default=False, doc="A repeat complaint (`repeatOf` names the original).")
    repeat_rule: str | None = field(
        default=None,
        api="optional",
        doc="Why `repeatOf` was set: `same_phenomenon`, `same_category` (repeats), `same_text`, "
        "`same_phenomenon_area` (suggestions).",
    )
    repeat_decision: str | None = field(
        default=None,
        api="optional",
        doc="The row of the repeat decision table applied at intake (README).",
    )
    prior_outcome: str | None = field(
        default=None, api="optional", doc="What the customer said of the original's outcome."
    )
    repeat_override_reason: str | None = field(
        default=None, api="optional", doc="Why the agent overrode a repeat match."
    )
    count: int | None = field(
        default=None, api="optional", doc="Suggestions: how many times it was made."
    )
    # -- issue 11: bulletins (`bulletinId` and `answerScript` are declared above)
    answered_at: datetime | None = field(
        default=None,
        api="optional",
        doc="When it was answered at intake from the bulletin `bulletinId` (reports count it).",
    )
    # -- issue 13 (calendar): deadlines counted without the official holiday arrangement
    deadline_calendar: DeadlineCalendar | None = field(
        default=None,
        api="optional",
        doc="Whether intake counted the deadlines on official holiday data: `official: false` "
        "lists the `years` counted on an estimate (weekends and the holidays package's "
        "holidays, no make-up working days).",
    )
    # issue 12 items 4-5 (cases): the department the last dispatch named, until it resolves the
    # ticket or hands it off (a return or transfer then counts a mis-transfer: domain/ratings.py)
    dispatched_to: str | None = field(default=None, api=False)
    # -- issue 11 (incidents): the mass complaint this ticket belongs to
    incident_id: str | None = field(
        default=None,
        api="optional",
        doc="The mass-complaint incident it belongs to (`GET /incidents/{id}`).",
    )

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def with_changes(self, **changes: Any) -> Ticket:
        return replace(self, **changes)

    def to_api(self, masked: bool = False) -> dict[str, Any]:
        """The ticket as responses show it; `masked` for roles that never contact customers
        (their view has the service number and contact number masked: `138****8000`)."""
        out: dict[str, Any] = {}
        for spec in specs(Ticket):
            value = getattr(self, spec.name)
            if spec.api is False or (value is None and spec.api == "optional"):
                continue
            out[spec.wire] = _api_value(value)
        out.update(self.derived())
        if masked:
            out["serviceNumber"] = mask_pii(out["serviceNumber"])
            contact = dict(out["complainant"])
            contact["contactNumber"] = mask_pii(contact["contactNumber"])
            out["complainant"] = contact
        return out

    def derived(self) -> TicketDerived:
        """Response members computed from the fields (`workflow`, `links`)."""
        return {
            "workflow": {"status": self.workflow_status, "executionArn": self.execution_arn},
            "links": {
                "self": f"/tickets/{self.id}",
                "history": f"/tickets/{self.id}/history",
                "workflow": f"/tickets/{self.id}/workflow",
            },
        }

    def summary(self) -> str:
        """One line for notifications: never the complainant record; phone, ID-card and e-mail
        masked, and the complainant's name where the description repeats it."""
        text = self.description if len(self.description) <= 80 else self.description[:79] + "…"
        name = self.complainant.name
        if len(name) >= 2:
            text = text.replace(name, name[0] + "*" * (len(name) - 1))
        return mask_pii(f"[{self.category or 'unclassified'}] {text}")

    def label(self) -> str:
        """What the ticket is about, by catalog codes only: for places that must carry no
        customer text (a Step Functions execution's input and history)."""
        return f"[{self.category or 'unclassified'}/{self.phenomenon or '-'}]"


class TicketDerived(TypedDict):
    workflow: WorkflowState
    links: Links


def _api_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, Complainant):
        return value.to_api()
    return value


def ticket_view_model() -> type[Any]:
    """The pydantic model of a ticket as responses show it (camelCase, instants as date-time
    strings), built from the declaration on first call and cached; pydantic is imported only
    then, never on the request path."""
    from .view_model import view_model

    return view_model(Ticket, TicketDerived)
