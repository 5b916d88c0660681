"""CORS for browser front-ends, from one setting (ALLOWED_ORIGINS; docs/decisions/0008-cors.md).

An origin is allowed when it equals an entry, or when the entry ends in `:*` and the origin is
that scheme and host with any port (or none). Allowed origins are echoed, never `*`, so a
credentialed browser request works and a cache keyed by `Vary: Origin` stays right.
"""

from __future__ import annotations

from functools import lru_cache

from chalicelib import config

ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match"
EXPOSE_HEADERS = "ETag, Location, Idempotent-Replayed"
MAX_AGE_SECONDS = 600


@lru_cache(maxsize=8)
def _entries(setting: str) -> tuple[tuple[str, bool], ...]:
    """(origin or `scheme://host:` prefix, is a port wildcard) for each well-formed entry."""
    out: list[tuple[str, bool]] = []
    for raw in setting.split(","):
        entry = raw.strip().rstrip("/").lower()
        if not entry.startswith(("http://", "https://")):
            continue  # "*" and typos allow nothing
        if entry.endswith(":*"):
            out.append((entry[:-1], True))
        elif "*" not in entry:
            out.append((entry, False))
    return tuple(out)


def allowed(origin: str | None, setting: str | None = None) -> bool:
    if not origin:
        return False
    origin = origin.strip().lower()
    for base, wildcard in _entries(config.allowed_origins() if setting is None else setting):
        if not wildcard:
            if origin == base:
                return True
            continue
        if origin == base[:-1]:  # no port at all
            return True
        port = origin.removeprefix(base)
        if port != origin and 1 <= len(port) <= 5 and port.isascii() and port.isdigit():
            return True
    return False


def response_headers(origin: str | None) -> dict[str, str]:
    """What every response carries: the origin echoed only when allowed."""
    headers = {"Vary": "Origin", "Access-Control-Expose-Headers": EXPOSE_HEADERS}
    if origin and allowed(origin):
        headers["Access-Control-Allow-Origin"] = origin.strip()
    return headers


def preflight_headers(origin: str | None, methods: str) -> dict[str, str]:
    """A preflight's answer: allow headers only for an allowed origin."""
    if not (origin and allowed(origin)):
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin.strip(),
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        "Vary": "Origin",
    }
