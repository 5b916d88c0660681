"""The values the system accepts, stores and shows, declared once.

Every request model (``chalicelib.domain.shapes``), the storage layer, the blacklist, customer
history and masking use these functions, so a value that passes validation is one the rest of the
system can always hold: an instant that round-trips through its stored form, text a JSON encoder
can always write, a number ``JSON.parse`` can read, a phone number in one canonical spelling.

Pure Python (no pydantic here): the pydantic types in ``shapes`` wrap these functions.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

# Instants the API accepts: a sane window, so every one has a four-digit year, a whole-minute
# offset in its local rendering and a fixed-width stored form.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)

# Numbers in free-form `fields`: finite and within ±1e15, so every integer among them is exact
# in a JavaScript number (2^53 > 1e15) and no text form overflows a double.
MAX_ABS_NUMBER = 10**15
MAX_JSON_DEPTH = 32

MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
LANDLINE = re.compile(r"0[0-9]{2,3}[0-9]{7,8}", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
PHONE_RULE = (
    "must be a mainland mobile number (11 digits, 1[3-9]…) or a landline with its area code "
    "(0AA…); spaces, dashes, dots, full-width digits and +86/0086 are accepted"
)


class ValueRejected(ValueError):
    """A value the system will not hold; the message says why, in the API's words."""


# -- text ------------------------------------------------------------------------------------


def clean_text(raw: str, max_len: int, *, min_len: int = 1) -> str:
    """NFC-normalised and trimmed, without lone surrogates or control characters (newline and
    tab excepted), between min_len and max_len characters."""
    for ch in raw:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            raise ValueRejected("must not contain lone UTF-16 surrogates")
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            raise ValueRejected("must not contain control characters (newline and tab allowed)")
    if len(raw) > max_len:  # as sent, like the schema's maxLength
        raise ValueRejected(f"must be at most {max_len} characters")
    value = unicodedata.normalize("NFC", raw).strip()
    if len(value) < min_len:
        raise ValueRejected("must not be empty" if min_len == 1 else f"needs ≥ {min_len} chars")
    return value


# -- phone numbers ---------------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """One spelling per number: ASCII digits, no separators, no country prefix.

    Full-width digits are folded to ASCII (NFKC); spaces, dashes, dots and parentheses are
    dropped; a leading +86 or 0086 is removed. Any other character, other scripts' digits
    included, is refused: `1390000004٠` is not `13900000040`.
    """
    folded = unicodedata.normalize("NFKC", raw)
    value = _PHONE_SEPARATORS.sub("", folded)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086") and len(value) > 12:
        value = value[4:]
    if not (MOBILE.fullmatch(value) or LANDLINE.fullmatch(value)):
        raise ValueRejected(PHONE_RULE)
    return value


def phone_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except ValueRejected:
        return None


# -- instants --------------------------------------------------------------------------------


def parse_instant(raw: str) -> datetime:
    """ISO 8601 / RFC 3339 with an explicit offset, between 2000-01-01 and 2100-12-31."""
    if not raw.isascii() or len(raw) > 40:
        raise ValueRejected("must be an ISO 8601 date-time with an offset")
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueRejected("must be an ISO 8601 date-time with an offset") from None
    return check_instant(value)


def check_instant(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        raise ValueRejected("must carry an offset (e.g. +08:00 or Z): whose local time is it?")
    if abs(offset) > MAX_OFFSET or offset.total_seconds() % 60:
        raise ValueRejected("must have an offset of whole minutes within ±14:00")
    if not EARLIEST <= value <= LATEST:
        raise ValueRejected("must be between 2000-01-01 and 2100-12-31")
    return value


def storage_time(value: datetime) -> str:
    """Stored times: UTC, fixed width (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), so string order is time
    order. Formatted field by field: glibc's strftime does not zero-pad years below 1000."""
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        f".{v.microsecond:06d}Z"
    )


def parse_storage_time(value: str) -> datetime:
    """Stored times, including those Step Functions writes (millisecond precision)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """API times: ISO 8601 in the company's local time (Asia/Shanghai), offset included."""
    return value.astimezone(LOCAL_ZONE).isoformat() if value is not None else None


# -- free-form JSON values -------------------------------------------------------------------


def check_number(value: int | float) -> int | float:
    """Finite and within ±1e15 (integers then stay exact in JavaScript)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueRejected("must be a finite number")
    if abs(value) > MAX_ABS_NUMBER:
        raise ValueRejected("must be at most 1e15 in magnitude")
    return value


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of parsed JSON, without recursion (stops counting past `limit`)."""
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            depth = max(depth, level)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return depth


def raw_json_depth(raw: bytes) -> int:
    """Nesting depth of a JSON text before parsing it (so a deep one never reaches the parser's
    recursion); brackets inside strings are skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest
