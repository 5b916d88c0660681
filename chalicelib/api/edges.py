"""The HTTP edges, generated from the app's route table so they hold on API Gateway too.

`complete_routes(app)`, called once every route is defined, gives each path
- an OPTIONS route answering CORS preflights (204), and
- a route for each method the path lacks, answering 405 problem+json with `Allow`
  (API Gateway would otherwise answer a missing method with 403 "Missing Authentication Token").
Neither has an authorizer: a browser's preflight carries no token, and a 405 reveals only what the
OpenAPI document already says. `cors_middleware` adds the CORS headers to every response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalice import Response  # type: ignore[attr-defined]

from chalicelib.api import cors
from chalicelib.api.http import ANY_CONTENT, header, problem

# The methods a client may try; HEAD is left to the gateway (a 405 needs a body).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Marks the generated views so the OpenAPI cross-check can leave them out.
GENERATED = "_edge_generated"


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"


def _mark(view: Callable[..., Any], name: str) -> Callable[..., Any]:
    view.__name__ = view.__qualname__ = name
    setattr(view, GENERATED, True)
    return view


def allow_header(methods: list[str]) -> str:
    order = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))}
    return ", ".join([*sorted(methods, key=lambda m: order.get(m, 99)), "OPTIONS"])


def _preflight_view(app: Any, allow: str, name: str) -> Callable[..., Any]:
    def preflight(**_params: str) -> Response:
        origin = header(app.current_request, "Origin")
        return Response(
            body="",
            status_code=204,
            headers={"Allow": allow, **cors.preflight_headers(origin, allow)},
        )

    return _mark(preflight, name)


def _not_allowed_view(app: Any, allow: str, name: str) -> Callable[..., Any]:
    def not_allowed(**_params: str) -> Response:
        method = app.current_request.method
        return problem(
            405,
            "Method not allowed",
            f"{method} is not allowed here; allowed: {allow}",
            slug="method-not-allowed",
            headers={"Allow": allow},
            extra={"code": "method_not_allowed"},
        )

    return _mark(not_allowed, name)


def complete_routes(app: Any) -> None:
    """Add the OPTIONS and 405 routes of every path; call it after the last `@app.route`."""
    for path, entries in list(app.routes.items()):
        real = [m for m, entry in entries.items() if not getattr(entry.view_function, GENERATED, 0)]
        allow = allow_header(real)
        slug = _slug(path)
        if "OPTIONS" not in entries:
            view = _preflight_view(app, allow, f"preflight_{slug}")
            app.route(path, methods=["OPTIONS"], content_types=ANY_CONTENT)(view)
        missing = [m for m in METHODS if m not in entries]
        if missing:
            view = _not_allowed_view(app, allow, f"not_allowed_{slug}")
            app.route(path, methods=missing, content_types=ANY_CONTENT)(view)


def cors_middleware(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every HTTP response, errors included, gets `Vary: Origin`, the exposed headers and, for an
    allowed origin, `Access-Control-Allow-Origin`."""
    response = get_response(request)
    origin = header(request, "Origin") if request is not None else None
    for name, value in cors.response_headers(origin).items():
        if name == "Vary" and response.headers.get("Vary") not in (None, value):
            response.headers["Vary"] = f"{response.headers['Vary']}, {value}"
        else:
            response.headers.setdefault(name, value)
    return response
