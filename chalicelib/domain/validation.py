"""Typed, bounded checks of request bodies, collecting every failing field at once.

Each checker appends a FieldError and returns the cleaned value (or None), so one request reports
all its problems in one RFC 9457 response.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .errors import FieldError

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_phone(raw: str) -> str:
    value = re.sub(r"[\s()]", "", raw)
    if value.startswith("+86"):
        value = value[3:].lstrip("-")
    elif value.startswith("0086"):
        value = value[4:].lstrip("-")
    return value


class Checker:
    """Collects field errors while reading an untrusted JSON object."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def obj(
        self, data: Any, path: str, allowed: Sequence[str], required: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.fail(path or "body", "must be a JSON object")
            return None
        for key in data:
            if key not in allowed:
                self.fail(_join(path, str(key)), "is not a known field")
        for key in required:
            if data.get(key) is None:
                self.fail(_join(path, key), "is required")
        return data

    def string(
        self, data: dict[str, Any], key: str, path: str, *, max_len: int, min_len: int = 1
    ) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        name = _join(path, key)
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        value = value.strip()
        if len(value) < min_len:
            self.fail(name, "must not be empty" if min_len == 1 else f"needs ≥ {min_len} chars")
            return None
        if len(value) > max_len:
            self.fail(name, f"must be at most {max_len} characters")
            return None
        return value

    def enum(self, data: dict[str, Any], key: str, path: str, choices: Sequence[str]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            self.fail(_join(path, key), f"must be one of: {', '.join(choices)}")
            return None
        return value

    def limit(self, params: dict[str, Any], default: int, maximum: int) -> int:
        """A page size from a query string: a whole number from 1 to `maximum`."""
        raw = params.get("limit")
        if raw is None:
            return default
        if not isinstance(raw, str) or not raw.isdigit() or not 1 <= int(raw) <= maximum:
            self.fail("limit", f"must be a whole number from 1 to {maximum}")
            return default
        return int(raw)

    def boolean(self, data: dict[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(_join(path, key), "must be true or false")
            return None
        return value

    def phone(self, data: dict[str, Any], key: str, path: str) -> str | None:
        raw = self.string(data, key, path, max_len=20)
        if raw is None:
            return None
        value = normalize_phone(raw)
        if not (MOBILE.match(value) or LANDLINE.match(value)):
            self.fail(
                _join(path, key),
                "must be a mainland mobile number (11 digits, 1[3-9]…) or a landline 0AA-NNNNNNN",
            )
            return None
        return value

    def instant(self, data: dict[str, Any], key: str, path: str) -> datetime | None:
        raw = self.string(data, key, path, max_len=40)
        if raw is None:
            return None
        parsed = parse_instant(raw)
        if parsed is None:
            self.fail(_join(path, key), "must be an ISO 8601 date-time with an offset")
        return parsed

    def enum_list(
        self, data: dict[str, Any], key: str, path: str, choices: Sequence[str], max_items: int
    ) -> list[str] | None:
        value = data.get(key)
        if value is None:
            return None
        name = _join(path, key)
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return None
        if len(value) > max_items:
            self.fail(name, f"must have at most {max_items} items")
            return None
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or item not in choices:
                self.fail(f"{name}[{i}]", f"must be one of: {', '.join(choices)}")
            elif item not in out:
                out.append(item)
        return out

    def scalar_map(
        self, data: dict[str, Any], key: str, path: str, *, max_items: int, max_len: int
    ) -> dict[str, str | int | float | bool] | None:
        value = data.get(key)
        if value is None:
            return None
        name = _join(path, key)
        if not isinstance(value, dict):
            self.fail(name, "must be a JSON object")
            return None
        if len(value) > max_items:
            self.fail(name, f"must have at most {max_items} entries")
            return None
        out: dict[str, str | int | float | bool] = {}
        for k, v in value.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", str(k)):
                self.fail(f"{name}.{k}", "is not a valid field name")
            elif isinstance(v, str):
                if len(v) > max_len:
                    self.fail(f"{name}.{k}", f"must be at most {max_len} characters")
                else:
                    out[k] = v.strip()
            elif isinstance(v, bool | int | float):
                out[k] = v
            else:
                self.fail(f"{name}.{k}", "must be a string, number or boolean")
        return out


def parse_instant(raw: str) -> datetime | None:
    """ISO 8601 with an explicit offset; naive times are refused (whose local time would it be?)."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
