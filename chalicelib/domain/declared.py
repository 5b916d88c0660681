"""Records whose fields are declared once: how each is stored and whether the API shows it.

A record is a frozen dataclass decorated with `declared`; each field may carry `field(...)`
metadata:

- `api`: `True` (always in responses, null when unset), `"optional"` (omitted when None) or
  `False` (internal: never in a response);
- `codec`: how the field is stored, when its type alone does not say (see `Codec`);
- `doc`: a description for the API schema;
- `choices`: the values a text field (or each item of a list of text) may take, for the schema.

The wire name is the camelCase of the Python name, derived, never typed. From the declaration
come the pynamodb attributes (adapters/models.py), `to_model` / `from_model`
(adapters/tickets_repo.py), `to_api` and the pydantic view model (`view_model.py`).

Pure Python: no pydantic, no pynamodb here (cold start).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, NewType, TypeVar, Union, dataclass_transform

from .values import check_instant, parse_storage_time, storage_time

T = TypeVar("T")
ApiMode = bool | Literal["optional"]
# How a value sits in DynamoDB; adapters/models.py maps each to a pynamodb attribute class.
StoredAs = Literal["text", "number", "bool", "list", "json"]

# An instant inside a nested record, kept as ISO 8601 text (as the API shows it).
IsoInstant = NewType("IsoInstant", str)


class Unreadable(ValueError):
    """A stored value that does not decode; `attribute` names it, the message never quotes it."""

    def __init__(self, attribute: str, reason: str) -> None:
        super().__init__(f"{attribute}: {reason}")
        self.attribute = attribute
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Codec:
    """Python value ⇄ stored value. `decode` raises (any exception) on a bad stored value."""

    stored_as: StoredAs
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def field(
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
    api: ApiMode = True,
    codec: Codec | None = None,
    doc: str | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    metadata = {"api": api, "codec": codec, "doc": doc, "choices": choices}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, field))
def declared(cls: type[T]) -> type[T]:
    """A frozen dataclass whose fields `specs` describes."""
    return dataclasses.dataclass(frozen=True)(cls)


# -- codecs by type ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise TypeError("not an integer")
    return int(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a boolean")
    return value


def _instant(value: Any) -> datetime:
    return check_instant(parse_storage_time(_text(value)))


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return tuple(_text(v) for v in value)


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


TEXT = Codec("text", lambda v: v, _text)
NUMBER = Codec("number", lambda v: v, _int)
BOOL = Codec("bool", lambda v: v, _bool)
INSTANT = Codec("text", storage_time, _instant)
STRINGS = Codec("list", list, _strings)
OBJECT = Codec("json", lambda v: v, _object)


def _strip_none(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None was allowed)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def _codec_for(hint: Any) -> Codec:
    base = typing.get_origin(hint) or hint
    if base is str:
        return TEXT
    if base is bool:
        return BOOL
    if base is int:
        return NUMBER
    if base is datetime:
        return INSTANT
    if base is tuple:
        return STRINGS
    if base is dict or typing.is_typeddict(hint):
        return OBJECT
    raise TypeError(f"no codec for {hint!r}: declare one with field(codec=...)")


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str
    wire: str
    hint: Any  # the declared type, None removed
    nullable: bool
    required: bool
    default_value: Callable[[], Any]
    api: ApiMode
    codec: Codec
    doc: str | None
    choices: tuple[str, ...] | None

    def encode(self, value: Any) -> Any:
        """The stored form; None for an unset value or an empty collection that is the default."""
        if value is None:
            return None
        empty = self.codec.stored_as in ("list", "json") and not value
        if empty and not self.required and self.default_value() == value:
            return None
        return self.codec.encode(value)

    def decode(self, stored: Any) -> Any:
        if stored is None:
            if self.required:
                raise Unreadable(self.wire, "missing")
            return self.default_value()
        try:
            return self.codec.decode(stored)
        except Exception as err:
            raise Unreadable(self.wire, type(err).__name__) from None


@functools.cache
def specs(cls: type) -> tuple[Spec, ...]:
    """The declared fields of a `declared` record, in order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint, nullable = _strip_none(hints[f.name])
        meta = f.metadata
        if f.default is not dataclasses.MISSING:
            default: Callable[[], Any] = functools.partial(lambda v: v, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = _no_default
        out.append(
            Spec(
                name=f.name,
                wire=camel(f.name),
                hint=hint,
                nullable=nullable,
                required=default is _no_default,
                default_value=default,
                api=meta.get("api", True),
                codec=meta.get("codec") or _codec_for(hint),
                doc=meta.get("doc"),
                choices=meta.get("choices"),
            )
        )
    return tuple(out)


def _no_default() -> Any:
    raise TypeError("a required field has no default")
