"""Pydantic response models built from declared records (declared.py), for the API document.

Imported only by `ticket_view_model()`, never on the request path: pydantic costs cold start.
Every model forbids unknown members, so a response that shows more than is declared fails
validation.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .declared import IsoInstant, camel, specs

_CLOSED = ConfigDict(extra="forbid", populate_by_name=True)


def _no_default(schema: dict[str, Any]) -> None:
    """Omitted members are absent, not null: the schema shows no `default: null`."""
    schema.pop("default", None)


def _type(hint: Any) -> Any:
    """The pydantic type of a declared type: instants become date-time strings, tuples
    arrays, TypedDicts and dataclasses closed models."""
    if hint is datetime or hint is IsoInstant:
        return datetime
    if typing.is_typeddict(hint):
        return _typed_dict_model(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass_model(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return list[_type(args[0])]  # type: ignore[misc]
    if origin is list:
        return list[_type(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_type(args[0]), _type(args[1])]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_type(a) for a in args)]  # noqa: UP007
    return hint


@functools.cache
def _typed_dict_model(td: Any) -> type[BaseModel]:
    hints = typing.get_type_hints(td)
    fields: dict[str, Any] = {}
    for key, hint in hints.items():
        if key in td.__required_keys__:
            fields[key] = (_type(hint), ...)
        else:
            fields[key] = (_type(hint), Field(default=None, json_schema_extra=_no_default))
    return create_model(td.__name__, __config__=_CLOSED, **fields)  # type: ignore[call-overload,no-any-return]


@functools.cache
def _dataclass_model(cls: type) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = _type(hints[f.name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            fields[f.name] = (hint, Field(alias=camel(f.name)))
        else:
            fields[f.name] = (hint, Field(default=None, alias=camel(f.name)))
    return create_model(cls.__name__, __config__=_CLOSED, **fields)  # type: ignore[call-overload,no-any-return]


@functools.cache
def view_model(record: type, derived: Any) -> type[BaseModel]:
    """The response model of a declared record: its `api` fields (required unless
    `api="optional"`, nullable where the type allows None) and the `derived` members."""
    fields: dict[str, Any] = {}
    for spec in specs(record):
        if spec.api is False:
            continue
        hint = _type(spec.hint)
        if spec.choices:
            choice: Any = Literal.__getitem__(spec.choices)
            hint = list[choice] if spec.hint is not str else choice  # type: ignore[valid-type]
        if spec.api == "optional":
            fields[spec.name] = (
                hint,
                Field(
                    default=None,
                    alias=spec.wire,
                    description=spec.doc,
                    json_schema_extra=_no_default,
                ),
            )
        else:
            typ = hint | None if spec.nullable else hint
            fields[spec.name] = (typ, Field(alias=spec.wire, description=spec.doc))
    for key, hint in typing.get_type_hints(derived).items():
        fields[key] = (_type(hint), ...)
    model = create_model(  # type: ignore[call-overload]
        record.__name__,
        __config__=_CLOSED,
        __doc__=(
            f"A {record.__name__.lower()} as every response shows it. Optional members are "
            "omitted, not null."
        ),
        **fields,
    )
    return model  # type: ignore[no-any-return]
