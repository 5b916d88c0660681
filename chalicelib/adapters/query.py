"""Shared pieces of index queries: time-range conditions and opaque page cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.values import storage_time


def time_range(
    attr: UnicodeAttribute, start: datetime | None, end: datetime | None
) -> Condition | None:
    """A range-key condition for stored UTC times between start and end (both optional)."""
    if start is not None and end is not None:
        return attr.between(storage_time(start), storage_time(end))
    if start is not None:
        return attr >= storage_time(start)
    if end is not None:
        return attr <= storage_time(end)
    return None


class Cursors:
    """Opaque page cursors: the position in an index, signed so that a forged or edited cursor
    is refused with a 400 (never decoded into a query that fails)."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, state: dict[str, Any]) -> str:
        raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
        payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{payload}.{self._signature(payload)}"

    def decode(self, cursor: str) -> dict[str, Any]:
        bad = ValidationFailed([FieldError("cursor", "is not a cursor this API issued")])
        payload, _, signature = cursor.partition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            raise bad
        try:
            padded = payload + "=" * (-len(payload) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise bad from None
        if not isinstance(value, dict):
            raise bad
        return value


_conn: Connection | None = None


def connection() -> Connection:
    """One pynamodb connection for transactions, built on first use."""
    global _conn
    if _conn is None:
        _conn = Connection()
    return _conn
