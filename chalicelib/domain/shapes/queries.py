"""The query strings of the list, audit and SLA-preview routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import (
    DEFAULT_LIMIT,
    BoolText,
    CategoryCode,
    Channel,
    Code,
    Cursor,
    Instant,
    Limit,
    PhenomenonCode,
    Phone,
    Shape,
    SlaLevel,
    Source,
    Status,
    _FieldFailure,
    _text,
)

# -- query strings ---------------------------------------------------------------------------


class _Page(Shape):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None


class _Range(_Page):
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise _FieldFailure("from", "must not be after `to`")
        return self


class TicketQuery(_Range):
    status: Status | None = None
    department: Code | None = None
    category: Code | None = None
    service_number: Phone | None = None
    breached: BoolText | None = None


class CustomerTicketsQuery(_Range):
    status: Status | None = None
    # issue 10 part A: the response's `wouldRepeatOf` for a new complaint of this phenomenon
    # (or, with none, of `category`, which also filters the list)
    phenomenon: PhenomenonCode | None = None
    category: CategoryCode | None = None


class AuditQuery(_Range):
    ticket_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,64}$")] | None = None
    actor: _text(128) | None = None


class SlaPreviewQuery(Shape):
    at: Instant | None = None
    sla_level: SlaLevel | None = None
    channel: Channel = "hotline"
    source: Source | None = None
    category: CategoryCode | None = None
    phenomenon: PhenomenonCode | None = None


class PageQuery(_Page):
    pass


EXECUTION_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED", "stuck")


class ExecutionsQuery(_Page):
    """`stuck`: tickets the sweep failed at and has not settled since (retrying, or set aside);
    the others: lifecycle executions that ended so, newest first."""

    status: Literal["FAILED", "TIMED_OUT", "ABORTED", "stuck"]
