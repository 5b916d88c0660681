"""Every request body and query string the API accepts, declared once as a pydantic v2 model.

The same models validate requests (`parse`) and generate the OpenAPI document's schemas
(`chalicelib.api.openapi`). Models are strict (no coercion), closed (unknown fields are refused)
and bounded; their values are the types of `chalicelib.domain.values`. Field names on the wire
are camelCase, derived from the Python names. Rules that need data (the catalog) or the time
(`occurredAt` not in the future) read them from the validation context (decision 0009).

Cold start: the models are split by route family and each family is imported on first use
(`shapes.NewTicketBody` loads `intake` only), and each model builds its validator on first use
(`defer_build`), so a request pays only for the models it needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actions import (
        ACTION_BODIES as ACTION_BODIES,
    )
    from .actions import (
        ArchiveBody as ArchiveBody,
    )
    from .actions import (
        DispatchBody as DispatchBody,
    )
    from .actions import (
        EmptyBody as EmptyBody,
    )
    from .actions import (
        EscalateBody as EscalateBody,
    )

    # issue 12 items 4-5 (cases)
    from .actions import Mistake as Mistake
    from .actions import (
        NoteBody as NoteBody,
    )
    from .actions import RatedReviewBody as RatedReviewBody
    from .actions import (
        ReasonBody as ReasonBody,
    )
    from .actions import (
        ReplyBody as ReplyBody,
    )
    from .actions import (
        ResolveBody as ResolveBody,
    )
    from .actions import (
        ReviewBody as ReviewBody,
    )
    from .actions import (
        RevisitBody as RevisitBody,
    )
    from .actions import (
        TransferBody as TransferBody,
    )
    from .base import (
        CLOCK_SKEW as CLOCK_SKEW,
    )
    from .base import (
        DEFAULT_LIMIT as DEFAULT_LIMIT,
    )
    from .base import (
        FIELD_NAME_PATTERN as FIELD_NAME_PATTERN,
    )
    from .base import (
        MAX_FIELDS as MAX_FIELDS,
    )
    from .base import (
        MAX_LIMIT as MAX_LIMIT,
    )
    from .base import (
        TEXT_PATTERN as TEXT_PATTERN,
    )
    from .base import (
        BoolText as BoolText,
    )
    from .base import (
        CategoryCode as CategoryCode,
    )
    from .base import (
        Channel as Channel,
    )
    from .base import (
        Code as Code,
    )
    from .base import (
        ComplainantType as ComplainantType,
    )
    from .base import (
        Criterion as Criterion,
    )
    from .base import (
        Cursor as Cursor,
    )
    from .base import (
        DepartmentCode as DepartmentCode,
    )
    from .base import (
        Duty as Duty,
    )
    from .base import (
        FieldName as FieldName,
    )
    from .base import (
        Fields as Fields,
    )
    from .base import (
        FieldValue as FieldValue,
    )
    from .base import (
        Flag as Flag,
    )
    from .base import (
        Flags as Flags,
    )
    from .base import (
        Instant as Instant,
    )
    from .base import (
        Kind as Kind,
    )
    from .base import (
        Limit as Limit,
    )
    from .base import (
        M as M,
    )
    from .base import (
        PhenomenonCode as PhenomenonCode,
    )
    from .base import (
        Phone as Phone,
    )
    from .base import (
        ReplyMethod as ReplyMethod,
    )
    from .base import (
        Satisfaction as Satisfaction,
    )
    from .base import (
        Shape as Shape,
    )
    from .base import (
        SlaLevel as SlaLevel,
    )
    from .base import (
        Source as Source,
    )
    from .base import (
        Status as Status,
    )
    from .base import (
        _FieldFailure as _FieldFailure,
    )
    from .base import (
        field_errors as field_errors,
    )
    from .base import (
        parse as parse,
    )
    from .intake import (
        ComplainantIn as ComplainantIn,
    )
    from .intake import (
        LocationIn as LocationIn,
    )
    from .intake import (
        NewTicketBody as NewTicketBody,
    )
    from .library import AgentReportQuery as AgentReportQuery
    from .library import CaseBody as CaseBody
    from .library import CasesQuery as CasesQuery
    from .library import Day as Day
    from .other import (
        BlacklistBody as BlacklistBody,
    )
    from .other import (
        ClassifyBody as ClassifyBody,
    )
    from .other import (
        ResolveIncidentBody as ResolveIncidentBody,
    )
    from .queries import (
        AuditQuery as AuditQuery,
    )
    from .queries import (
        CustomerTicketsQuery as CustomerTicketsQuery,
    )
    from .queries import (
        ExecutionsQuery as ExecutionsQuery,
    )
    from .queries import (
        PageQuery as PageQuery,
    )
    from .queries import (
        SlaPreviewQuery as SlaPreviewQuery,
    )
    from .queries import (
        TicketQuery as TicketQuery,
    )

_HOME: dict[str, str] = {
    "_FieldFailure": "base",
    "ACTION_BODIES": "actions",
    "ArchiveBody": "actions",
    "AuditQuery": "queries",
    "ExecutionsQuery": "queries",
    "BlacklistBody": "other",
    "BoolText": "base",
    "CategoryCode": "base",
    "Channel": "base",
    "ClassifyBody": "other",
    "CLOCK_SKEW": "base",
    "Code": "base",
    "ComplainantIn": "intake",
    "ComplainantType": "base",
    "Criterion": "base",
    "Cursor": "base",
    "CustomerTicketsQuery": "queries",
    "DEFAULT_LIMIT": "base",
    "DepartmentCode": "base",
    "DispatchBody": "actions",
    "Duty": "base",
    "EmptyBody": "actions",
    "EscalateBody": "actions",
    "field_errors": "base",
    "FIELD_NAME_PATTERN": "base",
    "FieldName": "base",
    "Fields": "base",
    "FieldValue": "base",
    "Flag": "base",
    "Flags": "base",
    "Instant": "base",
    "Kind": "base",
    "Limit": "base",
    "LocationIn": "intake",
    "M": "base",
    "MAX_FIELDS": "base",
    "MAX_LIMIT": "base",
    "NewTicketBody": "intake",
    "NoteBody": "actions",
    "PageQuery": "queries",
    "parse": "base",
    "PhenomenonCode": "base",
    "Phone": "base",
    "ReasonBody": "actions",
    "ReplyBody": "actions",
    "ReplyMethod": "base",
    "ResolveBody": "actions",
    "ReviewBody": "actions",
    "RevisitBody": "actions",
    "Satisfaction": "base",
    "Shape": "base",
    "SlaLevel": "base",
    "SlaPreviewQuery": "queries",
    "Source": "base",
    "Status": "base",
    "TEXT_PATTERN": "base",
    "TicketQuery": "queries",
    "TransferBody": "actions",
    # issue 12 items 4-5 (cases)
    "CaseBody": "library",
    "CasesQuery": "library",
    "AgentReportQuery": "library",
    "Day": "library",
    "Mistake": "actions",
    "RatedReviewBody": "actions",
    # -- issue 11: incidents --
    "ResolveIncidentBody": "other",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(_HOME)
