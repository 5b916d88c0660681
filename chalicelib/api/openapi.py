"""The OpenAPI 3.1 document served at ``GET /openapi.json``, built from plain dicts.

Paths mirror app.py's routes (operationId = the Chalice view function's name) and the roles come
from the services that enforce them; tests/unit/test_openapi.py cross-checks both, so a route
added without its documentation fails the build. The lifecycle's actions are generated from
``lifecycle.RULES`` with their bodies, effects and 409 codes from ``openapi_actions``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.lifecycle import ACTIONS, RULES, STEP_STATUS
from chalicelib.domain.vocabulary import CHANNELS, ROLES, SOURCES, STATUSES
from chalicelib.services.blacklist import ROLES as BLACKLIST_ROLES
from chalicelib.services.tickets import (
    AUDIT_ROLES,
    CREATE_ROLES,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    READ_ROLES,
)
from chalicelib.services.workflow_view import WORKFLOW_ROLES

from .openapi_actions import (
    ACTION_BODIES,
    ACTION_DOCS,
    ACTION_SCHEMAS,
    COMMON_CONFLICTS,
    CONFLICTS,
    body_name,
)
from .openapi_schemas import PHONE_PATTERN, SCHEMAS, Schema, ref

JSON = "application/json"
PROBLEM = "application/problem+json"

_AUTH_DESCRIPTION = (
    "A JWT in `Authorization: Bearer <token>`: on AWS an ID token of the Cognito user pool "
    "(API Gateway verifies it), locally one printed by "
    "`python -m infra.local token --role ROLE [--department DEPT] [--user NAME]`.\n\n"
    "Claims used: `sub` (stable user id, keys idempotency), `cognito:username` (recorded as "
    "actor in history and audit), `cognito:groups` (roles), `custom:department` (the "
    "department of `department` and `complaint_admin` users).\n\n"
    "Roles: `agent` (front desk: hotline, business hall, online), `senior_agent`, `department` "
    "(a handler in one department), `complaint_admin` (a department's queue owner), "
    "`complaint_manager` (CRC), `leader`, `operator` (workflows), `auditor`. A user whose roles are "
    "all department-scoped sees only tickets currently or formerly assigned to its department."
)
_SCOPED = (
    " `department` and `complaint_admin` users see only tickets their department holds or held;"
    " others are reported as 404, not 403."
)


def _problem(description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "content": {PROBLEM: {"schema": schema or ref("Problem")}}}


def _conflicts(codes: tuple[str, ...]) -> Schema:
    """A 409 whose `code` is one of `codes`, each explained."""
    listed = "\n".join(f"- `{c}`: {CONFLICTS[c]}" for c in codes)
    code = {"properties": {"code": {"enum": list(codes)}}, "required": ["code"]}
    return _problem(
        f"A rule forbids this now; `code` says which:\n\n{listed}",
        {"allOf": [ref("Problem"), code]},
    )


RESPONSES: dict[str, Schema] = {
    "BadRequest": _problem("Invalid request: `errors` lists every failing field."),
    "Unauthorized": _problem("Missing, malformed, expired or wrongly signed token."),
    "Forbidden": _problem("The caller's roles may not call this operation."),
    "NotFound": _problem("No such resource, or one outside the caller's department."),
    "Conflict": _problem("A rule forbids this now; `code` says which."),
    "PayloadTooLarge": _problem("The body is over 64 KB (`errors` names `body`)."),
    "UnsupportedMediaType": _problem(
        "The body is not `Content-Type: application/json` (`errors` names `Content-Type`)."
    ),
}
_STATUS_REF = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType",
}

HEADERS: dict[str, Schema] = {
    "ETag": {
        "description": 'The ticket\'s `version`, quoted (`"7"`); send it back as `If-Match`.',
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Location": {"description": "Path of the created ticket.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored result of an earlier request with the "
        "same Idempotency-Key and body; absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


_TIME: Schema = {"type": "string", "format": "date-time"}
PARAMETERS: dict[str, Schema] = {
    "from": _query("from", _TIME, "Created at or after (ISO 8601 with offset)."),
    "to": _query("to", _TIME, "Created at or before; `from` must not be after `to`."),
    "limit": _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Page size, 1 to {MAX_LIMIT}.",
    ),
    "cursor": _query("cursor", {"type": "string"}, "The `nextCursor` of the previous page."),
    "status": _query("status", {"type": "string", "enum": list(STATUSES)}, "Current status."),
    "ticket_id": _path("ticket_id", {"type": "string"}, "The ticket's id (opaque)."),
    "service_number": _path(
        "service_number",
        {"type": "string", "pattern": PHONE_PATTERN},
        "The service number, mobile or landline.",
    ),
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "pattern": r'^[ \t]*(?:"[0-9]{1,12}"|[0-9]{1,12})[ \t]*$'},
        "description": 'The ticket\'s `version` as last read (its ETag, `"7"`, or bare `7`): '
        "the action applies only to that version, else 409 `stale_version`. Without it, to the "
        "current version. Anything else (a weak tag, `*`, a list) is a 400 naming `If-Match`.",
    },
}


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def _who(roles: Iterable[str]) -> str:
    return "Roles: " + ", ".join(f"`{r}`" for r in roles) + "."


def _op(
    op_id: str,
    tag: str,
    summary: str,
    description: str,
    ok: tuple[str, Schema],
    errors: tuple[str, ...] = (),
    *,
    parameters: list[Schema] | None = None,
    body: str | None = None,
    body_required: bool = True,
    public: bool = False,
) -> Schema:
    codes = errors if public else ("401", "403", *errors)
    if body:
        codes = (*codes, "413", "415")
    responses: Schema = {ok[0]: ok[1]}
    responses.update({c: {"$ref": f"#/components/responses/{_STATUS_REF[c]}"} for c in codes})
    out: Schema = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = {"required": body_required, "content": {JSON: {"schema": ref(body)}}}
    if public:
        out["security"] = []
    return out


def _ok(description: str, schema: str, headers: tuple[str, ...] = ()) -> Schema:
    out: Schema = {"description": description, "content": {JSON: {"schema": ref(schema)}}}
    if headers:
        out["headers"] = {h: {"$ref": f"#/components/headers/{h}"} for h in headers}
    return out


_ANY_ROLE = _who(ROLES) + " Any valid token."
_AUDITED = " Each ticket returned is recorded in the audit log."


def _ticket_paths() -> dict[str, Schema]:
    list_params = [
        _param("status"),
        _query("department", {"type": "string", "maxLength": 64}, "Department code holding it."),
        _query("category", {"type": "string", "maxLength": 64}, "Category code."),
        _query("serviceNumber", {"type": "string", "pattern": PHONE_PATTERN}, "Service number."),
        _query("breached", {"type": "boolean"}, "Only tickets past (`true`) or within their SLA."),
        *(_param(p) for p in ("from", "to", "limit", "cursor")),
    ]
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
        "description": "Repeat a create safely: the same key (per user) and body return the first "
        "result with `Idempotent-Replayed: true`; the same key with another body is a 409 "
        "(`code` `idempotency_key_reused`).",
    }
    return {
        "/tickets": {
            "get": _op(
                "list_tickets",
                "tickets",
                "List tickets",
                f"{_who(READ_ROLES)} Newest first; filters combine. With none of status, "
                "department, category or serviceNumber and no `from`, the last 24 months are "
                f"searched.{_SCOPED} Such a user filtering on another department gets 404."
                f"{_AUDITED}",
                ("200", _ok("A page of tickets.", "TicketPage")),
                ("400", "404"),
                parameters=list_params,
            ),
            "post": _op(
                "create_ticket",
                "tickets",
                "Create a ticket",
                f"{_who(CREATE_ROLES)} Validates the body (Content-Type application/json, at most "
                "64 KB), classifies it when neither category nor phenomenon is given, sets its "
                "SLA and starts its lifecycle workflow. Recorded in the ticket's history and the "
                "audit log.",
                (
                    "201",
                    _ok(
                        "The created ticket (or, replayed, the one created first).",
                        "Ticket",
                        ("Location", "ETag", "Idempotent-Replayed"),
                    ),
                ),
                ("400", "409"),
                parameters=[idempotency],
                body="NewTicket",
            ),
        },
        "/tickets/{ticket_id}": {
            "get": _op(
                "get_ticket",
                "tickets",
                "Get a ticket",
                f"{_who(READ_ROLES)}{_SCOPED} The read is recorded in the audit log.",
                ("200", _ok("The ticket.", "Ticket", ("ETag",))),
                ("404",),
                parameters=[_param("ticket_id")],
            ),
        },
        "/tickets/{ticket_id}/history": {
            "get": _op(
                "ticket_history",
                "tickets",
                "A ticket's history",
                f"{_who(READ_ROLES)} Every event of the ticket, oldest first.{_SCOPED} The read is "
                "recorded in the audit log.",
                ("200", _ok("The events.", "HistoryPage")),
                ("404",),
                parameters=[_param("ticket_id")],
            ),
        },
        "/customers/{service_number}/tickets": {
            "get": _op(
                "customer_tickets",
                "tickets",
                "A customer's tickets",
                f"{_who(READ_ROLES)} The customer's recent tickets, newest first (intake screen: "
                f"repeats and open tickets).{_SCOPED}{_AUDITED}",
                ("200", _ok("A page of tickets.", "TicketPage")),
                ("400",),
                parameters=[
                    _param("service_number"),
                    *(_param(p) for p in ("status", "from", "to", "limit", "cursor")),
                ],
            ),
        },
    }


_ACTED = "The ticket as written; the workflow's own changes land a moment later."


def _action_op(action: str) -> Schema:
    roles, steps = RULES[action]
    doc = ACTION_DOCS[action]
    at = ", ".join(f"`{s}` (status `{STEP_STATUS[s]}`)" for s in steps)
    op = _op(
        f"{action}_ticket",
        "lifecycle",
        doc.summary,
        f"{_who(roles)} Allowed while the ticket waits at: {at}.\n\n{doc.effect}\n\n"
        "Appends to the ticket's history and the audit log; an action that moves the step "
        f"completes the workflow's callback for it.{_SCOPED} Body errors are a 400 listing every "
        "failing field.",
        ("200", _ok(_ACTED, "Ticket", ("ETag",))),
        ("400", "404", "409"),
        parameters=[_param("ticket_id"), _param("If-Match")],
        body=body_name(action),
        body_required=bool(ACTION_BODIES[action].get("required")),
    )
    op["responses"]["409"] = _conflicts((*COMMON_CONFLICTS, *doc.conflicts))
    op["x-roles"], op["x-steps"] = list(roles), list(steps)
    return op


def _lifecycle_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {
        f"/tickets/{{ticket_id}}/{action}": {"post": _action_op(action)} for action in ACTIONS
    }
    paths["/tickets/{ticket_id}/workflow"] = {
        "get": _op(
            "ticket_workflow",
            "lifecycle",
            "A ticket's workflow execution",
            f"{_who(WORKFLOW_ROLES)} The lifecycle execution's ARN and status, the state it is "
            "in, the states entered in order with their times, and failures with their causes "
            "(`NOT_STARTED` while it has none). The read is recorded in the audit log.",
            ("200", _ok("The execution.", "WorkflowView")),
            ("404",),
            parameters=[_param("ticket_id")],
        )
    }
    blacklisted = " New tickets of a listed number are flagged `blacklisted` and escalated."
    paths["/blacklist"] = {
        "get": _op(
            "list_blacklist",
            "blacklist",
            "The complaint blacklist",
            f"{_who(BLACKLIST_ROLES)} Every listed service number, a page at a time.{blacklisted}",
            ("200", _ok("A page of entries.", "BlacklistPage")),
            ("400",),
            parameters=[_param("limit"), _param("cursor")],
        )
    }
    paths["/blacklist/{service_number}"] = {
        "put": _op(
            "put_blacklist",
            "blacklist",
            "List a service number",
            f"{_who(BLACKLIST_ROLES)} Adds the number (normalized), or replaces the reason of its "
            f"entry.{blacklisted}",
            ("200", _ok("The entry.", "BlacklistEntry")),
            ("400",),
            parameters=[_param("service_number")],
            body="BlacklistRequest",
        ),
        "delete": _op(
            "delete_blacklist",
            "blacklist",
            "Unlist a service number",
            f"{_who(BLACKLIST_ROLES)} Removes the number; 404 when it is not listed.",
            ("204", {"description": "Removed."}),
            ("400", "404"),
            parameters=[_param("service_number")],
        ),
    }
    return paths


def _other_paths() -> dict[str, Schema]:
    sla_params = [
        _query("at", _TIME, "When the ticket would be accepted; default now."),
        _query("slaLevel", ref("SlaLevel"), "The ticket's SLA level."),
        _query("channel", {"type": "string", "enum": list(CHANNELS)}, "Intake channel."),
        _query("source", {"type": "string", "enum": list(SOURCES)}, "Forwarding body."),
        _query("category", {"type": "string", "maxLength": 64}, "Category code."),
        _query("phenomenon", {"type": "string", "maxLength": 64}, "Phenomenon code."),
    ]
    audit_params = [
        _query("ticketId", {"type": "string", "maxLength": 64}, "Only this ticket's entries."),
        _query("actor", {"type": "string", "maxLength": 128}, "Only this user's entries."),
        _query("from", _TIME, "At or after; without ticketId/actor the default is 7 days back."),
        _query("to", _TIME, "At or before; default now."),
        _param("limit"),
        _param("cursor"),
    ]
    return {
        "/health": {
            "get": _op(
                "health",
                "meta",
                "Liveness",
                "No token needed.",
                ("200", _ok("The API is up.", "Health")),
                public=True,
            )
        },
        "/openapi.json": {
            "get": _op(
                "openapi",
                "meta",
                "This document",
                "No token needed. The OpenAPI 3.1 document of the API.",
                (
                    "200",
                    {
                        "description": "The document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                ),
                public=True,
            )
        },
        "/catalog": {
            "get": _op(
                "get_catalog",
                "catalog",
                "The complaint catalog",
                f"{_ANY_ROLE} Categories with their phenomena (keywords, causes, checks, required "
                "fields, route, SLA level, scripts), departments and the escalation ladder.",
                ("200", _ok("The catalog.", "Catalog")),
            )
        },
        "/catalog/classify": {
            "post": _op(
                "classify",
                "catalog",
                "Suggest a category",
                f"{_ANY_ROLE} Ranks the catalog's categories and phenomena against a customer's "
                "words, best first.",
                ("200", _ok("Ranked suggestions.", "ClassifyResult")),
                ("400",),
                body="ClassifyRequest",
            )
        },
        "/sla/preview": {
            "get": _op(
                "sla_preview",
                "sla",
                "Preview a deadline",
                f"{_ANY_ROLE} The deadlines a ticket accepted at `at` would get under the deployed SLA "
                "policy and business calendar (what the desk promises the customer). The strictest "
                "applicable rule wins; `rule` names it.",
                ("200", _ok("The deadlines.", "SlaPreview")),
                ("400",),
                parameters=sla_params,
            )
        },
        "/audit": {
            "get": _op(
                "audit",
                "audit",
                "Query the audit log",
                f"{_who(AUDIT_ROLES)} Who read or wrote which ticket, newest first, by ticket, by "
                "actor or by time.",
                ("200", _ok("A page of audit entries.", "AuditPage")),
                ("400",),
                parameters=audit_params,
            )
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The whole document; cached, so treat it as read-only."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "complaint-tickets",
            "version": "0.1.0",
            "description": "Complaint and suggestion tickets of a telecom operator: intake, "
            "reading, the lifecycle's actions and workflow, the catalog, SLA deadlines, the "
            "complaint blacklist and audit. JSON bodies in camelCase; times ISO "
            "8601 with offset; errors application/problem+json (RFC 9457); lists "
            "`{items, nextCursor}` paged with `limit` and `cursor`.",
        },
        "tags": [
            {"name": n}
            for n in ("meta", "tickets", "lifecycle", "catalog", "sla", "blacklist", "audit")
        ],
        "security": [{"bearerAuth": []}],
        "paths": {**_other_paths(), **_ticket_paths(), **_lifecycle_paths()},
        "components": {
            "schemas": {**SCHEMAS, **ACTION_SCHEMAS},
            "responses": RESPONSES,
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": _AUTH_DESCRIPTION,
                }
            },
        },
    }
