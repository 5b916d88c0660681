"""The rule data a deployment runs with: catalog, SLA policy and business calendar (cached)."""

from __future__ import annotations

from typing import Any

from chalicelib import config
from chalicelib.catalog import Catalog, get_catalog
from chalicelib.domain.calendar import BusinessCalendar, default_calendar
from chalicelib.domain.sla import SlaPolicy, load_policy


def catalog() -> Catalog:
    return get_catalog()


def policy() -> SlaPolicy:
    return load_policy(config.sla_policy())


def calendar() -> BusinessCalendar:
    return default_calendar(config.calendar_overrides())


def known_fields(new_fields: dict[str, Any], **top_level: Any) -> dict[str, Any]:
    """Required dispatch fields may already be answered by the ticket's own top-level fields."""
    merged = {k: v for k, v in top_level.items() if v not in (None, "")}
    merged.update(new_fields)
    return merged
