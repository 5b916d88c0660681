"""The OpenAPI 3.1 document served at ``GET /openapi.json``, generated from the route table
(``routes.operations``) and the pydantic models that validate requests (``domain.shapes``,
validation mode) and describe responses (``api.views``, serialization mode).

Every model lands under ``components/schemas``; a query model becomes one ``in: query`` parameter
per field (and is named by the operation's ``x-query``). Built once per process and server URL.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.domain import shapes
from chalicelib.domain.tickets import MAX_BODY_BYTES

from . import views
from .routes import CONFLICTS, Operation, operations

Schema = dict[str, Any]
JSON = "application/json"
PROBLEM = "application/problem+json"
REF = "#/components/schemas/{model}"
DOCS = "docs/api.md"

_AUTH_DESCRIPTION = (
    "A JWT in `Authorization: Bearer <token>`: on AWS an ID token of the Cognito user pool "
    "(API Gateway verifies it), locally one printed by "
    "`python -m infra.local token --role ROLE [--department DEPT] [--user NAME]`.\n\n"
    "Claims used: `sub` (stable user id, keys idempotency), `cognito:username` (recorded as "
    "actor in history and audit), `cognito:groups` (roles), `custom:department` (the "
    "department of `department` and `complaint_admin` users).\n\n"
    "Roles: `agent` (front desk), `senior_agent`, `department` (a handler in one department), "
    "`complaint_admin` (a department's queue owner), `complaint_manager` (CRC), `leader`, "
    "`operator` (workflows), `auditor`. Each operation lists the roles it allows (`x-roles`). "
    "A user whose roles are all department-scoped sees only tickets currently or formerly "
    "assigned to its department."
)

PATH_PARAMETERS: dict[str, Schema] = {
    "ticket_id": {
        "description": "The ticket's id (opaque).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{2,64}$"},
    },
    "service_number": {
        "description": "The service number, mobile or landline; normalised like a body's.",
        "schema": TypeAdapter(shapes.Phone).json_schema(),
    },
    # issue 11
    "bulletin_id": {
        "description": "The bulletin's id (opaque).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{2,64}$"},
    },
    # issue 12 items 4-5 (cases)
    "case_id": {
        "description": "The case's id (opaque).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{2,64}$"},
    },
    # issue 11: incidents
    "incident_id": {
        "description": "The incident's id (opaque).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{2,64}$"},
    },
}
REQUEST_HEADERS: dict[str, Schema] = {
    "If-Match": {
        "description": 'The ticket\'s `version` as last read (its ETag), `"7"` or `7`: the action '
        "applies only to that version, else 409 `stale_version`. Without it, to the current "
        "version. Anything else (a weak tag, `*`, a list) is a 400 naming `If-Match`.",
        "schema": {
            "type": "string",
            "pattern": r'^[ \t]*(?:"[0-9]{1,12}"|[0-9]{1,12})[ \t]*$',
            "examples": ['"7"'],
        },
    },
    "Idempotency-Key": {
        "description": "Repeat a create safely: the same key (per user, kept 24 hours) and body "
        "answer the first result with `Idempotent-Replayed: true`; the same key with another "
        "body is a 409 `idempotency_key_reused`.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    },
}
RESPONSE_HEADERS: dict[str, Schema] = {
    "ETag": {
        "description": 'The ticket\'s `version`, quoted (`"7"`); send it back as `If-Match`.',
        "schema": {"type": "string", "pattern": '^"[0-9]+"$', "examples": ['"7"']},
    },
    "Location": {
        "description": "Path of the created ticket.",
        "schema": {"type": "string", "examples": ["/tickets/T01JD6ZQ3X8K9M2N4P5Q6R7S8T"]},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored result of an earlier request with the "
        "same Idempotency-Key and body; absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Allow": {
        "description": "The methods the path accepts.",
        "schema": {"type": "string", "examples": ["GET, POST"]},
    },
}
# Problem responses by status: (component name, description).
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid request: `errors` lists every failing field."),
    401: ("Unauthorized", "Missing, malformed, expired or wrongly signed token."),
    403: ("Forbidden", "The caller's roles may not call this operation."),
    404: ("NotFound", "No such resource, or one outside the caller's department."),
    405: (
        "MethodNotAllowed",
        "The path exists but not with this method; `Allow` lists its methods.",
    ),
    409: ("Conflict", "A rule forbids this now; `code` says which."),
    413: ("PayloadTooLarge", f"The body is over {MAX_BODY_BYTES} bytes (64 KB)."),
    415: ("UnsupportedMediaType", "The body is not sent as `application/json`."),
    # issue 12 (KPIs): reports negotiate their type
    406: ("NotAcceptable", "`Accept` names none of the types this operation answers with."),
}


def _problem(description: str, schema: Schema | None = None) -> Schema:
    return {
        "description": description,
        "content": {
            PROBLEM: {"schema": schema or {"$ref": REF.format(model=schema_name(views.Problem))}}
        },
    }


def _responses() -> dict[str, Schema]:
    out = {name: _problem(text) for name, text in PROBLEMS.values()}
    out["MethodNotAllowed"]["headers"] = {"Allow": {"$ref": "#/components/headers/Allow"}}
    return out


def _conflict(codes: tuple[str, ...]) -> Schema:
    """A 409 whose `code` is one of `codes`, each explained."""
    listed = "\n".join(f"- `{c}`: {CONFLICTS[c]}" for c in codes)
    code = {"properties": {"code": {"enum": list(codes)}}, "required": ["code"]}
    return _problem(
        f"A rule forbids this now; `code` says which:\n\n{listed}",
        {"allOf": [{"$ref": REF.format(model=schema_name(views.Problem))}, code]},
    )


def _models(
    ops: tuple[Operation, ...],
) -> list[tuple[type[BaseModel], Literal["validation", "serialization"]]]:
    seen: dict[type[BaseModel], Literal["validation", "serialization"]] = {
        views.Problem: "serialization"
    }
    for op in ops:
        for model in (op.body, op.query):
            if model is not None:
                seen.setdefault(model, "validation")
        if op.response is not None:
            seen.setdefault(op.response, "serialization")
    return list(seen.items())


def _tidy(schema: Any) -> Any:
    """Drop pydantic's generated property titles ("Servicenumber"): names say it already."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for prop in props.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        for value in schema.values():
            _tidy(value)
    elif isinstance(schema, list):
        for value in schema:
            _tidy(value)
    return schema


@functools.cache
def component_names() -> dict[type[BaseModel], str]:
    """The component each model of the route table is documented under (its class name unless
    two models share one, which pydantic then tells apart)."""
    refs, _ = _generate()
    return {model: ref["$ref"].rsplit("/", 1)[1] for (model, _mode), ref in refs.items()}


def schema_name(model: type[BaseModel]) -> str:
    return component_names()[model]


@functools.cache
def _generate() -> tuple[dict[Any, Schema], Schema]:
    """Every model's JSON Schema at once: refs by (model, mode), and the `$defs` they point at."""
    refs, top = models_json_schema(_models(operations()), ref_template=REF, by_alias=True)
    return dict(refs), _tidy(top.get("$defs", {}))


def _not_null(prop: Schema) -> Schema:
    """A query string is never null: an optional field's `anyOf [X, null]` is just X."""
    branches = prop.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        outer = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        inner = rest[0] if len(rest) == 1 else {"anyOf": rest}
        return {**inner, **outer}
    return prop


def _query_parameters(model: type[BaseModel], schemas: dict[str, Schema]) -> list[Schema]:
    schema = schemas[schema_name(model)]
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = _not_null(copy.deepcopy(prop))
        param: Schema = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = prop
        out.append(param)
    return out


def _examples(model: type[BaseModel]) -> Schema:
    extra = model.model_config.get("json_schema_extra")
    found: Any = extra.get("examples") if isinstance(extra, dict) else None
    return {f"example{i + 1}": {"value": value} for i, value in enumerate(found or ())}


def _operation(op: Operation, schemas: dict[str, Schema]) -> Schema:
    out: Schema = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
    }
    if op.roles is not None:
        out["description"] = (
            "Roles: " + ", ".join(f"`{r}`" for r in op.roles) + ". " + op.description
        )
        out["security"] = [{"bearerAuth": []}]
        out["x-roles"] = list(op.roles)
    params: list[Schema] = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]}
        for name in op.path_params
    ]
    params += [
        {"name": name, "in": "header", "required": False, **REQUEST_HEADERS[name]}
        for name in op.request_headers
    ]
    if op.query is not None:
        params += _query_parameters(op.query, schemas)
        out["x-query"] = REF.format(model=schema_name(op.query))
    if params:
        out["parameters"] = params
    if op.body is not None:
        media: Schema = {"schema": {"$ref": REF.format(model=schema_name(op.body))}}
        examples = _examples(op.body)
        if examples:
            media["examples"] = examples
        out["requestBody"] = {"required": op.body_required, "content": {JSON: media}}

    ok: Schema = {"description": op.response_description}
    if op.response is not None:
        ok["content"] = {JSON: {"schema": {"$ref": REF.format(model=schema_name(op.response))}}}
    elif op.response_schema is not None:
        ok["content"] = {JSON: {"schema": op.response_schema}}
    for media_type, media_schema in op.other_media:  # issue 12 (KPIs): CSV, SVG
        ok.setdefault("content", {})[media_type] = {"schema": media_schema}
    if op.headers:
        ok["headers"] = {h: {"$ref": f"#/components/headers/{h}"} for h in op.headers}
    statuses = set(op.errors)
    if op.roles is not None:
        statuses |= {401, 403}
    if op.body is not None:
        statuses |= {400, 413, 415}
    if op.query is not None:
        statuses.add(400)
    if op.conflicts:
        statuses.add(409)
    responses: Schema = {str(op.status): ok}
    for status in sorted(statuses):
        if status == 409 and op.conflicts:
            responses["409"] = _conflict(op.conflicts)
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/{PROBLEMS[status][0]}"}
    out["responses"] = responses
    out.update(op.extensions)
    return out


@functools.cache
def _document() -> dict[str, Any]:
    _, schemas = _generate()
    paths: dict[str, Schema] = {}
    for op in operations():
        paths.setdefault(op.path, {})[op.method] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "complaint-tickets",
            "version": "0.1.0",
            "description": "Complaint and suggestion tickets of a telecom operator: intake, "
            "reading, the lifecycle's actions and workflow, the catalog, SLA deadlines, the "
            "complaint blacklist and audit. JSON bodies in camelCase; times ISO 8601 with an "
            "offset; errors application/problem+json (RFC 9457) with `code` and `errors`; lists "
            "`{items, nextCursor}` paged with `limit` and `cursor`. An unknown path is a 404, a "
            "known path with another method a 405 with `Allow`. The conventions are written out "
            f"in the repository's {DOCS}.",
        },
        "tags": [
            {"name": n}
            for n in (
                "meta",
                "tickets",
                "lifecycle",
                "catalog",
                "sla",
                "blacklist",
                "audit",
                "incidents",  # issue 11
            )
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _responses(),
            "headers": RESPONSE_HEADERS,
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


_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9_\-]+)?$")


@functools.lru_cache(maxsize=16)
def document(server_url: str | None = None) -> dict[str, Any]:
    """The whole document, with `servers` naming `server_url` when it looks like a plain URL;
    cached (a few URLs at most), so treat it as read-only."""
    doc = _document()
    if server_url is None or not _SAFE_URL.match(server_url):
        return doc
    return {**doc, "servers": [{"url": server_url}]}
