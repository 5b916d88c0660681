"""Unique, time-sortable identifiers (ULID layout: 48-bit milliseconds + 80 random bits).

Ticket ids sort by creation time, so id order is intake order and ids make good range keys.
"""

from __future__ import annotations

import os
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, at: datetime) -> str:
    millis = int(at.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    return prefix + _encode(millis, 10) + _encode(rand, 16)
