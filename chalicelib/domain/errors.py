"""Domain errors: what went wrong in the language of the rules, mapped to HTTP only in app.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status = 500
    title = "Error"
    type_slug = "error"
    # The machine-readable `code` of the problem+json; a Conflict names the rule it met.
    code: str | None = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(DomainError):
    status = 400
    title = "Invalid request"
    type_slug = "validation"
    code = "validation"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"
    code = "not_found"


class Conflict(DomainError):
    """A rule forbids this now: wrong status, stale version, reused idempotency key."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"

    def __init__(
        self, detail: str, *, code: str = "conflict", errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.errors = errors or []


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"

    def __init__(self, detail: str, retry_after: int = 1, code: str = "unavailable") -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.code = code
