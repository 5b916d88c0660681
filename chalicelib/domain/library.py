"""The case library (案例库, seed 004 §5.5: typical cases consulted when dispatching and handling
appeals; seed 002 高级座席 二: seniors feed solved difficult cases to the knowledge base).

Pure: what a case holds, how personal data is taken out of it, and how a search matches it.

A case never carries personal data. `scrub` removes, from every free text of the case:
- the ticket's own personal values (the complainant's name, contact number, address, service
  number, the location's landmark), wherever they appear;
- any phone-number-like or id-like run: seven or more digits in groups joined by at most two
  separators (spaces, dashes, dots, slashes, parentheses, invisible format characters), digits
  of any script (full-width, Arabic-Indic …) and Chinese numerals (一三八…, 幺, 〇) counted as
  digits, with an optional +86 and a trailing X of an ID-card number;
- e-mail addresses, and a surname followed by 先生/女士/小姐 (how agents write a customer).
Each becomes a placeholder (`[号码]`, `[邮箱]`, `[姓名]`, `[地址]`, `[客户]`). Dates, amounts
and other short numbers stay: a run is removed only when it holds at least seven digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .tickets import Ticket
from .values import iso

NUMBER = "[号码]"
EMAIL = "[邮箱]"
NAME = "[姓名]"
ADDRESS = "[地址]"
CUSTOMER = "[客户]"
MIN_DIGITS = 7  # a run with at least this many digits is a number that names someone
TOP_CASES = 3  # what the dispatch and appeal desks are offered for a ticket's phenomenon
TITLE_LENGTH = 60

_CHINESE_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_GROUPS = re.compile(r"[^0-9０-９\u0660-\u0669\u06f0-\u06f9零〇○一幺二两三四五六七八九]+")
_SEPARATORS = set(" \t\u3000-‐‑‒–—―－.．·/／()（）_")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s*(?:@|＠|\(at\)|\[at\])\s*[A-Za-z0-9\-]+(?:\s*[.．]\s*[A-Za-z0-9\-]+)+"
)
# a surname before 先生/女士/小姐 (not a word such as 这位先生, 老先生)
_HONORIFIC = re.compile(r"[^\W\d_这那位老的了和与及是请名该此各诸男女小对其](?:先生|女士|小姐)")


def _digit(ch: str) -> str | None:
    """The ASCII digit a character stands for, in any script, or None."""
    if ch in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[ch]
    try:
        return str(unicodedata.decimal(ch))
    except (TypeError, ValueError):
        return None


def _separator(ch: str) -> bool:
    return ch in _SEPARATORS or unicodedata.category(ch) == "Cf"


def _number_spans(text: str) -> list[tuple[int, int]]:
    """Spans of digit runs with at least MIN_DIGITS digits (groups joined by ≤ 2 separators),
    a leading +, and a trailing X (ID cards) included."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if _digit(text[i]) is None:
            i += 1
            continue
        start, digits, j, end = i, 0, i, i
        while j < n:
            if _digit(text[j]) is not None:
                digits += 1
                j += 1
                end = j
                continue
            k = j
            while k < n and k - j < 3 and _separator(text[k]):
                k += 1
            if k > j and k - j <= 2 and k < n and _digit(text[k]) is not None:
                j = k
                continue
            break
        if digits >= MIN_DIGITS and not _date(text[start:end]):
            if end < n and text[end] in "XxＸｘ":
                end += 1
            if start > 0 and text[start - 1] in "+＋":
                start -= 1
            spans.append((start, end))
        i = max(end, i + 1)
    return spans


def _date(run: str) -> bool:
    """A date written with separators (2026-11-29, 2026.1.5, 2026/11/29): not a number."""
    groups = ["".join(d for ch in g if (d := _digit(ch)) is not None) for g in _GROUPS.split(run)]
    groups = [g for g in groups if g]
    return (
        len(groups) == 3
        and len(groups[0]) == 4
        and groups[0][:2] in ("19", "20")
        and all(1 <= len(g) <= 2 for g in groups[1:])
        and 1 <= int(groups[1]) <= 12
        and 1 <= int(groups[2]) <= 31
    )


def _replace_spans(text: str, spans: Iterable[tuple[int, int]], placeholder: str) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


def _compact(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if not _separator(ch))


def scrub(text: str | None, known: Sequence[tuple[str, str]] = ()) -> str | None:
    """`text` without personal data. `known`: (value, placeholder) pairs of the ticket's own
    personal values, removed wherever they appear (case-insensitively, NFKC-folded)."""
    if text is None:
        return None
    out = unicodedata.normalize("NFC", text)
    for value, placeholder in sorted(known, key=lambda kv: -len(kv[0])):
        value = value.strip()
        if len(value) < 2:  # one character is not a name to remove from every word it is in
            continue
        out = re.sub(re.escape(value), placeholder, out, flags=re.IGNORECASE)
        folded = unicodedata.normalize("NFKC", value)
        if folded != value:
            out = re.sub(re.escape(folded), placeholder, out, flags=re.IGNORECASE)
    out = _EMAIL.sub(EMAIL, out)
    out = _replace_spans(out, _number_spans(out), NUMBER)
    out = _HONORIFIC.sub(lambda m: CUSTOMER if _cjk(m.group(0)[0]) else m.group(0), out)
    return out


def known_values(ticket: Ticket) -> list[tuple[str, str]]:
    """The ticket's own personal values, each with the placeholder that replaces it."""
    c = ticket.complainant
    pairs = [(c.name, NAME), (c.contact_number, NUMBER), (ticket.service_number, NUMBER)]
    if c.address:
        pairs.append((c.address, ADDRESS))
    location: dict[str, Any] = dict(ticket.location or {})
    landmark = location.get("landmark")
    if landmark:
        pairs.append((str(landmark), ADDRESS))
    if len(c.name) >= 3:  # the given name alone too (王小明 → 小明; 三 of 张三 is too short)
        pairs.append((c.name[1:], NAME))
    return [(v, p) for v, p in pairs if v]


@dataclass(frozen=True)
class Case:
    """One case of the library, as stored and shown (no personal data)."""

    id: str
    phenomenon: str
    category: str
    title: str
    solution: str
    created_by: str
    created_at: datetime
    cause: str | None = None
    script: str | None = None
    analysis: str | None = None
    source_ticket_id: str | None = None
    source: str = "archive"  # archive | knowledge_base

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "phenomenon": self.phenomenon,
            "category": self.category,
            "title": self.title,
            "cause": self.cause,
            "solution": self.solution,
            "script": self.script,
            "analysis": self.analysis,
            "sourceTicketId": self.source_ticket_id,
            "source": self.source,
            "createdBy": self.created_by,
            "createdAt": iso(self.created_at),
        }
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Case:
        return cls(
            id=data["id"],
            phenomenon=data["phenomenon"],
            category=data["category"],
            title=data["title"],
            solution=data["solution"],
            created_by=data["createdBy"],
            created_at=datetime.fromisoformat(data["createdAt"]),
            cause=data.get("cause"),
            script=data.get("script"),
            analysis=data.get("analysis"),
            source_ticket_id=data.get("sourceTicketId"),
            source=data.get("source", "archive"),
        )


def _title(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= TITLE_LENGTH else one_line[: TITLE_LENGTH - 1] + "…"


def case_of_ticket(
    ticket: Ticket, analysis: str, case_id: str, by: str, at: datetime
) -> Case | None:
    """The case an archived ticket adds (`addToCaseLibrary`), scrubbed; None for a ticket without
    a phenomenon (a case is found by its phenomenon)."""
    if not ticket.phenomenon:
        return None
    known = known_values(ticket)

    def clean(text: str | None) -> str | None:
        return scrub(text, known) if text else None

    resolution: dict[str, Any] = dict(ticket.resolution or {})
    reply: dict[str, Any] = dict(ticket.reply or {})
    solution = resolution.get("result") or ticket.answer or analysis
    return Case(
        id=case_id,
        phenomenon=ticket.phenomenon,
        category=ticket.category or "",
        title=_title(clean(ticket.description) or ticket.phenomenon),
        cause=clean(resolution.get("cause")),
        solution=clean(solution) or "",
        script=clean(reply.get("content") or ticket.answer_script),
        analysis=clean(analysis),
        source_ticket_id=ticket.id,
        created_by=by,
        created_at=at,
        source="archive",
    )


# -- search --------------------------------------------------------------------------------------

_WORD = re.compile(r"[\w]+", re.UNICODE)


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def terms(q: str) -> list[str]:
    """The words of a query: runs of letters/digits; Chinese stays as written (matched by its
    characters, see `matches`)."""
    return [w for w in _WORD.findall(_fold(q)) if w.strip("_")]


def _bigrams(word: str) -> set[str]:
    return {word[i : i + 2] for i in range(len(word) - 1)}


def _term_matches(term: str, text: str) -> bool:
    if term in text:
        return True
    cjk = "".join(ch for ch in term if _cjk(ch))
    if len(cjk) < 3 or len(cjk) != len(term):
        return False
    # Chinese has no spaces: 信号差 matches 信号很差 when at least half its character pairs do
    grams = _bigrams(cjk)
    return sum(1 for g in grams if g in text) * 2 >= len(grams)


def matches(case: Case, words: Sequence[str]) -> bool:
    """Whether every word of the query is in the case's title, solution or analysis."""
    if not words:
        return True
    text = _fold(" ".join(x for x in (case.title, case.solution, case.analysis) if x))
    return all(_term_matches(w, text) for w in words)
