"""SLA policies as data: which level a ticket gets, when it is due, and the workflow's clocks.

The sources disagree (handbook A–F levels, the training manual's 4 levels, Gansu's by-type
limits — DOMAIN.md §5), so limits are never constants in code: each deployment picks a JSON policy
from ``chalicelib/catalog/sla/`` or a path (``SLA_POLICY``, read elsewhere). A demo policy makes
every limit a few seconds so the whole escalation ladder can be watched in a minute.

A policy file is validated when loaded; a bad one fails fast with ``SlaPolicyError`` naming the
file and the entry, so a typo never turns into a silently wrong deadline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from chalicelib.domain.calendar import BusinessCalendar, add_clock_time
from chalicelib.domain.vocabulary import CHANNELS

LEVELS: Final = ("A", "B", "C", "D", "E", "F")
UNITS: Final = ("seconds", "minutes", "hours", "businessDays")
STEPS: Final = ("review", "dispatch", "accept", "handle", "reply", "revisit", "archive")
LADDER_LEVELS: Final = 4  # handler dept admin, CRC complaint manager, company leader, VP
EMERGENCY_DUTIES: Final = ("approvalFormToCrc", "leaderApproval")
CATEGORIES: Final = (
    "basic_communication", "information_security", "business_support", "communication_charges",
    "monternet", "own_services", "marketing", "service_quality", "enterprise_services",
    "service_12580",
)  # fmt: skip
POLICY_DIR: Final = Path(__file__).resolve().parent.parent / "catalog" / "sla"

_SECONDS_PER_UNIT: Final = {"seconds": 1, "minutes": 60, "hours": 3600}
_TOP_KEYS: Final = {
    "name", "title", "basis", "notes", "levels", "channels", "sources", "categories", "steps",
    "warnings", "ladderGrace", "emergencyDuties", "customerProgress",
}  # fmt: skip
_RULE_KEYS: Final = {"due", "progress", "final", "level", "note"}


class SlaPolicyError(ValueError):
    """A policy file or a policy lookup is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Duration:
    """A time limit: clock time (seconds/minutes/hours) or business days on the calendar."""

    unit: str
    amount: int

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise SlaPolicyError(f"unknown duration unit {self.unit!r}; expected one of {UNITS}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise SlaPolicyError(f"duration amount must be an integer >= 0, got {self.amount!r}")

    @classmethod
    def from_json(cls, raw: object, where: str = "duration") -> Duration:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise SlaPolicyError(f"{where}: expected exactly one of {UNITS}, e.g. {{'hours': 2}}")
        ((unit, amount),) = raw.items()
        try:
            return cls(unit, amount)
        except SlaPolicyError as exc:
            raise SlaPolicyError(f"{where}: {exc}") from None

    def after(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        if self.unit == "businessDays":
            return calendar.add_business_days(start, self.amount)
        return add_clock_time(start, timedelta(seconds=self.amount * _SECONDS_PER_UNIT[self.unit]))

    def nominal_seconds(self) -> int:
        """A rough length used only to rank levels by strictness (a business day ≈ 24 h)."""
        return self.amount * _SECONDS_PER_UNIT.get(self.unit, 86400)

    def to_json(self) -> dict[str, int]:
        return {self.unit: self.amount}


@dataclass(frozen=True)
class Rule:
    """One applicable limit: answer by ``due``; optional progress report and final answer."""

    due: Duration
    progress: Duration | None = None
    final: Duration | None = None
    level: str | None = None  # the laxest level a ticket under this rule may have
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"due": self.due.to_json()}
        for key in ("progress", "final"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.to_json()
        if self.level:
            out["level"] = self.level
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Deadlines:
    sla_level: str
    due_at: datetime
    progress_due_at: datetime | None
    final_due_at: datetime | None
    rule: str  # which rule decided due_at, e.g. "level:A", "channel:letter", "source:12315"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "slaLevel": self.sla_level,
            "dueAt": self.due_at.isoformat(),
            "rule": self.rule,
        }
        if self.progress_due_at is not None:
            out["progressDueAt"] = self.progress_due_at.isoformat()
        if self.final_due_at is not None:
            out["finalDueAt"] = self.final_due_at.isoformat()
        return out


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    levels: Mapping[str, Rule]
    channels: Mapping[str, Rule]
    sources: Mapping[str, Rule]
    categories: Mapping[str, Rule]
    steps: Mapping[str, Duration | str]  # a Duration, or "level" = the ticket's level deadline
    warnings: tuple[float, ...]
    ladder_grace: tuple[Duration, ...]
    emergency_duties: Mapping[str, Duration]
    title: str = ""
    basis: str = ""
    notes: tuple[str, ...] = ()
    source_aliases: Mapping[str, str] = field(default_factory=dict)  # source -> channel rule
    # How often an escalated ticket reports progress to the customer (None: no such duty).
    customer_progress: Duration | None = None

    def level_for(
        self,
        route_level: str | None,
        channel: str,
        source: str | None,
        category: str | None = None,
        override: str | None = None,
    ) -> str:
        """The ticket's SLA level.

        The dispatcher's ``override`` wins outright. Otherwise start from the phenomenon route's
        level ("A" when the route has none); each channel, source or category rule that carries
        a ``level`` caps it: the result is the stricter of the two, strictness meaning the
        shorter level deadline in this policy (business days counted as 24 h; ties keep the
        current level). Channel/source rules normally tighten the *deadline*, not the level.
        """
        if override is not None:
            return self._check_level(override, "override")
        level = self._check_level(route_level or "A", "route level")
        for rule in self._rules(channel, source, category):
            if rule[1].level is not None and self._stricter(rule[1].level, level):
                level = rule[1].level
        return level

    def deadlines(
        self,
        accepted_at: datetime,
        level: str,
        channel: str,
        source: str | None,
        calendar: BusinessCalendar,
        category: str | None = None,
    ) -> Deadlines:
        """Deadlines for a ticket accepted at ``accepted_at``: the strictest applicable rule wins.

        ``due_at`` is the earliest ``due`` (or ``final``) of the level, source, channel and
        category rules. ``progress_due_at`` is the earliest progress report, never later than
        ``due_at`` (by then the customer gets an answer or a progress report).
        ``final_due_at`` is the earliest final-answer limit, if any rule has one. On ties the
        most specific rule is named: source, channel, category, then level.
        """
        self._check_level(level, "level")
        named = [*self._rules(channel, source, category), (f"level:{level}", self.levels[level])]
        due: tuple[datetime, str] | None = None
        progress: datetime | None = None
        final: datetime | None = None
        for name, rule in named:
            for limit in (rule.due, rule.final):
                if limit is not None:
                    at = limit.after(accepted_at, calendar)
                    if due is None or _instant(at) < _instant(due[0]):
                        due = (at, name)
            if rule.progress is not None:
                at = rule.progress.after(accepted_at, calendar)
                progress = at if progress is None else min(progress, at, key=_instant)
            if rule.final is not None:
                at = rule.final.after(accepted_at, calendar)
                final = at if final is None else min(final, at, key=_instant)
        assert due is not None  # the level rule always applies
        if progress is not None:
            progress = min(progress, due[0], key=_instant)
        return Deadlines(level, due[0], progress, final, due[1])

    def step_limit(self, step: str, level: str | None = None) -> Duration:
        """The time allowed for a workflow step; "level" steps need the ticket's ``level``."""
        if step not in self.steps:
            raise SlaPolicyError(f"policy {self.name!r} has no step {step!r}; known: {STEPS}")
        limit = self.steps[step]
        if isinstance(limit, Duration):
            return limit
        if level is None:
            raise SlaPolicyError(f"step {step!r} follows the ticket's level: pass level=")
        return self.levels[self._check_level(level, "level")].due

    def to_json(self) -> dict[str, Any]:
        sources: dict[str, Any] = {k: v.to_json() for k, v in self.sources.items()}
        sources.update(self.source_aliases)
        return {
            "name": self.name,
            "title": self.title,
            "basis": self.basis,
            "notes": list(self.notes),
            "levels": {k: v.to_json() for k, v in self.levels.items()},
            "channels": {k: v.to_json() for k, v in self.channels.items()},
            "sources": sources,
            "categories": {k: v.to_json() for k, v in self.categories.items()},
            "steps": {
                k: v.to_json() if isinstance(v, Duration) else v for k, v in self.steps.items()
            },
            "warnings": list(self.warnings),
            "ladderGrace": [d.to_json() for d in self.ladder_grace],
            "emergencyDuties": {k: v.to_json() for k, v in self.emergency_duties.items()},
            **(
                {"customerProgress": self.customer_progress.to_json()}
                if self.customer_progress is not None
                else {}
            ),
        }

    def _rules(
        self, channel: str, source: str | None, category: str | None
    ) -> list[tuple[str, Rule]]:
        found: list[tuple[str, Rule]] = []
        if source is not None and source in self.sources:
            found.append((f"source:{source}", self.sources[source]))
        if channel in self.channels:
            found.append((f"channel:{channel}", self.channels[channel]))
        if category is not None and category in self.categories:
            found.append((f"category:{category}", self.categories[category]))
        return found

    def _stricter(self, a: str, b: str) -> bool:
        return self.levels[a].due.nominal_seconds() < self.levels[b].due.nominal_seconds()

    def _check_level(self, level: str, what: str) -> str:
        if level not in LEVELS:
            raise SlaPolicyError(f"{what} {level!r} is not an SLA level; expected one of {LEVELS}")
        return level


def _rule(raw: object, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise SlaPolicyError(
            f"{where}: expected an object with 'due' (and optional progress/final)"
        )
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise SlaPolicyError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_RULE_KEYS)}")
    if "due" not in raw:
        raise SlaPolicyError(f"{where}: 'due' is required")
    level = raw.get("level")
    if level is not None and level not in LEVELS:
        raise SlaPolicyError(f"{where}.level: {level!r} is not one of {LEVELS}")
    opt = {k: Duration.from_json(raw[k], f"{where}.{k}") for k in ("progress", "final") if k in raw}
    return Rule(
        due=Duration.from_json(raw["due"], f"{where}.due"),
        progress=opt.get("progress"),
        final=opt.get("final"),
        level=level,
        note=str(raw.get("note", "")),
    )


def _rule_table(raw: dict[str, Any], key: str, allowed: tuple[str, ...] | None) -> dict[str, Rule]:
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise SlaPolicyError(f"{key}: expected an object")
    out: dict[str, Rule] = {}
    for name, value in table.items():
        if allowed is not None and name not in allowed:
            raise SlaPolicyError(f"{key}.{name}: unknown {key[:-1]}; expected one of {allowed}")
        if key == "sources" and isinstance(value, str):
            continue  # an alias of a channel rule, resolved by the caller
        out[name] = _rule(value, f"{key}.{name}")
    return out


def parse_policy(raw: object) -> SlaPolicy:
    """Build a policy from its JSON form; errors name the entry (the caller adds the file)."""
    if not isinstance(raw, dict):
        raise SlaPolicyError("expected a JSON object")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise SlaPolicyError(f"unknown key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SlaPolicyError("name: a non-empty string is required")
    levels = _rule_table(raw, "levels", LEVELS)
    missing = [lv for lv in LEVELS if lv not in levels]
    if missing:
        raise SlaPolicyError(f"levels: missing {missing}; every level A–F needs a 'due'")
    channels = _rule_table(raw, "channels", CHANNELS)
    sources = _rule_table(raw, "sources", None)
    aliases: dict[str, str] = {}
    for src, value in raw.get("sources", {}).items():
        if isinstance(value, str):
            if value not in channels:
                raise SlaPolicyError(
                    f"sources.{src}: {value!r} is not a channel rule of this policy"
                )
            aliases[src] = value
    categories = _rule_table(raw, "categories", CATEGORIES)
    steps = _steps(raw.get("steps"))
    warnings = raw.get("warnings", [0.5, 0.8])
    if (
        not isinstance(warnings, list)
        or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and 0 < w < 1 for w in warnings
        )
        or sorted(set(warnings)) != warnings
    ):
        raise SlaPolicyError(f"warnings: {warnings!r} must be increasing fractions between 0 and 1")
    ladder = raw.get("ladderGrace")
    if not isinstance(ladder, list) or len(ladder) != LADDER_LEVELS:
        raise SlaPolicyError(f"ladderGrace: expected {LADDER_LEVELS} durations (levels 1..4)")
    duties = raw.get("emergencyDuties")
    if not isinstance(duties, dict) or sorted(duties) != sorted(EMERGENCY_DUTIES):
        raise SlaPolicyError(f"emergencyDuties: expected exactly {list(EMERGENCY_DUTIES)}")
    notes = raw.get("notes", [])
    progress = raw.get("customerProgress")
    customer_progress = (
        None if progress is None else Duration.from_json(progress, "customerProgress")
    )
    if customer_progress is not None and customer_progress.amount == 0:
        raise SlaPolicyError("customerProgress: the interval must be longer than zero")
    return SlaPolicy(
        name=name,
        levels=MappingProxyType(levels),
        channels=MappingProxyType(channels),
        sources=MappingProxyType({**sources, **{s: channels[c] for s, c in aliases.items()}}),
        categories=MappingProxyType(categories),
        steps=MappingProxyType(steps),
        warnings=tuple(float(w) for w in warnings),
        ladder_grace=tuple(
            Duration.from_json(d, f"ladderGrace[{i}]") for i, d in enumerate(ladder)
        ),
        emergency_duties=MappingProxyType(
            {k: Duration.from_json(v, f"emergencyDuties.{k}") for k, v in duties.items()}
        ),
        title=str(raw.get("title", "")),
        basis=str(raw.get("basis", "")),
        notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (str(notes),),
        source_aliases=MappingProxyType(aliases),
        customer_progress=customer_progress,
    )


def _steps(raw: object) -> dict[str, Duration | str]:
    if not isinstance(raw, dict):
        raise SlaPolicyError(f"steps: expected an object with {list(STEPS)}")
    missing = [s for s in STEPS if s not in raw]
    unknown = sorted(set(raw) - set(STEPS))
    if missing or unknown:
        raise SlaPolicyError(f"steps: missing {missing}, unknown {unknown}; expected {list(STEPS)}")
    out: dict[str, Duration | str] = {}
    for step in STEPS:
        value = raw[step]
        out[step] = "level" if value == "level" else Duration.from_json(value, f"steps.{step}")
    return out


def policy_path(name_or_path: str | None = None) -> Path:
    """None/"default" → default.json; a bare name → the catalog file; anything else is a path."""
    name = name_or_path or "default"
    if "/" in name or "\\" in name or name.endswith(".json"):
        return Path(name)
    path = POLICY_DIR / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in POLICY_DIR.glob("*.json"))
        raise SlaPolicyError(f"no SLA policy named {name!r}; shipped policies: {known}")
    return path


def load_policy(name_or_path: str | None = None) -> SlaPolicy:
    """Load, validate and cache a policy; the error names the file and the bad entry."""
    return _load(str(policy_path(name_or_path).resolve()))


@lru_cache(maxsize=16)
def _load(path: str) -> SlaPolicy:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SlaPolicyError(f"{path}: cannot read SLA policy: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SlaPolicyError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return parse_policy(raw)
    except SlaPolicyError as exc:
        raise SlaPolicyError(f"{path}: {exc}") from None


def _instant(at: datetime) -> datetime:
    """For comparing: Python compares two times of one zone by their wall clocks, which a
    summer-time fold puts out of order (Shanghai kept summer time until 1991)."""
    return at.astimezone(UTC)
