"""Repeats and suggestions at intake (DOMAIN.md §11; seed 002 步骤2; 004 §4 二(2)). Pure.

A customer profile keeps a short summary of the customer's recent complaints (`Entry`); a new
complaint about the same phenomenon (or the same category, when no phenomenon is known) as one
still open, or closed within the repeat window, is a repeat of the earliest such ticket that is
not itself a repeat. Seed 002's decision table (`decide`) says what happens next. Suggestions are
matched across customers by their normalised text, or by phenomenon and area, within the
suggestion window.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .values import parse_storage_time, storage_time

# -- policy data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatPolicy:
    """How far back intake looks: a closed complaint within `repeat_window` still counts for a
    repeat; a suggestion made within `suggestion_window` (open or closed) is the same one."""

    repeat_window: timedelta = timedelta(days=30)
    suggestion_window: timedelta = timedelta(days=90)
    # The profile keeps at most this many entries (open ones first, then the newest closed).
    max_entries: int = 30


POLICY = RepeatPolicy()

# -- the decision table (seed 002 步骤2 三/四) --------------------------------------------------

# code → what the new ticket gets
DONE = "told_done"  # finished, satisfied on record, the customer agrees: answered at intake
MANAGER_DISAGREES = "manager_disagrees"  # satisfied on record, the customer disagrees
SENIOR_REVIEW = "senior_review"  # unsatisfied (or nothing) on record, or no priorOutcome
MANAGER_OVERDUE = "manager_overdue"  # unfinished and past its limit
PROGRESS = "progress_answer"  # unfinished within its limit: a supplementary complaint
MANAGER_UNREASONABLE = "manager_unreasonable"  # rejected as unreasonable; the customer insists
DECISIONS = (
    DONE,
    MANAGER_DISAGREES,
    SENIOR_REVIEW,
    MANAGER_OVERDUE,
    PROGRESS,
    MANAGER_UNREASONABLE,
)

# A ticket is finished for the customer once it was replied (or closed); cancelled tickets
# (found invalid) are not complaints anyone repeats.
FINISHED = ("replied", "revisited", "archived", "rejected")
CLOSED = ("archived", "cancelled", "rejected")
SATISFIED = ("satisfied", "basically_satisfied")
PRIOR_OUTCOMES = ("satisfied", "unsatisfied")


@dataclass(frozen=True)
class Entry:
    """A complaint as the customer profile summarises it."""

    id: str
    phenomenon: str | None
    category: str | None
    created_at: datetime
    status: str
    due_at: datetime | None = None
    closed_at: datetime | None = None
    recorded: str | None = None  # "satisfied" | "unsatisfied" | None: the satisfaction on record
    repeat: bool = False

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "p": self.phenomenon,
            "c": self.category,
            "at": storage_time(self.created_at),
            "st": self.status,
            "r": self.repeat,
        }
        if self.due_at is not None:
            out["due"] = storage_time(self.due_at)
        if self.closed_at is not None:
            out["ca"] = storage_time(self.closed_at)
        if self.recorded is not None:
            out["sat"] = self.recorded
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Entry:
        def when(key: str) -> datetime | None:
            v = d.get(key)
            return parse_storage_time(v) if isinstance(v, str) else None

        created = when("at")
        if created is None or not isinstance(d.get("id"), str):
            raise ValueError("not a profile entry")
        return cls(
            id=d["id"],
            phenomenon=d.get("p"),
            category=d.get("c"),
            created_at=created,
            status=str(d.get("st", "accepted")),
            due_at=when("due"),
            closed_at=when("ca"),
            recorded=d.get("sat"),
            repeat=bool(d.get("r")),
        )


def recorded_satisfaction(revisit: dict[str, Any] | None, rounds: int) -> str | None:
    """The satisfaction on record: the last revisit's; an unhappy round without a later happy
    revisit counts as unsatisfied; nothing when the customer was never asked."""
    if revisit and revisit.get("satisfaction") in SATISFIED:
        return "satisfied"
    if (revisit and revisit.get("satisfaction") == "unsatisfied") or rounds > 0:
        return "unsatisfied"
    return None


def in_window(e: Entry, now: datetime, policy: RepeatPolicy = POLICY) -> bool:
    """Open, or closed within the repeat window."""
    if not e.closed:
        return True
    closed_at = e.closed_at or e.created_at
    return now - closed_at <= policy.repeat_window


def find_original(
    entries: list[Entry],
    phenomenon: str | None,
    category: str | None,
    now: datetime,
    policy: RepeatPolicy = POLICY,
) -> tuple[Entry, str] | None:
    """(the original, the rule that matched): the earliest ticket that is not itself a repeat,
    open or closed within the window, about the same phenomenon — or, with no phenomenon known,
    the same category. Cancelled (invalid) tickets are never originals."""
    if phenomenon is not None:
        rule = "same_phenomenon"
        matches = [e for e in entries if e.phenomenon == phenomenon]
    elif category is not None:
        rule = "same_category"
        matches = [e for e in entries if e.category == category]
    else:
        return None
    eligible = [
        e for e in matches if not e.repeat and e.status != "cancelled" and in_window(e, now, policy)
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda e: (e.created_at, e.id)), rule


@dataclass(frozen=True)
class RepeatDecision:
    """What a repeat gets: `answered` (answered at intake with a standard line unless the agent
    gave one), `review` (a senior's review first), `escalate` (the complaint manager, level 2,
    the CRC told), `supplement` (the contact recorded on the open original)."""

    code: str
    answered: bool = False
    review: bool = False
    escalate: bool = False
    supplement: bool = False


def decide(original: Entry, prior_outcome: str | None, now: datetime) -> RepeatDecision:
    """Seed 002's table for a junior agent's repeat (README shows it as a table)."""
    if original.finished:
        if original.status == "rejected":
            return RepeatDecision(MANAGER_UNREASONABLE, escalate=True)
        if original.recorded != "satisfied" or prior_outcome is None:
            return RepeatDecision(SENIOR_REVIEW, review=True)
        if prior_outcome == "satisfied":
            return RepeatDecision(DONE, answered=True)
        return RepeatDecision(MANAGER_DISAGREES, escalate=True)
    if original.due_at is not None and now > original.due_at:
        return RepeatDecision(MANAGER_OVERDUE, escalate=True)
    return RepeatDecision(PROGRESS, answered=True, supplement=True)


def standard_answer(decision: RepeatDecision, original: Entry) -> str:
    """The answer recorded when the agent gave none."""
    if decision.code == DONE:
        return f"告知客户：此前工单 {original.id} 已办结。"
    due = f"，承诺时限 {storage_time(original.due_at)[:16]}Z" if original.due_at else ""
    return f"告知客户：工单 {original.id} 正在处理中{due}，已补充记录本次来电。"


def prune(entries: list[Entry], now: datetime, policy: RepeatPolicy = POLICY) -> list[Entry]:
    """The entries the profile keeps: those still able to be an original (open, or closed
    within the window), at most `max_entries`, open ones first then the newest."""
    kept = [e for e in entries if in_window(e, now, policy)]
    kept.sort(key=lambda e: (e.closed, -e.created_at.timestamp()))
    return kept[: policy.max_entries]


# -- suggestions -----------------------------------------------------------------------------


def normalised_text(text: str) -> str:
    """Compatibility-folded, case-folded, with only letters and digits kept."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in ("L", "N"))


def text_key(text: str) -> str:
    return hashlib.sha256(normalised_text(text).encode()).hexdigest()[:32]


def area_key(phenomenon: str | None, area: str | None) -> str | None:
    if not phenomenon or not area:
        return None
    digest = hashlib.sha256(normalised_text(area).encode()).hexdigest()[:16]
    return f"{phenomenon}#{digest}"


@dataclass(frozen=True)
class SuggestionSeen:
    """A suggestion index item: the first suggestion of its kind and when it was made."""

    first: str
    at: datetime


def match_suggestion(
    by_text: SuggestionSeen | None,
    by_area: SuggestionSeen | None,
    now: datetime,
    policy: RepeatPolicy = POLICY,
) -> tuple[str, str] | None:
    """(the first suggestion, `same_text` | `same_phenomenon_area`) within the window."""
    for seen, rule in ((by_text, "same_text"), (by_area, "same_phenomenon_area")):
        if seen is not None and now - seen.at <= policy.suggestion_window:
            return seen.first, rule
    return None
