"""HTTP plumbing shared by the routes: bodies, callers, problem+json (RFC 9457) and rendering."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response  # type: ignore[attr-defined]
from chalice.app import Request

from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    Unavailable,
    ValidationFailed,
)
from chalicelib.domain.tickets import MAX_BODY_BYTES
from chalicelib.logs import logger
from chalicelib.services.auth import principal_from_request
from chalicelib.services.context import Caller

PROBLEM = "application/problem+json"
TYPE_BASE = "https://complaint-tickets.example/problems/"
# Routes with a body accept any declared type so that a wrong one gets our 400, not a bare 415.
ANY_CONTENT = ["*/*"]


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update(extra)
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": PROBLEM, **(headers or {})},
    )


def render_error(err: DomainError) -> Response:
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    errors: list[FieldError] | None = None
    if isinstance(err, ValidationFailed):
        errors = err.errors
    if isinstance(err, Conflict):
        errors = err.errors or None
        extra["code"] = err.code
    if isinstance(err, Unavailable):
        headers["Retry-After"] = str(err.retry_after)
    return problem(
        err.status,
        err.title,
        err.detail,
        slug=err.type_slug,
        errors=errors,
        headers=headers,
        extra=extra,
    )


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in (request.headers or {}).items()}


def read_json(request: Request, allow_empty: bool = False) -> Any:
    """The request body as JSON: typed content, ≤ 64 KB, well-formed, or a 400 naming `body`.
    With `allow_empty`, no body at all reads as `{}` (actions such as `accept` need none)."""
    headers = _headers(request)
    raw = request.raw_body or b""
    if allow_empty and not raw.strip():
        return {}
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ValidationFailed(
            [FieldError("Content-Type", "must be application/json")],
            "the request body must be JSON (Content-Type: application/json)",
        )
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationFailed([FieldError("body", f"must be at most {MAX_BODY_BYTES} bytes")])
    if not raw.strip():
        raise ValidationFailed([FieldError("body", "is required")])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValidationFailed([FieldError("body", f"is not valid JSON ({err})")]) from None


def caller(request: Request) -> Caller:
    ctx = request.context or {}
    principal = principal_from_request(ctx)
    request_id = ctx.get("requestId") or str(uuid.uuid4())
    return Caller(principal=principal, request_id=request_id)


def header(request: Request, name: str) -> str | None:
    return _headers(request).get(name.lower())


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into problem+json and anything unexpected into a logged 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as err:
            if err.status >= 500:
                logger.warning(
                    "request refused", extra={"status": err.status, "detail": err.detail}
                )
            return render_error(err)
        except Exception:
            logger.exception("unhandled error")
            return problem(500, "Internal error", "an unexpected error occurred", slug="internal")

    return wrapper
