"""The complaint blacklist, kept by complaint managers; new tickets of a listed number are
flagged `blacklisted` and escalated (DOMAIN.md §6)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.query import decode_cursor, encode_cursor
from chalicelib.domain.auth import require_role
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.validation import LANDLINE, MOBILE, Checker, normalize_phone

from .context import Caller, Deps

ROLES = ("complaint_manager",)


def _number(raw: str) -> str:
    number = normalize_phone(raw)
    if not (MOBILE.match(number) or LANDLINE.match(number)):
        raise ValidationFailed(
            [FieldError("serviceNumber", "must be a mainland mobile or landline number")]
        )
    return number


def add(caller: Caller, service_number: str, body: Any, deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    number = _number(service_number)
    c = Checker()
    data = c.obj(body, "", ("reason",), ("reason",))
    reason = c.string(data, "reason", "", max_len=500) if data is not None else None
    if c.errors or reason is None:
        raise ValidationFailed(c.errors or [FieldError("reason", "is required")])
    return deps.blacklist.put(number, reason, caller.principal.username, deps.clock())


def remove(caller: Caller, service_number: str, deps: Deps) -> None:
    require_role(caller.principal, ROLES)
    if not deps.blacklist.delete(_number(service_number)):
        raise NotFound(f"{service_number} is not on the blacklist")


def page(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    c = Checker()
    for key in params:
        if key not in ("limit", "cursor"):
            c.fail(key, "is not a known query parameter")
    limit = c.limit(params, 50, 200)
    if c.errors:
        raise ValidationFailed(c.errors)
    cursor = decode_cursor(params["cursor"]) if params.get("cursor") else None
    items, lek = deps.blacklist.page(limit, cursor)
    return {"items": items, "nextCursor": encode_cursor(lek) if lek else None}
