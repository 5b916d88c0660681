"""The complaint blacklist, kept by complaint managers; new tickets of a listed number are
flagged `blacklisted` and escalated (DOMAIN.md §6)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import shapes, values
from chalicelib.domain.auth import require_role
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed

from .context import Caller, Deps

ROLES = ("complaint_manager",)


def _number(raw: str) -> str:
    number = values.phone_or_none(raw)
    if number is None:
        raise ValidationFailed([FieldError("serviceNumber", values.PHONE_RULE)])
    return number


def add(caller: Caller, service_number: str, body: Any, deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    number = _number(service_number)
    reason = shapes.parse(shapes.BlacklistBody, body).reason
    return deps.blacklist.put(number, reason, caller.principal.username, deps.clock())


def remove(caller: Caller, service_number: str, deps: Deps) -> None:
    require_role(caller.principal, ROLES)
    if not deps.blacklist.delete(_number(service_number)):
        raise NotFound(f"{service_number} is not on the blacklist")


def page(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    q = shapes.parse(shapes.PageQuery, params)
    cursor = deps.cursors.decode(q.cursor) if q.cursor else None
    items, lek = deps.blacklist.page(q.limit, cursor)
    return {"items": items, "nextCursor": deps.cursors.encode(lek) if lek else None}
