"""Every request body and query string the API accepts, declared once as a pydantic v2 model.

The same models validate requests (``parse``), and generate the OpenAPI document's schemas
(``chalicelib.api.openapi``). Models are strict (no coercion), closed (unknown fields are refused)
and bounded; their values are the types of ``chalicelib.domain.values``. Field names on the wire
are camelCase, derived from the Python names. Rules that need data (the catalog) or the time
(``occurredAt`` not in the future) read them from the validation context.

Building a model's validator is deferred to its first use (``defer_build``): a cold start pays
only for the models its request needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import values
from .duties import CRITERIA, DUTY_NAMES
from .errors import FieldError, ValidationFailed
from .vocabulary import (
    CHANNELS,
    COMPLAINANT_TYPES,
    FLAGS,
    KINDS,
    REPLY_METHODS,
    SOURCES,
    STATUSES,
)

CLOCK_SKEW = timedelta(minutes=5)
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_FIELDS = 30
FIELD_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
# JSON Schema (ECMA-262) of clean text: no control characters but newline and tab, at least one
# non-blank character. Lone surrogates cannot be written in a pattern; the server refuses them.
_NO_CONTROL = r"[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]"
TEXT_PATTERN = rf"^{_NO_CONTROL}*[^\s\u0000-\u001F\u007F-\u009F]{_NO_CONTROL}*$"


# -- value types -----------------------------------------------------------------------------


def _string_type(py_type: Any, check: Any, schema: dict[str, Any]) -> Any:
    """A value sent as a JSON string, checked (and normalised) by one of `values`' functions;
    the schema says what the check accepts."""

    def validate(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return check(value)

    return Annotated[py_type, PlainValidator(validate), WithJsonSchema(schema)]


def _text(max_len: int, description: str | None = None, example: str | None = None) -> Any:
    """A string the server NFC-normalises and trims: 1..max_len characters, clean."""
    schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_len,
        "pattern": TEXT_PATTERN,
    }
    if description:
        schema["description"] = description
    if example:
        schema["examples"] = [example]
    return _string_type(str, lambda v: values.clean_text(v, max_len), schema)


def _phone(value: str) -> str:
    if len(value) > 24:
        raise ValueError("must be at most 24 characters")
    return values.normalize_phone(value)


Phone = _string_type(
    str,
    _phone,
    {
        "type": "string",
        "minLength": 5,
        "maxLength": 24,
        "pattern": r"^[0-9０-９+\s\-.()]+$",
        "description": "A mainland mobile (1[3-9] and 9 more digits) or landline number "
        "with its area code (0AA…). Spaces, dashes, dots, parentheses, full-width digits and "
        "a +86/0086 prefix are accepted and removed: the server keeps ASCII digits only.",
        "examples": ["13800138000"],
    },
)
Instant = _string_type(
    datetime,
    values.parse_instant,
    {
        "type": "string",
        "format": "date-time",
        "description": "ISO 8601 with an offset, between 2000-01-01 and 2100-12-31.",
        "examples": ["2026-11-20T09:00:00+08:00"],
    },
)


def _check_field_value(value: Any) -> str | int | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return values.check_number(value)
    if isinstance(value, str):
        return values.clean_text(value, 500, min_len=0)
    raise ValueError("must be a string, number or boolean")


FieldValue = Annotated[
    str | int | float | bool,
    PlainValidator(_check_field_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 500, "pattern": rf"^{_NO_CONTROL}*$"},
                {"type": "number", "minimum": -1e15, "maximum": 1e15},
                {"type": "boolean"},
            ]
        }
    ),
]
FieldName = Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]
Fields = Annotated[
    dict[FieldName, FieldValue],
    Field(
        max_length=MAX_FIELDS,
        description="The phenomenon's required dispatch fields (GET /catalog), by name: "
        "strings (≤ 500 characters), finite numbers (|x| ≤ 1e15) or booleans.",
    ),
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _limit(value: Any) -> int:
    """Query strings carry text: a page size is 1 to 3 ASCII digits, from 1 to MAX_LIMIT."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        number = int(value)
        if 1 <= number <= MAX_LIMIT:
            return number
    raise ValueError(f"must be a whole number from 1 to {MAX_LIMIT}")


Limit = Annotated[
    int,
    PlainValidator(_limit),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
]


def _bool_text(value: Any) -> bool:
    if value in ("true", "false"):
        return bool(value == "true")
    raise ValueError("must be true or false")


BoolText = Annotated[bool, PlainValidator(_bool_text), WithJsonSchema({"type": "boolean"})]
Cursor = Annotated[
    str,
    Field(
        max_length=2048,
        pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$",
        description="The `nextCursor` of the previous page (opaque, signed).",
    ),
]

Kind = Literal[KINDS]
Channel = Literal[CHANNELS]
Source = Literal[SOURCES]
ComplainantType = Literal[COMPLAINANT_TYPES]
ReplyMethod = Literal[REPLY_METHODS]
Flag = Literal[FLAGS]
Status = Literal[STATUSES]
SlaLevel = Literal["A", "B", "C", "D", "E", "F"]
Satisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied"]
Duty = Literal[DUTY_NAMES]
Criterion = Literal[CRITERIA]
Flags = Annotated[list[Flag], Field(max_length=len(FLAGS))]


class Shape(BaseModel):
    """Strict, closed, immutable, camelCase on the wire; validators built on first use."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        strict=True,
        frozen=True,
        defer_build=True,
        hide_input_in_errors=True,
    )


# -- catalog checks (the catalog comes in the validation context) -----------------------------


def _catalog(info: ValidationInfo) -> Any:
    return (info.context or {}).get("catalog")


def _known(kind: str, code: str | None, info: ValidationInfo) -> str | None:
    catalog = _catalog(info)
    if code is None or catalog is None:
        return code
    if getattr(catalog, kind)(code) is None:
        raise ValueError(f"is not a {kind} of the catalog (GET /catalog)")
    return code


def _in_catalog(kind: str) -> Any:
    """A code of the catalog (`kind`: category, phenomenon, department), checked against the
    catalog the validation context carries."""

    def check(value: str, info: ValidationInfo) -> str:
        return _known(kind, value, info) or value

    return Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$"), AfterValidator(check)]


CategoryCode = _in_catalog("category")
PhenomenonCode = _in_catalog("phenomenon")
DepartmentCode = _in_catalog("department")


class _Classified(Shape):
    """A category and/or phenomenon of the catalog; the phenomenon must belong to the category."""

    category: CategoryCode | None = None
    phenomenon: PhenomenonCode | None = None

    @model_validator(mode="after")
    def _belongs(self, info: ValidationInfo) -> Any:
        catalog = _catalog(info)
        if catalog is None or self.phenomenon is None:
            return self
        owner = catalog.phenomenon(self.phenomenon).category
        if self.category is not None and owner != self.category:
            raise _FieldFailure("phenomenon", f"belongs to category {owner}, not {self.category}")
        return self


class _FieldFailure(ValueError):
    """Raised by a model-level check to name the field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# -- POST /tickets ---------------------------------------------------------------------------


class ComplainantIn(Shape):
    name: _text(50, "The complainant's name.", "张三")
    type: ComplainantType = "ordinary"
    contact_number: Phone
    address: _text(200) | None = None
    reply_method: ReplyMethod = "phone"


class LocationIn(Shape):
    area: _text(100, "District or area.", "思明区")
    landmark: _text(200, "A landmark near the place.", "中山路步行街") | None = None


class NewTicketBody(_Classified):
    """A complaint or suggestion taken at intake. Without category and phenomenon the server
    classifies the description and suggests them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "complaint",
                    "channel": "hotline",
                    "complainant": {
                        "name": "张三",
                        "contactNumber": "138 0013 8000",
                        "replyMethod": "sms",
                    },
                    "serviceNumber": "13800138000",
                    "description": "家里手机信号不好，只有一两格，通话断断续续",
                    "phenomenon": "voice_coverage",
                    "occurredAt": "2026-11-20T09:00:00+08:00",
                    "location": {"area": "思明区", "landmark": "中山路步行街"},
                    "fields": {"handsetModel": "Mate 60", "frequency": "frequent"},
                }
            ]
        }
    )

    kind: Kind
    channel: Channel
    source: Source | None = None
    complainant: ComplainantIn
    service_number: Phone
    description: _text(4000, "What the customer says.", "家里手机信号不好，通话断断续续")
    occurred_at: Instant | None = None
    location: LocationIn | None = None
    expected_result: _text(1000) | None = None
    fields: Fields | None = None
    urgent: bool = False
    flags: Flags | None = None
    answer: _text(2000, "The answer given on the spot: the ticket starts `answered`.") | None = None

    @field_validator("occurred_at")
    @classmethod
    def _not_future(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        now = (info.context or {}).get("now")
        if v is not None and now is not None and v > now + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return v

    @field_validator("flags")
    @classmethod
    def _distinct(cls, v: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(v)) if v is not None else None


# -- lifecycle actions -----------------------------------------------------------------------


class ReviewBody(_Classified):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"valid": True, "opinion": "信息完整", "phenomenon": "voice_coverage"}]
        }
    )

    valid: bool
    unreasonable: bool = False
    reason: _text(1000) | None = None
    opinion: _text(2000, "The reviewer's opinion, kept in the history.") | None = None
    fields: Fields | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Any:
        if self.valid and self.unreasonable:
            raise _FieldFailure(
                "unreasonable", "an unreasonable ticket is not valid: send valid: false"
            )
        if (not self.valid or self.unreasonable) and not self.reason:
            raise _FieldFailure("reason", "is required when the ticket is invalid or unreasonable")
        return self


class DispatchBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"department": "network", "note": "弱覆盖，请核查", "slaLevel": "C"}]
        }
    )

    department: DepartmentCode
    note: _text(2000, "The dispatch note for the department.", "弱覆盖，请核查")
    sla_level: SlaLevel | None = None


class EmptyBody(Shape):
    """No fields (an empty object, or no body at all)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class ResolveBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"cause": "weak_coverage", "result": "已新增室分系统"}]}
    )

    cause: _text(500, "The cause found.", "weak_coverage")
    result: _text(4000, "What was done.", "已新增室分系统")


class ReasonBody(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "不属于本部门处理范围"}]})

    reason: _text(1000, example="不属于本部门处理范围")


class TransferBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "department": "billing_support",
                    "reason": "需要计费支撑中心核查",
                    "timeLimitHours": 24,
                }
            ]
        }
    )

    department: DepartmentCode
    reason: _text(1000, example="需要计费支撑中心核查")
    time_limit_hours: Annotated[int, Field(ge=1, le=720)] | None = None


class ReplyBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"content": "已为您处理，信号已恢复", "method": "phone"}]}
    )

    content: _text(4000, "The answer given to the customer.", "已为您处理，信号已恢复")
    method: ReplyMethod


class RevisitBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"satisfaction": "satisfied", "comment": "满意"}]}
    )

    satisfaction: Satisfaction
    comment: _text(2000) | None = None


class ArchiveBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"analysis": "弱覆盖典型案例", "addToCaseLibrary": True}]}
    )

    analysis: _text(4000, "The closing analysis.", "弱覆盖典型案例")
    add_to_case_library: bool = False
    no_revisit_reason: _text(1000) | None = None


class NoteBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "客户补充：晚上八点后信号最差", "fields": {"handsetModel": "Mate 60"}}
            ]
        }
    )

    text: _text(4000, "Supplementary information.", "客户补充：晚上八点后信号最差")
    fields: Fields | None = None
    duty: Duty | None = None
    flags: Flags | None = None


class EscalateBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "媒体介入", "criteria": ["media"]}]}
    )

    reason: _text(1000, example="媒体介入")
    criteria: Annotated[list[Criterion], Field(min_length=1, max_length=len(CRITERIA))]


ACTION_BODIES: Mapping[str, type[Shape]] = {
    "review": ReviewBody,
    "dispatch": DispatchBody,
    "accept": EmptyBody,
    "resolve": ResolveBody,
    "return": ReasonBody,
    "transfer": TransferBody,
    "reply": ReplyBody,
    "revisit": RevisitBody,
    "archive": ArchiveBody,
    "cancel": ReasonBody,
    "note": NoteBody,
    "escalate": EscalateBody,
}


# -- other bodies ----------------------------------------------------------------------------


class ClassifyBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "收到很多垃圾短信", "limit": 3}]}
    )

    text: _text(2000, "A customer's words.", "收到很多垃圾短信")
    limit: Annotated[int, Field(ge=1, le=10, description="How many suggestions, 1 to 10.")] = 5


class BlacklistBody(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "多次恶意投诉"}]})

    reason: _text(500, example="多次恶意投诉")


# -- query strings ---------------------------------------------------------------------------


class _Page(Shape):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None


class _Range(_Page):
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise _FieldFailure("from", "must not be after `to`")
        return self


class TicketQuery(_Range):
    status: Status | None = None
    department: Code | None = None
    category: Code | None = None
    service_number: Phone | None = None
    breached: BoolText | None = None


class CustomerTicketsQuery(_Range):
    status: Status | None = None


class AuditQuery(_Range):
    ticket_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,64}$")] | None = None
    actor: _text(128) | None = None


class SlaPreviewQuery(Shape):
    at: Instant | None = None
    sla_level: SlaLevel | None = None
    channel: Channel = "hotline"
    source: Source | None = None
    category: CategoryCode | None = None
    phenomenon: PhenomenonCode | None = None


class PageQuery(_Page):
    pass


# -- validation ------------------------------------------------------------------------------

M = TypeVar("M", bound=Shape)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "string_pattern_mismatch": "has characters or a form this field does not accept",
}


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of: {expected}"
    if kind in ("too_long", "too_short"):
        bound = ctx.get("max_length" if kind == "too_long" else "min_length")
        noun = "items" if err.get("input") is None or not isinstance(err["input"], str) else ""
        return f"must have at {'most' if kind == 'too_long' else 'least'} {bound} {noun}".strip()
    if kind in ("less_than_equal", "greater_than_equal"):
        return f"must be {'at most' if kind == 'less_than_equal' else 'at least'} " + str(
            ctx.get("le", ctx.get("ge"))
        )
    return _MESSAGES.get(kind, str(err.get("msg", "is invalid")))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Every failing field once, named as the client wrote it (camelCase paths)."""
    seen: dict[str, FieldError] = {}
    for err in exc.errors(include_url=False, include_input=True):
        ctx = err.get("ctx") or {}
        failure = ctx.get("error")
        if isinstance(failure, _FieldFailure):
            name = _path((*err["loc"], failure.field))
            seen.setdefault(name, FieldError(name, str(failure)))
            continue
        loc = tuple(err["loc"])
        message = _message(err)
        if loc and loc[-1] == "[key]":  # a key of a map, e.g. a field name in `fields`
            loc, message = loc[:-1], "is not a valid field name (a letter, then letters, digits, _)"
        name = _path(loc)
        seen.setdefault(name, FieldError(name, message))
    return list(seen.values())


def parse(model: type[M], data: Any, **context: Any) -> M:
    """Validate untrusted data (a parsed JSON body or a query-string dict) against `model`;
    raise ValidationFailed listing every failing field."""
    if data is None:
        data = {}
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None
