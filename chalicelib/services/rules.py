"""The rule data a deployment runs with: catalog, SLA policy, business calendar and the workflow's
start grace. Held by `Deps` (one `Rules` per process), each loaded on first use: a request that
needs no calendar never loads one. Tests build their own `Rules` with the data they want."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib import config

if TYPE_CHECKING:  # loaded on first use: a cold start that needs no calendar loads none
    from chalicelib.catalog import Catalog
    from chalicelib.domain.calendar import BusinessCalendar
    from chalicelib.domain.incidents import MassComplaintPolicy
    from chalicelib.domain.sla import SlaPolicy


class Rules:
    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        policy: SlaPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        workflow_grace: timedelta | None = None,
        mass_complaint: MassComplaintPolicy | None = None,  # issue 11: incidents
    ) -> None:
        for name, value in (
            ("catalog", catalog),
            ("policy", policy),
            ("calendar", calendar),
            ("workflow_grace", workflow_grace),
            ("mass_complaint", mass_complaint),
        ):
            if value is not None:
                self.__dict__[name] = value  # fills the cached_property

    @cached_property
    def catalog(self) -> Catalog:
        from chalicelib.catalog import get_catalog

        return get_catalog()

    @cached_property
    def policy(self) -> SlaPolicy:
        from chalicelib.domain.sla import load_policy

        return load_policy(config.sla_policy())

    @cached_property
    def calendar(self) -> BusinessCalendar:
        from chalicelib.catalog import CALENDAR_DIRECTORY
        from chalicelib.domain.calendar import default_calendar

        # issue 13 (calendar): the official arrangements shipped as data, one file per year
        return default_calendar(config.calendar_overrides(), CALENDAR_DIRECTORY)

    @cached_property
    def workflow_grace(self) -> timedelta:
        """How long a new ticket may wait for its execution before the sweep starts it again."""
        return timedelta(seconds=config.workflow_start_grace_seconds())

    # -- issue 11: incidents (mass complaints) --
    @cached_property
    def mass_complaint(self) -> MassComplaintPolicy:
        """The mass-complaint thresholds (chalicelib/catalog/mass_complaint.json)."""
        from chalicelib.catalog.mass_complaint import (
            default_mass_complaint_policy,
            load_mass_complaint_policy,
        )

        path = config.mass_complaint_policy()
        return load_mass_complaint_policy(path) if path else default_mass_complaint_policy()


def known_fields(new_fields: dict[str, Any], **top_level: Any) -> dict[str, Any]:
    """Required dispatch fields may already be answered by the ticket's own top-level fields."""
    merged = {k: v for k, v in top_level.items() if v not in (None, "")}
    merged.update(new_fields)
    return merged
