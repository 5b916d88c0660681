"""The body of `POST /tickets`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from ..declared import IsoInstant
from ..tickets import CustomerDeadline
from .base import (
    CLOCK_SKEW,
    Channel,
    ComplainantType,
    Fields,
    Flags,
    Instant,
    Kind,
    Phone,
    ReplyMethod,
    Satisfaction,
    Shape,
    Source,
    _Classified,
    _FieldFailure,
    _text,
)

# -- POST /tickets ---------------------------------------------------------------------------


class ComplainantIn(Shape):
    name: _text(50, "The complainant's name.", "张三")
    type: ComplainantType = "ordinary"
    contact_number: Phone
    address: _text(200) | None = None
    reply_method: ReplyMethod = "phone"


class LocationIn(Shape):
    area: _text(100, "District or area.", "思明区")
    landmark: _text(200, "A landmark near the place.", "中山路步行街") | None = None


# part C (issue 10): the customer's deadline an urgent ticket must describe (000 pt.3 (三)(3))
class CustomerDeadlineIn(Shape):
    at: Instant
    detail: _text(
        1000, "What the customer needs by then, in detail.", "明早8点出国前须开通国际漫游"
    )

    @field_validator("at")
    @classmethod
    def _not_past(cls, v: datetime, info: ValidationInfo) -> datetime:
        now = (info.context or {}).get("now")
        if now is not None and v < now - CLOCK_SKEW:
            raise ValueError("must not be in the past: the company must still be able to meet it")
        return v

    def record(self) -> CustomerDeadline:
        """As the ticket keeps it (`customerDeadline`)."""
        return {"at": IsoInstant(self.at.isoformat()), "detail": self.detail}


class CloseOnSpotIn(Shape):
    """Closing at the counter (当场办结): the customer's satisfaction with the answer given."""

    satisfaction: Satisfaction


# issue 11: the agent dispatches a complaint an active bulletin would answer
class DispatchDespiteBulletinIn(Shape):
    """Dispatch although an active bulletin matches (the customer's case is not the outage)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "客户所在小区不在故障范围，信号一直不好"}]}
    )

    reason: _text(
        500, "Why the bulletin does not answer this complaint.", "客户所在小区不在故障范围"
    )


class NewTicketBody(_Classified):
    """A complaint or suggestion taken at intake. Without category and phenomenon the server
    classifies the description and suggests them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "complaint",
                    "channel": "hotline",
                    "complainant": {
                        "name": "张三",
                        "contactNumber": "138 0013 8000",
                        "replyMethod": "sms",
                    },
                    "serviceNumber": "13800138000",
                    "description": "家里手机信号不好，只有一两格，通话断断续续",
                    "phenomenon": "voice_coverage",
                    "occurredAt": "2026-11-20T09:00:00+08:00",
                    "location": {"area": "思明区", "landmark": "中山路步行街"},
                    "fields": {"handsetModel": "Mate 60", "frequency": "frequent"},
                },
                {  # issue 11: an active bulletin matches, but the agent dispatches it
                    "kind": "complaint",
                    "channel": "hotline",
                    "complainant": {"name": "李四", "contactNumber": "13900139000"},
                    "serviceNumber": "13900139000",
                    "description": "家里一直没有信号，和这次故障无关",
                    "phenomenon": "voice_coverage",
                    "location": {"area": "思明区"},
                    "fields": {"handsetModel": "Mate 60", "frequency": "frequent"},
                    "dispatchDespiteBulletin": {"reason": "客户所在小区不在故障范围"},
                },
            ]
        }
    )

    kind: Kind
    channel: Channel
    source: Source | None = None
    complainant: ComplainantIn
    service_number: Phone
    description: _text(4000, "What the customer says.", "家里手机信号不好，通话断断续续")
    occurred_at: Instant | None = None
    location: LocationIn | None = None
    expected_result: _text(1000) | None = None
    fields: Fields | None = None
    urgent: bool = False
    flags: Flags | None = None
    answer: _text(2000, "The answer given on the spot: the ticket starts `answered`.") | None = None
    # -- issue 10 part A (intake): repeats, closing on the spot
    prior_outcome: Literal["satisfied", "unsatisfied"] | None = None
    repeat_of: None = None
    repeat_override_reason: _text(500, "Why the agent overrides a repeat match.") | None = None
    close_on_spot: CloseOnSpotIn | None = None

    @model_validator(mode="after")
    def _intake_rules(self) -> NewTicketBody:
        overriding = "repeat_of" in self.model_fields_set
        if overriding and not self.repeat_override_reason:
            raise _FieldFailure("repeatOverrideReason", "is required with `repeatOf: null`")
        if self.repeat_override_reason and not overriding:
            raise _FieldFailure("repeatOf", "must be null when overriding a repeat match")
        if self.close_on_spot is not None:
            if self.kind != "complaint":
                raise _FieldFailure("closeOnSpot", "only a complaint is closed on the spot")
            if self.channel != "business_hall":
                raise _FieldFailure("closeOnSpot", "is for complaints taken at a business hall")
            if not self.answer:
                raise _FieldFailure("answer", "is required with `closeOnSpot`")
        return self

    # part C (issue 10): required with `urgent`
    customer_deadline: CustomerDeadlineIn | None = None

    @model_validator(mode="after")
    def _urgent_has_deadline(self) -> NewTicketBody:
        if self.urgent and self.customer_deadline is None:
            raise _FieldFailure(
                "customerDeadline", "is required with urgent: when, and what the customer needs"
            )
        return self

    # issue 11: a complaint an active bulletin matches is answered from it, unless the agent
    # dispatches it anyway (recorded in its history)
    dispatch_despite_bulletin: DispatchDespiteBulletinIn | None = None

    @field_validator("occurred_at")
    @classmethod
    def _not_future(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        now = (info.context or {}).get("now")
        if v is not None and now is not None and v > now + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return v

    @field_validator("flags")
    @classmethod
    def _distinct(cls, v: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(v)) if v is not None else None
