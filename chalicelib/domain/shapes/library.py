"""Issue 12 items 4-5 (cases): the case library's body and queries, and the per-agent report's."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator

from .base import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    PhenomenonCode,
    Shape,
    _FieldFailure,
    _text,
)

TICKET_ID_PATTERN = r"^[A-Za-z0-9]{2,64}$"


def _day(value: Any) -> date:
    """A calendar day, `YYYY-MM-DD` (Asia/Shanghai), between 2000 and 2100."""
    if isinstance(value, str) and len(value) == 10 and value.isascii():
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None and 2000 <= day.year <= 2100:
            return day
    raise ValueError("must be a date YYYY-MM-DD between 2000 and 2100")


Day = Annotated[
    date,
    PlainValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-11-01"]}),
]


class CaseBody(Shape):
    """A solved difficult case for the knowledge base (seed 002 高级座席 二). Personal data is
    removed from every text before it is stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phenomenon": "voice_coverage",
                    "title": "小区地下车库无信号",
                    "cause": "地下车库未做室分覆盖",
                    "solution": "协调物业新增室分系统，临时建议开启VoWiFi",
                    "script": "您好，您反映的地下车库信号问题已安排网络优化……",
                    "analysis": "同类投诉先查室分覆盖规划",
                }
            ]
        }
    )

    phenomenon: PhenomenonCode
    title: _text(200, "What the case is about, in a line.", "小区地下车库无信号")
    solution: _text(4000, "How it was solved.", "协调物业新增室分系统")
    cause: _text(1000, "The cause found.") | None = None
    script: _text(4000, "What the customer was told (reply script).") | None = None
    analysis: _text(4000, "Why it is typical; what to check first.") | None = None
    ticket_id: (
        Annotated[
            str,
            Field(pattern=TICKET_ID_PATTERN, description="The solved ticket, if there is one."),
        ]
        | None
    ) = None


class CasesQuery(Shape):
    """`phenomenon`, `q`, or both."""

    phenomenon: PhenomenonCode | None = None
    q: _text(200, "Words or characters to find in title, solution and analysis.") | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None

    @model_validator(mode="after")
    def _something(self) -> Any:
        if self.phenomenon is None and self.q is None:
            raise _FieldFailure("phenomenon", "give a phenomenon, or words to search (q)")
        return self


class AgentReportQuery(Shape):
    from_: Day = Field(alias="from")
    to: Day
    agent: _text(128, "One agent's user name.") | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        from ..ratings import MAX_REPORT_DAYS

        if self.from_ > self.to:
            raise _FieldFailure("from", "must not be after `to`")
        if (self.to - self.from_).days + 1 > MAX_REPORT_DAYS:
            raise _FieldFailure("to", f"the period spans at most {MAX_REPORT_DAYS} days")
        return self
