"""What the API answers, declared as pydantic v2 models: every response body but the ticket itself
(``chalicelib.domain.tickets.ticket_view_model``).

The services build plain dicts; these models describe them for the OpenAPI document (serialization
mode, camelCase aliases) and let tests check a real response against its declaration
(``Model.model_validate(body)``). Optional members the services omit default to ``None``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from chalicelib.catalog.model import DEPARTMENT_KINDS, FIELD_TYPES, LADDER_ROLES
from chalicelib.domain.lifecycle import STEP_STATUS
from chalicelib.domain.vocabulary import ROLES, STATUSES

SlaLevel = Literal["A", "B", "C", "D", "E", "F"]
Status = Literal[STATUSES]
Role = Literal[ROLES]
Step = Literal[tuple(STEP_STATUS)]
DepartmentKind = Literal[tuple(sorted(DEPARTMENT_KINDS))]
FieldType = Literal[tuple(sorted(FIELD_TYPES))]
LadderRole = Literal[tuple(sorted(LADDER_ROLES))]
Instant = Annotated[datetime, Field(description="ISO 8601 in Asia/Shanghai time, offset included.")]


def _open(schema: dict[str, Any]) -> None:
    """Documented open: a member added later is not a breaking change for clients."""
    schema.pop("additionalProperties", None)


class View(BaseModel):
    """A response body: camelCase on the wire, members as the services write them. Closed, so a
    test validating a real response finds any member the document does not declare."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        json_schema_extra=_open,
    )


T = TypeVar("T")


class Page(View, Generic[T]):
    """A page of a list, newest first; pass `nextCursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def page_of(item: type[BaseModel], name: str) -> type[Page[Any]]:
    """`Page[item]` under a name of its own (the document's component name)."""
    model: type[Page[Any]] = create_model(name, __base__=Page[item])  # type: ignore[valid-type]
    model.__doc__ = f"A page of {item.__name__} items; `nextCursor` is null on the last page."
    return model


# -- tickets -----------------------------------------------------------------------------------


class HistoryEvent(View):
    """One event of a ticket's history: who did what, and the status it moved between."""

    at: Instant
    actor: str
    role: str
    action: str = Field(examples=["create", "dispatch", "resolve", "workflow_started"])
    from_status: Status | None
    to_status: Status | None
    version: int | None = Field(description="The ticket version this event produced.")
    details: dict[str, Any]


class History(View):
    """A ticket's whole history, oldest first."""

    items: list[HistoryEvent]


class AuditEntry(View):
    """Who read or wrote which ticket, or tried to, when, from where, and with what outcome."""

    id: str
    at: Instant
    actor: str = Field(
        description="The user name; `anonymous` for a refused caller without a usable token "
        "(recorded only when it names a ticket id)."
    )
    role: str = Field(description="The actor's most privileged role; `none` for `anonymous`.")
    action: str = Field(
        examples=["create", "read", "list", "read_history", "read_workflow", "read_audit", "note"]
    )
    ticket_id: str | None = Field(
        description="The ticket the request named; null for a route that names none "
        "(`read_audit` without `ticketId`, a refused list or create)."
    )
    request_id: str | None
    outcome: str = Field(
        description="`ok`, or `refused:<status>/<code>` for a refused attempt (401, 403, 404 or "
        "409, with the problem's `code`).",
        examples=["ok", "refused:404/not_found", "refused:409/not_your_department"],
    )
    source_ip: str | None = Field(
        description="The client's address as API Gateway saw it (`identity.sourceIp`)."
    )
    user_agent: str | None = Field(description="The `User-Agent` header, at most 256 characters.")


# -- catalog -----------------------------------------------------------------------------------


class Cause(View):
    code: str
    name_zh: str
    name_en: str


class RequiredField(View):
    """A dispatch field the front desk must ask for; answered in a ticket's `fields`."""

    name: str
    type: FieldType
    prompt: str
    options: list[str] | None = Field(
        default=None, description="The choices of an `enum` field; absent otherwise."
    )


class SourceRef(View):
    seed: str = Field(
        description="The seed document's file name.", examples=["000_d5b96aa90228a18f.txt"]
    )
    section: str = Field(examples=["ch.5 pt.1 §1 话音基本业务网络覆盖"])


class PhenomenonSource(View):
    """Where a phenomenon comes from (issue 13): the seed sections that name or describe it, and
    who wrote its handling guide and standard solution."""

    guide: Literal["seed", "partial", "project"] = Field(
        description="Who wrote the causes, checks and scripts: the seed, the seed in part (the "
        'rest is the project\'s), or the project ("written by the project").'
    )
    refs: list[SourceRef] = Field(description="Seed sections naming or describing it.")
    standard_solution: Literal["seed", "project"] | None = Field(
        description="Who wrote `standardSolution`; null when there is none."
    )
    note: str | None


class IntakeAnswer(View):
    """The intake rule: a complaint whose required fields match `when` is answered at intake with
    the script of `cause` (e.g. coverage trouble that is occasional)."""

    when: dict[str, list[str]]
    cause: str


class Phenomenon(View):
    """A complaint phenomenon: how to recognise it, what to ask, where it goes, how fast."""

    code: str
    category: str
    name_zh: str
    name_en: str
    keywords: list[str]
    causes: list[Cause]
    checks: list[str] = Field(description="What the front desk checks before dispatching.")
    required_fields: list[RequiredField]
    route: str = Field(description="The department code it is dispatched to.")
    sla_level: SlaLevel
    scripts: dict[str, str] = Field(description="What the desk tells the customer, by situation.")
    standard_solution: str | None
    # -- issue 13 (catalog): sources and the intake rule
    source: PhenomenonSource
    answer_at_intake: IntakeAnswer | None


class CatalogCategory(View):
    code: str
    name_zh: str
    name_en: str
    route: str = Field(description="The department its phenomena go to by default.")
    phenomena: list[Phenomenon]


class CatalogDepartment(View):
    code: str
    name_zh: str
    name_en: str
    kind: DepartmentKind


class LadderRung(View):
    """A level of the escalation ladder."""

    level: int = Field(ge=0)
    code: str
    name_zh: str
    name_en: str
    role: LadderRole
    department: str | None = Field(description="null: the ticket's own department.")


class Catalog(View):
    """The complaint catalog: categories with their phenomena, departments, escalation ladder."""

    categories: list[CatalogCategory]
    departments: list[CatalogDepartment]
    ladder: list[LadderRung] = Field(description="Level 0 upwards.")


class Suggestion(View):
    category: str
    phenomenon: str | None
    score: float = Field(ge=0, le=1, description="The model's probability (0..1).")
    confidence: Literal["high", "medium", "low"] = Field(
        description="high: score ≥ 0.6; medium: ≥ 0.3; low: the desk should confirm with the "
        "customer before relying on it."
    )


class ClassifyResult(View):
    """The catalog's categories and phenomena ranked against the text, best first."""

    items: list[Suggestion]
    explanation: str | None = Field(
        default=None, description="Only when `items` is empty: why nothing was suggested."
    )


# -- SLA ---------------------------------------------------------------------------------------


class CalendarOverrides(View):
    holidays: list[date]
    workdays: list[date]
    source: str | None = None


class CalendarInfo(View):
    """The business calendar the deadlines were computed with."""

    time_zone: str
    official_years: list[int] | None
    fallback: str
    overrides: CalendarOverrides | None
    # -- issue 13 (calendar)
    arrangement_years: list[int] = Field(
        description="Years whose official arrangement is shipped as a file "
        "(`chalicelib/catalog/calendar/<year>.json`)."
    )
    official: bool = Field(
        description="False when a year between `at` and the last deadline has no official "
        "holiday data (its days are estimated: weekends and the holidays package's holidays)."
    )
    years: list[int] = Field(
        description="Those years, when `official` is false.", examples=[[2027]]
    )


class SlaPreview(View):
    """The deadlines a ticket accepted at `at` would get."""

    sla_level: SlaLevel
    due_at: datetime
    progress_due_at: datetime | None = Field(
        default=None, description="When a progress report is due, if a rule asks for one."
    )
    final_due_at: datetime | None = Field(
        default=None, description="The final-answer limit, if a rule sets one."
    )
    rule: str = Field(
        description="The rule that set `dueAt`.",
        examples=["level:A", "channel:letter", "source:12315"],
    )
    policy: str = Field(description="The deployed SLA policy's name.")
    calendar: CalendarInfo


# -- workflow, blacklist, meta -----------------------------------------------------------------


class WorkflowState(View):
    name: str
    entered_at: Instant
    exited_at: Instant | None


class WorkflowFailure(View):
    at: Instant
    type: str = Field(examples=["TaskTimedOut", "ExecutionFailed"])
    error: str | None
    cause: str | None


class WorkflowTicket(View):
    status: Status
    step: Step | None
    version: int | None = None


class WorkflowView(View):
    """A ticket's lifecycle execution as operators see it."""

    ticket_id: str
    execution_arn: str | None
    status: str = Field(
        description="The execution's status, or NOT_STARTED.",
        examples=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "NOT_STARTED"],
    )
    started_at: Instant | None = None
    stopped_at: Instant | None = None
    current_state: str | None = Field(description="While running: the state it is in.")
    states: list[WorkflowState] = Field(description="The states entered, in order.")
    failures: list[WorkflowFailure]
    ticket: WorkflowTicket


class OperationsLinks(View):
    ticket: str
    workflow: str
    restart: str


class ExecutionItem(View):
    """An execution that failed, timed out or was aborted, or a ticket the sweep is stuck at
    (`status: stuck`)."""

    ticket_id: str
    status: str = Field(examples=["FAILED", "TIMED_OUT", "ABORTED", "stuck"])
    execution_arn: str | None = None
    name: str | None = Field(default=None, description="The execution's name.")
    started_at: Instant | None = None
    stopped_at: Instant | None = None
    since: str | None = Field(default=None, description="stuck: since the sweep first failed.")
    sweep_attempts: int | None = Field(default=None, description="stuck: failed attempts.")
    reason: str | None = Field(
        default=None, description="stuck: the last failure's stage and error type."
    )
    set_aside: bool | None = Field(
        default=None, description="stuck: the sweep no longer comes back to it by itself."
    )
    retry_at: str | None = Field(default=None, description="stuck: the sweep's next attempt.")
    ticket: WorkflowTicket | None = None
    links: OperationsLinks


class WorkflowRestarted(View):
    """A fresh execution started at the ticket's step."""

    ticket_id: str
    execution: str = Field(description="The new execution's name.")
    previous_status: str | None = Field(
        description="How the previous execution ended (null: there was none)."
    )
    step: Step | None
    links: OperationsLinks


class BlacklistEntry(View):
    """A listed service number: its new tickets are flagged `blacklisted` and escalated."""

    service_number: str = Field(description="Normalised: ASCII digits only.")
    reason: str
    added_by: str
    added_at: Instant


class Health(View):
    status: Literal["ok"]


class ProblemField(View):
    field: str = Field(examples=["complainant.contactNumber"])
    message: str


class Problem(View):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str | None = Field(
        default=None,
        description="On 409s: which rule refused; each operation lists its own.",
        examples=["stale_version", "action_not_allowed", "idempotency_key_reused"],
    )
    errors: list[ProblemField] | None = Field(
        default=None,
        description="On 400s (and some 409s): every failing field, named as the client wrote it.",
    )


AuditPage = page_of(AuditEntry, "AuditPage")
BlacklistPage = page_of(BlacklistEntry, "BlacklistPage")
ExecutionPage = page_of(ExecutionItem, "ExecutionPage")


# -- issue 11: bulletins -----------------------------------------------------------------------


class BulletinHistoryEntry(View):
    """Who published, amended or closed the bulletin, when; an amendment's `changes` give each
    changed member's `before` and `after` (a script: its `length` and `sha256`, the first 12
    hex digits of its hash, never its text), a closing's its `reason`. When a closing needed
    the room, the oldest amendments keep only the names of what `changed`."""

    at: Instant
    actor: str
    role: Role
    action: Literal["publish", "amend", "close"]
    changes: dict[str, Any] | None = None
    changed: list[str] | None = None
    details_dropped: bool | None = None


class BulletinLinks(View):
    self_: str = Field(alias="self")


class Bulletin(View):
    """A fault or planned-work bulletin (信息报送单 / 障碍公告). `status` is as of the response:
    `scheduled` before `startsAt`, `active` until `endsAt` (intake answers matching complaints
    from it), then `expired`; `closed` once closed."""

    id: str
    version: int = Field(description="Send as If-Match.")
    type: Literal["fault", "planned_work"]
    status: Literal["scheduled", "active", "expired", "closed"]
    title: str
    areas: list[str]
    services: list[str]
    phenomena: list[str]
    starts_at: Instant
    ends_at: Instant | None = Field(description="null: open-ended, until closed.")
    script: str
    contact: str | None
    department: str | None = Field(description="The publisher's department.")
    created_at: Instant
    created_by: str
    updated_at: Instant
    closed_at: Instant | None
    closed_by: str | None
    close_reason: str | None
    history: list[BulletinHistoryEntry] | None = Field(
        None, description="On GET /bulletins/{id}; left out of list pages."
    )
    links: BulletinLinks


# -- issue 12 items 4-5 (cases): the case library and the per-agent report -----------------------


class CaseView(View):
    """A case of the library: what happened, why and how it was solved — no personal data
    (numbers, names, addresses and e-mails are replaced by placeholders such as `[号码]`)."""

    id: str
    phenomenon: str
    category: str
    title: str
    cause: str | None = None
    solution: str
    script: str | None = None
    analysis: str | None = None
    source_ticket_id: str | None = Field(
        default=None, description="The ticket it was archived from, or the one it was solved on."
    )
    source: Literal["archive", "knowledge_base"] = Field(
        description="`archive`: a ticket archived with `addToCaseLibrary`; `knowledge_base`: "
        "added by a senior or manager (POST /cases)."
    )
    created_by: str
    created_at: Instant


class CasePage(Page[CaseView]):
    """A page of cases, newest first per phenomenon; `phenomena` are those searched (the one
    given, or those the classifier ranks first for `q`)."""

    phenomena: list[str]


class TicketCases(View):
    """The top cases for a ticket's phenomenon (what the dispatch and appeal desks consult)."""

    ticket_id: str
    phenomenon: str | None
    items: list[CaseView]


class MistakeCounts(View):
    """Mistakes by kind (the kinds' codes, as `review` takes them)."""

    wrong_category: int = Field(alias="wrong_category")
    missing_information: int = Field(alias="missing_information")
    wrong_department: int = Field(alias="wrong_department")
    total: int


class MistakesByStage(View):
    intake: int
    dispatch: int


class AgentRating(View):
    agent: str
    mistakes: MistakeCounts
    mistakes_by: MistakesByStage = Field(description="The same mistakes, by the stage rated.")
    mis_transfers: int = Field(
        description="Dispatches whose department returned the ticket or transferred it away "
        "before resolving it."
    )


class AgentReport(View):
    from_: date = Field(alias="from")
    to: date
    agent: str | None = None
    items: list[AgentRating]


# -- issue 12 (KPIs): the report of GET /reports/kpis --------------------------------------------


class KpiValue(View):
    """One KPI of the period: `value` = numerator / denominator (null when the denominator is 0:
    an empty period), compared exactly with `target` in the manual's `direction`."""

    code: str = Field(examples=["satisfaction", "repeat_rate", "escalations_level_2"])
    name: str
    numerator: int
    denominator: int
    value: float | None = Field(
        description="A fraction in [0, 1] (`unit` fraction); transfers or complaints per "
        "ticket/incident (`per_ticket`); seconds (`seconds`)."
    )
    target: float | None = Field(description="The manual's target as a fraction; null: none.")
    direction: Literal["at_least", "at_most"] | None
    met: bool | None = Field(description="Null when there is no target or no value.")
    unit: Literal["fraction", "per_ticket", "seconds", "count"]


class KpiDepartment(View):
    department: str
    kpis: list[KpiValue]


class KpiReport(View):
    """A cohort: the complaints created from `from` to `to` (Asia/Shanghai days, inclusive),
    with what has happened to them so far; over all departments, then per department."""

    from_: date = Field(alias="from")
    to: date
    department: str | None = None
    category: str | None = None
    channel: str | None = None
    kpis: list[KpiValue]
    departments: list[KpiDepartment]
    items_read: int = Field(
        description="Counter items the report read (days × departments, whatever the number "
        "of tickets)."
    )
