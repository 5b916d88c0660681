"""The bodies and query of the bulletin routes (`/bulletins`, issue 11)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..bulletins import TYPES
from .base import (
    DEFAULT_LIMIT,
    BoolText,
    Cursor,
    Instant,
    Limit,
    PhenomenonCode,
    Shape,
    _FieldFailure,
    _text,
)

MAX_AREAS = 200
MAX_LABELS = 50

Area = _text(100, "An area as tickets name it (`location.area`).", "思明区")
ServiceLabel = _text(100, "A service the bulletin may affect (a free label).", "5G数据")


def _distinct(v: list[Any] | None) -> list[Any] | None:
    return list(dict.fromkeys(v)) if v is not None else None


def _after(starts: datetime | None, ends: datetime | None) -> None:
    if starts is not None and ends is not None and ends <= starts:
        raise _FieldFailure("endsAt", "must be after `startsAt`")


class _BulletinFields(Shape):
    """The members of a bulletin's body; what `POST /bulletins` requires, its body requires."""

    type: Literal[TYPES] | None = None
    title: _text(200, "What happened, in one line.", "思明区部分基站故障")
    areas: Annotated[list[Area], Field(min_length=1, max_length=MAX_AREAS)] | None = None
    services: Annotated[list[ServiceLabel], Field(max_length=MAX_LABELS)] | None = None
    phenomena: (
        Annotated[
            list[PhenomenonCode],
            Field(min_length=1, max_length=MAX_LABELS, description="Catalog phenomenon codes."),
        ]
        | None
    ) = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    script: _text(2000, "What the desk tells a complaining customer.", "基站抢修中，预计18点恢复")
    contact: (
        _text(200, "Who to call about it (a desk, not a customer).", "网管中心值班室") | None
    ) = None

    @field_validator("areas", "services", "phenomena")
    @classmethod
    def _unique(cls, v: list[Any] | None) -> list[Any] | None:
        return _distinct(v)

    @model_validator(mode="after")
    def _window(self) -> _BulletinFields:
        _after(self.starts_at, self.ends_at)
        return self


class NewBulletinBody(_BulletinFields):
    """A fault or planned-work bulletin (信息报送单 / 障碍公告) for the front desk."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "fault",
                    "title": "思明区部分基站故障",
                    "areas": ["思明区"],
                    "services": ["语音", "4G数据"],
                    "phenomena": ["voice_coverage"],
                    "startsAt": "2026-11-20T09:00:00+08:00",
                    "endsAt": "2026-11-20T18:00:00+08:00",
                    "script": "您好，您所在区域的基站正在抢修，预计今天18点前恢复，给您带来不便敬请谅解。",
                    "contact": "网管中心值班室",
                }
            ]
        }
    )

    type: Literal[TYPES]
    areas: Annotated[list[Area], Field(min_length=1, max_length=MAX_AREAS)]
    phenomena: Annotated[
        list[PhenomenonCode],
        Field(min_length=1, max_length=MAX_LABELS, description="Catalog phenomenon codes."),
    ]
    starts_at: Instant


class IncidentBulletinBody(_BulletinFields):
    """`POST /incidents/{id}/bulletin`: a bulletin about the incident's fault. What it leaves out
    comes from the incident: `type` fault, `phenomena` the incident's, `areas` its counter area
    (a hotline incident has none: name them), `startsAt` now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "集美区基站故障",
                    "script": "您好，集美区基站正在抢修，预计今天18点前恢复，给您带来不便敬请谅解。",
                    "endsAt": "2026-11-20T18:00:00+08:00",
                }
            ]
        }
    )


class PatchBulletinBody(Shape):
    """Extend or shorten the window, amend the title, script or contact: each change is recorded
    in the bulletin's history. `endsAt: null` makes it open-ended."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"endsAt": "2026-11-20T22:00:00+08:00", "script": "抢修延长至22点。"}]
        }
    )

    title: _text(200) | None = None
    script: _text(2000, example="抢修延长至22点。") | None = None
    contact: _text(200) | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None

    @model_validator(mode="after")
    def _something(self) -> PatchBulletinBody:
        if not self.model_fields_set:
            raise _FieldFailure("body", "names nothing to change")
        for name in ("title", "script", "contact", "starts_at"):
            if name in self.model_fields_set and getattr(self, name) is None:
                wire = "startsAt" if name == "starts_at" else name
                raise _FieldFailure(wire, "must not be null")
        _after(self.starts_at, self.ends_at)
        return self


class CloseBulletinBody(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "故障已恢复"}]})

    reason: _text(500, "Why it is closed.", "故障已恢复") | None = None


class BulletinQuery(Shape):
    active: BoolText | None = Field(
        default=None,
        description="true: in effect now; false: ended (closed or expired); absent: all.",
    )
    area: _text(100, "Only bulletins covering this area.") | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None
