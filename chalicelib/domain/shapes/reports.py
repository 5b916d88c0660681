"""Issue 12 (KPIs): the query string of `GET /reports/kpis` and `GET /reports/kpis.svg`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field, model_validator

from .base import CategoryCode, Channel, DepartmentCode, Shape, _FieldFailure

MAX_REPORT_DAYS = 366  # a year, leap day included

Day = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="A calendar day in Asia/Shanghai, YYYY-MM-DD (inclusive).",
        examples=["2026-11-01"],
    ),
]


def _day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _FieldFailure(name, "is not a calendar day (YYYY-MM-DD)") from None


class KpiQuery(Shape):
    """A cohort: the complaints created from `from` to `to` (inclusive, Asia/Shanghai), at most
    366 days; optionally one department, category or channel."""

    from_: Day = Field(alias="from")
    to: Day
    department: DepartmentCode | None = None
    category: CategoryCode | None = None
    channel: Channel | None = None

    @model_validator(mode="after")
    def _period(self) -> Any:
        start, end = _day("from", self.from_), _day("to", self.to)
        if start > end:
            raise _FieldFailure("from", "must not be after `to`")
        if (end - start).days + 1 > MAX_REPORT_DAYS:
            raise _FieldFailure("to", f"the period is at most {MAX_REPORT_DAYS} days")
        return self

    @property
    def start(self) -> date:
        return date.fromisoformat(self.from_)

    @property
    def end(self) -> date:
        return date.fromisoformat(self.to)
