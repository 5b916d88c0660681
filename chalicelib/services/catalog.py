"""Use cases over the rule data: the catalog, text classification and SLA previews."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.auth import require_role
from chalicelib.domain.classify import classify
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.sla import LEVELS
from chalicelib.domain.validation import Checker
from chalicelib.domain.vocabulary import CHANNELS, ROLES, SOURCES

from . import rules
from .context import Caller, Deps

MAX_TEXT = 2000


def get_catalog(caller: Caller) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    return rules.catalog().to_json()


def classify_text(caller: Caller, body: Any) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    c = Checker()
    data = c.obj(body, "", ("text", "limit"), ("text",))
    text = c.string(data, "text", "", max_len=MAX_TEXT) if data is not None else None
    if c.errors or text is None:
        raise ValidationFailed(c.errors or [FieldError("text", "is required")])
    suggestions = classify(text, rules.catalog(), limit=5)
    return {
        "items": [
            {"category": s.category, "phenomenon": s.phenomenon, "score": round(s.score, 3)}
            for s in suggestions
        ]
    }


def sla_preview(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    c = Checker()
    allowed = ("at", "slaLevel", "channel", "source", "category", "phenomenon")
    for key in params:
        if key not in allowed:
            c.fail(key, "is not a known query parameter")
    at = c.instant(params, "at", "") or deps.clock()
    override = c.enum(params, "slaLevel", "", LEVELS)
    channel = c.enum(params, "channel", "", CHANNELS) or "hotline"
    source = c.enum(params, "source", "", SOURCES)
    catalog = rules.catalog()
    category = c.string(params, "category", "", max_len=64)
    if category and catalog.category(category) is None:
        c.fail("category", "is not a category of the catalog (GET /catalog)")
    route_level = None
    code = c.string(params, "phenomenon", "", max_len=64)
    if code:
        phenomenon = catalog.phenomenon(code)
        if phenomenon is None:
            c.fail("phenomenon", "is not a phenomenon of the catalog (GET /catalog)")
        else:
            route_level, category = phenomenon.sla_level, phenomenon.category
    if c.errors:
        raise ValidationFailed(c.errors)
    policy = rules.policy()
    level = policy.level_for(route_level, channel, source, category, override)
    calendar = rules.calendar()
    deadlines = policy.deadlines(at, level, channel, source, calendar, category)
    return {**deadlines.to_json(), "policy": policy.name, "calendar": calendar.describe()}
