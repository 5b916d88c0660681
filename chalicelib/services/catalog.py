"""Use cases over the rule data: the catalog, text classification and SLA previews."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import shapes
from chalicelib.domain.auth import require_role
from chalicelib.domain.classify import classify, explain_empty
from chalicelib.domain.vocabulary import ROLES

from .context import Caller, Deps


def get_catalog(caller: Caller, deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    return deps.rules.catalog.to_json()


def classify_text(caller: Caller, body: Any, deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    q = shapes.parse(shapes.ClassifyBody, body)
    suggestions = classify(q.text, deps.rules.catalog, limit=q.limit)
    answer: dict[str, Any] = {
        "items": [
            {
                "category": s.category,
                "phenomenon": s.phenomenon,
                "score": round(s.score, 3),
                "confidence": s.confidence,
            }
            for s in suggestions
        ]
    }
    if not suggestions:
        answer["explanation"] = explain_empty(q.text)
    return answer


def sla_preview(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, ROLES)
    rules = deps.rules
    catalog = rules.catalog
    q = shapes.parse(shapes.SlaPreviewQuery, params, catalog=catalog)
    at = q.at or deps.clock()
    category, route_level = q.category, None
    if q.phenomenon:
        phenomenon = catalog.phenomenon(q.phenomenon)
        assert phenomenon is not None  # the query model checked it against the catalog
        route_level, category = phenomenon.sla_level, phenomenon.category
    policy = rules.policy
    level = policy.level_for(route_level, q.channel, q.source, category, q.sla_level)
    calendar = rules.calendar
    deadlines = policy.deadlines(at, level, q.channel, q.source, calendar, category)
    # issue 13 (calendar): {official, years}: the years counted without official data
    ends = (deadlines.due_at, deadlines.progress_due_at, deadlines.final_due_at)
    described = {**calendar.describe(), **calendar.official_note(at, *ends)}
    return {**deadlines.to_json(), "policy": policy.name, "calendar": described}
