"""JSON Schemas (OpenAPI 3.1 components) of the API's bodies, built from the rules that enforce them.

Enums come from the vocabulary and the catalog model, bounds mirror ``parse_new_ticket`` and the
``Checker``, so the document cannot drift from the validation it describes
(tests/unit/test_openapi.py checks both).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.catalog.model import DEPARTMENT_KINDS, FIELD_TYPES, LADDER_ROLES, SLA_LEVELS
from chalicelib.domain.tickets import MAX_BODY_BYTES
from chalicelib.domain.vocabulary import (
    CHANNELS,
    COMPLAINANT_TYPES,
    FLAGS,
    KINDS,
    PRIORITIES,
    REPLY_METHODS,
    ROLES,
    SOURCES,
    STATUSES,
)

Schema = dict[str, Any]

# The server removes blanks and parentheses anywhere, then one leading +86 or 0086 (and dashes
# after it), then wants a mobile 1[3-9]NNNNNNNNN or a landline 0AA(A)-NNNNNNN(N). The pattern says
# the same of the raw string: `_S` may appear between any two characters.
_S = r"[\s()]*"
_MOBILE = rf"1{_S}[3-9]{_S}(?:\d{_S}){{9}}"
_LANDLINE = rf"0{_S}(?:\d{_S}){{2,3}}(?:-{_S})?(?:\d{_S}){{7,8}}"
_PREFIX = rf"(?:\+{_S}8{_S}6|0{_S}0{_S}8{_S}6){_S}(?:-{_S})*"
PHONE_PATTERN = rf"^{_S}(?:{_PREFIX}|(?!0{_S}0{_S}8{_S}6))(?:{_MOBILE}|{_LANDLINE})$"
FIELD_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"


def _words(names: str) -> tuple[str, ...]:
    return tuple(names.split())


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """Optional request fields may also be sent as null, which the server reads as absent."""
    return {"anyOf": [schema, {"type": "null"}]}


def text(max_len: int, description: str | None = None) -> Schema:
    """A string the server trims and then bounds: at least one non-blank character."""
    out: Schema = {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": r"\S"}
    if description:
        out["description"] = description
    return out


def obj(properties: Schema, required: tuple[str, ...] = (), *, closed: bool = False) -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    return out


def record(properties: Schema) -> Schema:
    """An object whose every property is always present."""
    return obj(properties, tuple(properties))


def strings(*names: str) -> Schema:
    return {name: {"type": "string"} for name in names}


def enum(values: Iterable[str], description: str) -> Schema:
    return {"type": "string", "enum": list(values), "description": description}


def page(item: str, description: str) -> Schema:
    items = {"type": "array", "items": ref(item)}
    return {
        **obj({"items": items, "nextCursor": _CURSOR}, ("items", "nextCursor")),
        "description": description,
    }


_CURSOR: Schema = {
    "type": ["string", "null"],
    "description": "Pass as `cursor` to get the next page; null on the last page.",
}
_TIME: Schema = {"type": "string", "format": "date-time"}
_TIME_IN = {**_TIME, "maxLength": 40, "description": "ISO 8601 date-time with an offset."}
_OUT_TIME = {**_TIME, "description": "ISO 8601 in Asia/Shanghai time, offset included."}
_PHONE: Schema = {
    "type": "string",
    "maxLength": 20,
    "pattern": PHONE_PATTERN,
    "description": "A mainland mobile (11 digits, 1[3-9]…) or landline (0AA-NNNNNNN) number; "
    "blanks, parentheses and a +86/0086 prefix are accepted and removed.",
    "examples": ["13800000000", "010-12345678"],
}
_STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
_NAMES: Schema = strings("code", "nameZh", "nameEn")

ENUMS: dict[str, Schema] = {
    "Kind": enum(KINDS, "What the customer brings."),
    "Channel": enum(CHANNELS, "How the ticket reached the company."),
    "Source": enum(SOURCES, "Who forwarded it: a social or superior body, or the customer."),
    "ComplainantType": enum(COMPLAINANT_TYPES, "The complainant's standing."),
    "ReplyMethod": enum(REPLY_METHODS, "How the complainant wants the answer."),
    "Flag": enum(FLAGS, "Sensitivity markers that raise priority."),
    "Status": enum(STATUSES, "The ticket's lifecycle state."),
    "Role": enum(ROLES, "A role, carried in the token's `cognito:groups`."),
    "Priority": enum(PRIORITIES, "Handling priority."),
    "SlaLevel": enum(sorted(SLA_LEVELS), "Service level, A (laxest) to F."),
}

FIELD_VALUES: Schema = {
    "type": "object",
    "description": "Values of the phenomenon's required fields (GET /catalog).",
    "maxProperties": 30,
    "propertyNames": {"pattern": FIELD_NAME_PATTERN},
    "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 500},
}

COMPLAINANT = obj(
    {
        "name": text(50),
        "type": {**nullable(ref("ComplainantType")), "description": "Default `ordinary`."},
        "contactNumber": _PHONE,
        "address": nullable(text(200)),
        "replyMethod": {**nullable(ref("ReplyMethod")), "description": "Default `phone`."},
    },
    ("name", "contactNumber"),
    closed=True,
)

LOCATION = obj(
    {"area": text(100), "landmark": nullable(text(200))},
    ("area",),
    closed=True,
)

NEW_TICKET: Schema = {
    **obj(
        {
            "kind": ref("Kind"),
            "channel": ref("Channel"),
            "source": nullable(ref("Source")),
            "complainant": ref("Complainant"),
            "serviceNumber": _PHONE,
            "category": nullable(text(64, "A category code of GET /catalog.")),
            "phenomenon": nullable(
                text(
                    64,
                    "A phenomenon code of GET /catalog; if `category` is given too, it "
                    "must be that category's. With neither, the ticket is classified from its text.",
                )
            ),
            "description": text(4000),
            "occurredAt": nullable({**_TIME_IN, "description": "Not more than 5 minutes ahead."}),
            "location": nullable(ref("Location")),
            "expectedResult": nullable(text(1000)),
            "fields": nullable(ref("FieldValues")),
            "urgent": {"type": ["boolean", "null"]},
            "flags": nullable({"type": "array", "items": ref("Flag"), "maxItems": len(FLAGS)}),
            "answer": nullable(
                text(2000, "The answer given on the spot: the ticket starts `answered`.")
            ),
        },
        ("kind", "channel", "complainant", "serviceNumber", "description"),
        closed=True,
    ),
    "description": f"The body of POST /tickets: a JSON object of at most {MAX_BODY_BYTES} bytes, "
    "sent as application/json. Every failing field is reported at once in `errors`.",
}

TICKET: Schema = {
    **obj(
        {
            "id": {"type": "string"},
            "version": {"type": "integer", "minimum": 1, "description": "Send as If-Match."},
            "kind": ref("Kind"),
            "status": ref("Status"),
            "channel": ref("Channel"),
            "source": ref("Source"),
            "complainant": ref("Complainant"),
            "serviceNumber": {"type": "string"},
            "category": {"type": ["string", "null"]},
            "phenomenon": {"type": ["string", "null"]},
            "description": {"type": "string"},
            "occurredAt": _OUT_TIME,
            "location": ref("Location"),
            "expectedResult": {"type": "string"},
            "fields": {"type": "object"},
            "urgent": {"type": "boolean"},
            "flags": {"type": "array", "items": ref("Flag")},
            "classification": {**ref("Classification"), "description": "How it was classified."},
            "route": {"type": "string", "description": "Department its phenomenon routes to."},
            "missingFields": {**_STRINGS, "description": "Required dispatch fields unanswered."},
            "answer": {"type": "string", "description": "The answer given at intake."},
            "slaLevel": nullable(ref("SlaLevel")),
            "dueAt": {**_OUT_TIME, "type": ["string", "null"]},
            "stepDueAt": _OUT_TIME,
            "progressDueAt": _OUT_TIME,
            "finalDueAt": _OUT_TIME,
            "breached": {"type": "boolean"},
            "escalationLevel": {"type": "integer", "minimum": 0},
            "priority": ref("Priority"),
            "emergency": {"type": "boolean"},
            "escalated": {"type": "boolean"},
            "blacklisted": {"type": "boolean"},
            "department": {"type": "string", "description": "The department holding it now."},
            "step": {**ref("Step"), "description": "The step it waits at; absent once closed."},
            "stepStartedAt": _OUT_TIME,
            "dispatchedBy": {"type": "string", "description": "Who dispatched it last."},
            "transfers": {"type": "integer", "minimum": 0},
            "rounds": {"type": "integer", "minimum": 0, "description": "Unsatisfied revisits."},
            "resolution": ref("Resolution"),
            "reply": ref("Reply"),
            "revisit": ref("Revisit"),
            "closing": ref("Closing"),
            "escalationCriteria": {"type": "array", "items": ref("EscalationCriterion")},
            "standardSolution": {"type": "string", "description": "The catalog's, if escalated."},
            "emergencyRecord": ref("EmergencyRecord"),
            "dutiesDone": {
                "type": "object",
                "description": "Duties recorded done (`note` with `duty`), and when.",
                "propertyNames": ref("Duty"),
                "additionalProperties": _OUT_TIME,
            },
            "slaRule": {"type": "string", "description": "The SLA rule that set `dueAt`."},
            "overdueDuties": {
                **_STRINGS,
                "description": "Duties the sweep found missed (why `breached`): `reply` (the "
                "promised time) or a duty name.",
                "examples": [["reply", "progress_report"]],
            },
            **strings("repeatOf", "appealOf", "bulletinId", "answerScript", "createdBy"),
            "createdAt": _OUT_TIME,
            "updatedAt": _OUT_TIME,
            "workflow": record(
                {"status": {"type": "string"}, "executionArn": {"type": ["string", "null"]}}
            ),
            "links": record(strings("self", "history", "workflow")),
        },
        _words(
            "id version kind status channel complainant serviceNumber category phenomenon "
            "description fields urgent flags slaLevel dueAt breached escalationLevel priority "
            "emergency escalated blacklisted createdAt updatedAt createdBy missingFields "
            "transfers rounds escalationCriteria dutiesDone workflow links"
        ),
    ),
    "description": "A ticket as every response shows it. Optional members are omitted, not null; "
    "status changes made by the workflow may land a moment after an action's response.",
}

HISTORY_EVENT = record(
    {
        "at": _OUT_TIME,
        **strings("actor", "role"),
        "action": {"type": "string", "examples": ["create", "dispatch", "resolve"]},
        "fromStatus": nullable(ref("Status")),
        "toStatus": nullable(ref("Status")),
        "version": {"type": ["integer", "null"], "description": "Ticket version it produced."},
        "details": {"type": "object"},
    }
)

AUDIT_ENTRY = record(
    {
        "id": {"type": "string"},
        "at": _OUT_TIME,
        **strings("actor", "role"),
        "action": {"type": "string", "examples": ["create", "read", "list", "read_history"]},
        **strings("ticketId", "requestId"),
        "outcome": {"type": "string", "examples": ["ok"]},
    }
)

PROBLEM: Schema = {
    **obj(
        {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "On 400s (and some 409s): every failing field, path-named.",
                "items": record(
                    {
                        "field": {"type": "string", "examples": ["complainant.contactNumber"]},
                        "message": {"type": "string"},
                    }
                ),
            },
            "code": {
                "type": "string",
                "description": "On 409s: which rule. Each operation lists its own.",
                "examples": ["stale_version", "action_not_allowed", "idempotency_key_reused"],
            },
        },
        ("type", "title", "status", "detail"),
    ),
    "description": "RFC 9457 problem details.",
}

_REQUIRED_FIELD = obj(
    {
        "name": {"type": "string"},
        "type": enum(sorted(FIELD_TYPES), "Value type of the field."),
        "prompt": {"type": "string"},
        "options": {**_STRINGS, "description": "The choices of an `enum` field."},
    },
    ("name", "type", "prompt"),
)

PHENOMENON = obj(
    {
        **_NAMES,
        "category": {"type": "string"},
        "keywords": _STRINGS,
        "causes": {"type": "array", "items": record(_NAMES)},
        "checks": {**_STRINGS, "description": "What the front desk checks before dispatching."},
        "requiredFields": {"type": "array", "items": _REQUIRED_FIELD},
        "route": {"type": "string", "description": "Department code it is dispatched to."},
        "slaLevel": ref("SlaLevel"),
        "scripts": {"type": "object", "additionalProperties": {"type": "string"}},
        "standardSolution": {"type": ["string", "null"]},
    },
    _words(
        "code category nameZh nameEn keywords causes checks requiredFields route slaLevel scripts"
    ),
)

CATALOG = record(
    {
        "categories": {
            "type": "array",
            "items": record(
                {
                    **_NAMES,
                    "route": {"type": "string"},
                    "phenomena": {"type": "array", "items": ref("Phenomenon")},
                }
            ),
        },
        "departments": {
            "type": "array",
            "items": record({**_NAMES, "kind": enum(sorted(DEPARTMENT_KINDS), "Department kind.")}),
        },
        "ladder": {
            "type": "array",
            "description": "Escalation ladder, level 0 upwards.",
            "items": record(
                {
                    **_NAMES,
                    "level": {"type": "integer", "minimum": 0},
                    "role": enum(sorted(LADDER_ROLES), "Role owning the rung."),
                    "department": {
                        "type": ["string", "null"],
                        "description": "null: the ticket's own department.",
                    },
                }
            ),
        },
    }
)

SLA_PREVIEW = obj(
    {
        "slaLevel": ref("SlaLevel"),
        "dueAt": _TIME,
        "progressDueAt": {
            **_TIME,
            "description": "When a progress report is due, if any rule asks.",
        },
        "finalDueAt": {**_TIME, "description": "The final-answer limit, if any rule sets one."},
        "rule": {"type": "string", "examples": ["level:A", "channel:letter", "source:12315"]},
        "calendar": obj(
            {
                "timeZone": {"type": "string"},
                "officialYears": {"type": ["array", "null"], "items": {"type": "integer"}},
                "fallback": {"type": "string"},
                "overrides": {"type": ["object", "null"]},
            },
            ("timeZone",),
        ),
    },
    ("slaLevel", "dueAt", "rule", "calendar"),
)

SCHEMAS: dict[str, Schema] = {
    **ENUMS,
    "NewTicket": NEW_TICKET,
    "Complainant": COMPLAINANT,
    "Location": LOCATION,
    "FieldValues": FIELD_VALUES,
    "Ticket": TICKET,
    "TicketPage": page("Ticket", "A page of tickets, newest first."),
    "HistoryEvent": HISTORY_EVENT,
    "HistoryPage": {
        **obj({"items": {"type": "array", "items": ref("HistoryEvent")}}, ("items",)),
        "description": "The whole history, oldest first.",
    },
    "AuditEntry": AUDIT_ENTRY,
    "AuditPage": page("AuditEntry", "A page of audit entries."),
    "Problem": PROBLEM,
    "Health": obj({"status": {"type": "string", "enum": ["ok"]}}, ("status",)),
    "Catalog": CATALOG,
    "Phenomenon": PHENOMENON,
    "ClassifyRequest": obj({"text": text(2000, "The customer's words.")}, ("text",), closed=True),
    "ClassifyResult": obj(
        {
            "items": {
                "type": "array",
                "description": "Best first.",
                "items": record(
                    {
                        "category": {"type": "string"},
                        "phenomenon": {"type": ["string", "null"]},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                    }
                ),
            }
        },
        ("items",),
    ),
    "SlaPreview": SLA_PREVIEW,
}
