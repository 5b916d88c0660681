"""What the services record besides the ticket itself: history events, audit entries, and the
outcome of an idempotent create that was a replay. Plain domain types; the adapters store them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .values import iso


@dataclass(frozen=True)
class HistoryEvent:
    """One change of a ticket: who, when, what, from which status to which, and why."""

    at: datetime
    actor: str
    role: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]
    version: int | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "fromStatus": self.from_status,
            "toStatus": self.to_status,
            "version": self.version,
            "details": self.details,
        }


@dataclass(frozen=True)
class AuditEntry:
    """Who read or wrote which ticket (or tried to), when, under which request, from where, and
    with what outcome: `ok`, or `refused:<status>/<code>` (`refused:404/not_found`)."""

    actor: str  # `anonymous` for a caller without a usable token
    role: str
    action: str
    ticket_id: str | None  # None: a route that names no ticket (GET /audit, a refused list)
    request_id: str | None
    at: datetime
    outcome: str = "ok"
    source_ip: str | None = None
    user_agent: str | None = None
    id: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "ticketId": self.ticket_id,
            "requestId": self.request_id,
            "outcome": self.outcome,
            "sourceIp": self.source_ip,
            "userAgent": self.user_agent,
        }


class IdempotencyReplay(Exception):
    """The key was used before with the same body: here is the ticket it created."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


@dataclass(frozen=True)
class UnreadableTicket:
    """A stored item that is not a ticket this code can read: set aside, never served."""

    ticket_id: str
    version: str  # the stored version as text, "?" when there is none
    reason: str  # which attribute and why; never the stored value
    stored_version: dict[str, Any] | None  # the raw attribute value, to write conditionally


class TicketUnreadableError(Exception):
    def __init__(self, item: UnreadableTicket) -> None:
        super().__init__(f"ticket {item.ticket_id} is unreadable ({item.reason})")
        self.item = item


@dataclass(frozen=True)
class StuckTicket:
    """A ticket on the stuck-index, as projected there (raw strings, never decoded)."""

    ticket_id: str
    since: str
    attempts: int
    reason: str | None
    retry_at: str | None  # None: set aside, the sweep no longer comes back to it
    status: str | None
    step: str | None
