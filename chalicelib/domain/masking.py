"""Phone numbers never leave the system whole in logs or notifications (138****0000)."""

from __future__ import annotations

import re
from typing import Any

# Mainland mobile numbers (optionally +86) and landlines with an area code.
_PHONE = re.compile(
    r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)|(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)"
)


def _mask_match(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}"
    return f"{m.group(5)}{'*' * len(m.group(6))}{m.group(7)}"


def mask_phone(text: str) -> str:
    """Mask every phone number inside a string."""
    return _PHONE.sub(_mask_match, text)


def mask_value(value: Any) -> Any:
    """Mask phone numbers anywhere inside JSON-like data."""
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value
