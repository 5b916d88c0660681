"""The building blocks of every request model: the strict base `Shape`, the value types
(wrapping `chalicelib.domain.values`), catalog codes checked against the validation context, and
`parse`, which turns pydantic's errors into one RFC 9457 field list."""

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
    model_validator,
)
from pydantic.alias_generators import to_camel

from .. import values
from ..duties import CRITERIA, DUTY_NAMES
from ..errors import FieldError, ValidationFailed
from ..vocabulary import (
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
