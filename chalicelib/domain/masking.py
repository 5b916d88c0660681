"""Personal data never leaves the system whole: one rule for logs, notifications, history
summaries and the views of roles that never contact customers.

- Phone numbers in any spelling a person types — spaced, dashed, dotted, in parentheses,
  full-width, with +86/0086 — are recognised by the same normaliser validation uses
  (`values.normalize_phone`) and shown as `138****8000` (landlines `0592***1234`).
- Chinese resident ID-card numbers (18 characters, the last a digit or X; the old 15-digit form)
  keep their first three and last four characters.
- E-mail addresses keep their first character and their domain: `z***@example.com`.

Dates, amounts and other short numbers are left alone: a run of digits is masked only when it is
one of the shapes above.
"""

from __future__ import annotations

import re
from typing import Any

from .values import ValueRejected, normalize_phone

_DIGIT = "0-9０-９"
# A run of digit groups joined by at most two separator characters (space, dash, dot,
# parentheses), optionally after a + sign.
_RUN = re.compile(
    rf"(?<![{_DIGIT}A-Za-z])[+＋]?[{_DIGIT}]+(?:[\s\-.()（）]{{1,2}}[{_DIGIT}]+)*[XxＸｘ]?"
    rf"(?![{_DIGIT}])"
)
_GROUP_SEP = re.compile(r"([\s\-.()（）]{1,2})")
_ID_CARD = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
_FOLD = str.maketrans("０１２３４５６７８９ＸｘＸ＋", "0123456789XxX+")


def _masked_number(text: str) -> str | None:
    """The masked form of `text` if it is a phone or ID-card number, else None."""
    folded = text.translate(_FOLD)
    try:
        number = normalize_phone(folded)
    except ValueRejected:
        compact = re.sub(r"[\s\-.()（）]", "", folded)
        if _ID_CARD.fullmatch(compact):
            return compact[:3] + "*" * (len(compact) - 7) + compact[-4:]
        return None
    if number.startswith("1"):
        return f"{number[:3]}****{number[-4:]}"
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def _mask_run(m: re.Match[str]) -> str:
    text = m.group(0)
    whole = _masked_number(text)
    if whole is not None:
        return whole
    # Several numbers side by side ("13800138000 13900139000"): mask each maximal group span
    # that is a number on its own, left to right.
    parts = _GROUP_SEP.split(text)
    groups, seps = parts[0::2], parts[1::2]
    out: list[str] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            span = "".join(
                g + (seps[k] if k < j - 1 else "") for k, g in enumerate(groups) if i <= k < j
            )
            masked = _masked_number(span)
            if masked is not None:
                out.append(masked)
                i = j
                break
        else:
            out.append(groups[i])
            i += 1
        if i < len(groups) and i > 0:
            out.append(seps[i - 1])
    return "".join(out)


def mask_pii(text: str) -> str:
    """Mask every phone number, ID-card number and e-mail address inside a string."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _RUN.sub(_mask_run, text)


def mask_phone(text: str) -> str:
    """Kept for callers that think of phone numbers only: the one rule masks all PII."""
    return mask_pii(text)


def mask_value(value: Any) -> Any:
    """Mask personal data anywhere inside JSON-like data."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value
