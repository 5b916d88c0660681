"""HTTP plumbing shared by the routes: bodies, callers, problem+json (RFC 9457) and rendering."""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from chalice import Response  # type: ignore[attr-defined]
from chalice.app import Request

from chalicelib import telemetry
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from chalicelib.domain.records import TicketUnreadableError
from chalicelib.domain.tickets import MAX_BODY_BYTES
from chalicelib.domain.values import raw_json_depth
from chalicelib.logs import logger
from chalicelib.services.auth import principal_from_request
from chalicelib.services.context import MAX_USER_AGENT, Caller

PROBLEM = "application/problem+json"
TYPE_BASE = "https://complaint-tickets.example/problems/"
# Routes with a body accept any declared type so that a wrong one gets our problem+json 415,
# not Chalice's bare one.
ANY_CONTENT = ["*/*"]
MAX_JSON_DEPTH = 32
_IF_MATCH = re.compile(r'(?:"([0-9]{1,12})"|([0-9]{1,12}))')


class PayloadTooLarge(ValidationFailed):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"
    code = "payload_too_large"


class UnsupportedMediaType(ValidationFailed):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"
    code = "unsupported_media_type"


def dumps(body: Any) -> str:
    """JSON text that is always valid JSON (no NaN/Infinity) and always encodable as UTF-8: a
    lone surrogate in stored data falls back to ASCII escapes instead of failing the response."""
    text = json.dumps(body, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(body, ensure_ascii=True, allow_nan=False)
    return text


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
        body=dumps(body),
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
    code = getattr(err, "code", None)
    if isinstance(code, str):
        extra["code"] = code
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
        body=dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in (request.headers or {}).items()}


def etag(version: int) -> str:
    """A strong entity tag, quoted as RFC 9110 says: `"7"`."""
    return f'"{version}"'


def if_match(request: Request) -> int | None:
    """The version an action is conditional on: `If-Match: "7"` (or a bare `7`); ASCII digits
    only, at most 12. Weak tags, lists, `*` and anything else are a 400 naming `If-Match`."""
    value = header(request, "If-Match")
    if value is None:
        return None
    m = _IF_MATCH.fullmatch(value.strip(" \t"))
    if m is None:
        raise ValidationFailed(
            [FieldError("If-Match", 'must be the ticket\'s ETag, e.g. "7" (its version)')]
        )
    return int(m.group(1) or m.group(2))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def read_json(request: Request, allow_empty: bool = False) -> Any:
    """The request body as JSON: ≤ 64 KB (413), typed application/json (415), UTF-8, well-formed,
    finite numbers, nested ≤ 32 deep, or a 400 naming `body`.
    With `allow_empty`, no body at all reads as `{}` (actions such as `accept` need none)."""
    headers = _headers(request)
    body = request.raw_body or b""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge([FieldError("body", f"must be at most {MAX_BODY_BYTES} bytes")])
    if allow_empty and not raw.strip():
        return {}
    ctype, _, params = headers.get("content-type", "").partition(";")
    charset = params.strip().lower().replace(" ", "")
    if ctype.strip().lower() != "application/json" or charset not in ("", "charset=utf-8"):
        raise UnsupportedMediaType(
            [FieldError("Content-Type", "must be application/json")],
            "the request body must be JSON (Content-Type: application/json)",
        )
    if not raw.strip():
        raise ValidationFailed([FieldError("body", "is required")])
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and raw_json_depth(raw) > MAX_JSON_DEPTH:
        raise ValidationFailed([FieldError("body", f"must nest at most {MAX_JSON_DEPTH} deep")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed([FieldError("body", "must be UTF-8")]) from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as err:
        raise ValidationFailed([FieldError("body", f"is not valid JSON ({err})")]) from None


def caller(request: Request) -> Caller:
    meta = _meta(request)
    return replace(meta, principal=principal_from_request(request.context or {}))


_NOBODY = Principal(sub="", username="anonymous", roles=())


def _meta(request: Request) -> Caller:
    """Where the request comes from, without its principal (read even when the token is bad)."""
    ctx = request.context or {}
    request_id = ctx.get("requestId") or str(uuid.uuid4())
    if not isinstance(ctx.get("requestId"), str):
        ctx["requestId"] = request_id  # the same id for the refusal's audit entry
    identity = ctx.get("identity")
    ip = identity.get("sourceIp") if isinstance(identity, dict) else None
    agent = header(request, "User-Agent")
    return Caller(
        principal=_NOBODY,
        request_id=request_id,
        source_ip=ip[:64] if isinstance(ip, str) and ip else None,
        user_agent=agent[:MAX_USER_AGENT] if agent else None,
    )


# Refusals recorded in the audit log (400s are not: they are about the body, not the ticket).
AUDITED_REFUSALS = (401, 403, 404, 409)


def audited(action: str, request: Callable[[], Request]) -> Callable[[Any], Any]:
    """Record the view's refused attempts (AUDITED_REFUSALS) in the audit log as `action`, on the
    ticket its path names; the refusal itself is answered as before (`endpoint` renders it)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except DomainError as err:
                if err.status in AUDITED_REFUSALS:
                    # the ticket (or, issue 11, the bulletin) its path names
                    named = kwargs.get("ticket_id", kwargs.get("bulletin_id"))
                    _record_refusal(request(), action, named, err)
                raise

        return wrapper

    return decorate


def _record_refusal(req: Request, action: str, ticket_id: str | None, err: DomainError) -> None:
    from chalicelib.services import context, tickets

    try:
        meta = _meta(req)
        try:
            who: Caller | None = caller(req)
        except Unauthorized:
            who = None
        tickets.record_refusal(who, meta, action, ticket_id, err, context.deps())
    except Exception:  # the refusal is answered whatever happens to its record
        logger.exception("recording a refused attempt failed", extra={"action": action})


def header(request: Request, name: str) -> str | None:
    return _headers(request).get(name.lower())


def path_value(value: str) -> str:
    """A path parameter as the client meant it. API Gateway hands them over decoded; the local
    gateway does not, so a `%`-escaped one (a spaced or full-width phone number) is decoded here.
    Values with a literal `%` never occur in these routes, so decoding twice cannot happen."""
    return unquote(value) if "%" in value else value


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into problem+json and anything unexpected into a logged 500; traced
    (a subsegment per request) where tracing is on."""

    @functools.wraps(view)
    @telemetry.traced
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except TicketUnreadableError as err:  # any route that needed it: one clear problem
            from chalicelib.services import context, tickets

            refusal = tickets.unreadable(err, context.deps())
            logger.warning("request refused", extra={"status": 503, "detail": refusal.detail})
            return render_error(refusal)
        except DomainError as err:
            if err.status >= 500:
                logger.warning(
                    "request refused", extra={"status": err.status, "detail": err.detail}
                )
            return render_error(err)
        except Exception:
            logger.exception("unhandled error")
            return problem(
                500,
                "Internal error",
                "an unexpected error occurred",
                slug="internal",
                extra={"code": "internal"},
            )

    return wrapper
