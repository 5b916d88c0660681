"""The Chinese business calendar that every "N business days" time limit is counted on.

Complaint time limits (DOMAIN.md §5) skip weekends and public holidays but count the official
make-up working days (调休上班), so a plain weekday test is wrong around every Golden Week. The
data comes from three places, in order of precedence:

1. an overrides file (JSON, path chosen by the caller) — for a year the State Council has
   announced but the installed packages do not know yet, or for a local exception;
2. ``chinese_calendar`` — the official schedules, make-up days included, for the years it ships
   (its range is read from its own data; it raises ``NotImplementedError`` outside it);
3. the ``holidays`` package's China rules — a best guess for any other year: holidays only, no
   make-up working days, so a warning is logged once per year that falls back to it.

Pure domain code: no AWS, no environment reads; the overrides path is passed in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import chinese_calendar

logger = logging.getLogger(__name__)

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# The last instant Python can represent. Anything that would land later (year 9999 plus a
# limit) is clamped here instead of raising: a deadline 8000 years out is "never" either way.
MAX_INSTANT: Final = datetime.combine(date.max, time.max, tzinfo=SHANGHAI)

SOURCE_OFFICIAL: Final = "official"
SOURCE_OVERRIDE: Final = "override"
SOURCE_FALLBACK: Final = "holidays-package"

# Years already warned about, process-wide, so a long-running Lambda logs each gap once.
_warned_years: set[int] = set()


class CalendarError(ValueError):
    """A bad overrides file or a bad argument (naive datetime, negative day count)."""


@dataclass(frozen=True)
class CalendarOverrides:
    """Days that override the packaged data: extra holidays and extra (make-up) working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    source: str = ""
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }


def _official_range() -> tuple[int, int] | None:
    """The years chinese_calendar has data for, read from the package rather than hard-coded."""
    try:
        years = [d.year for d in chinese_calendar.holidays]
    except Exception:  # pragma: no cover - a future package layout; fall back to probing only
        return None
    return (min(years), max(years)) if years else None


OFFICIAL_RANGE: Final = _official_range()


def _days_of_year(year: int) -> Iterable[date]:
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    return (date.fromordinal(o) for o in range(first, last + 1))


def _parse_day(value: object, where: str) -> date:
    if not isinstance(value, str):
        raise CalendarError(f"{where}: {value!r} is not a date string (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a valid date (YYYY-MM-DD)") from None
    if len(value) != 10:  # fromisoformat also takes "20270101"; keep the file unambiguous
        raise CalendarError(f"{where}: {value!r} must be written YYYY-MM-DD")
    return day


def load_overrides(path: str | Path) -> CalendarOverrides:
    """Read and validate an overrides file; every error names the file and the bad entry."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarError(f"{p}: cannot read calendar overrides: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CalendarError(f"{p}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CalendarError(f"{p}: expected an object with 'holidays', 'workdays', 'source'")
    unknown = sorted(set(raw) - {"holidays", "workdays", "source"})
    if unknown:
        raise CalendarError(f"{p}: unknown key(s) {unknown}; allowed: holidays, workdays, source")
    parsed: dict[str, frozenset[date]] = {}
    for key in ("holidays", "workdays"):
        entries = raw.get(key, [])
        if not isinstance(entries, list):
            raise CalendarError(f"{p}: '{key}' must be a list of YYYY-MM-DD strings")
        parsed[key] = frozenset(_parse_day(v, f"{p}: {key}[{i}]") for i, v in enumerate(entries))
    both = sorted(parsed["holidays"] & parsed["workdays"])
    if both:
        raise CalendarError(f"{p}: {both[0].isoformat()} is listed as both holiday and workday")
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise CalendarError(f"{p}: 'source' must be a string (where the dates come from)")
    return CalendarOverrides(parsed["holidays"], parsed["workdays"], source, str(p))


@dataclass(frozen=True)
class _Year:
    working: frozenset[date]
    source: str


class BusinessCalendar:
    """Working days in mainland China, with per-year caches so lookups are a set membership."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides
        self._years: dict[int, _Year] = {}

    def is_working_day(self, day: date) -> bool:
        year = self._years.get(day.year) or self._load_year(day.year)
        return day in year.working

    def source(self, day: date) -> str:
        """Which data decided ``day``: "official", "override" or "holidays-package"."""
        ov = self.overrides
        if ov is not None and (day in ov.holidays or day in ov.workdays):
            return SOURCE_OVERRIDE
        year = self._years.get(day.year) or self._load_year(day.year)
        return year.source

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``; ``date.max`` if the calendar ends first."""
        current = day
        while current < date.max:
            current += timedelta(days=1)
            if self.is_working_day(current):
                return current
        return date.max

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the ``days``-th working day after ``start`` (Asia/Shanghai).

        ``0`` returns ``start`` itself. When ``start`` falls on a non-working day, counting still
        begins from it (the first following working day is day 1) but the deadline is the *end*
        of day N rather than the same wall time: the literal rule would let a later start get an
        earlier deadline (Fri 23:00 → Mon 23:00, but Sat 01:00 → Mon 01:00). Results past the
        year 9999 are clamped to ``MAX_INSTANT``.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise CalendarError("start must be timezone-aware")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise CalendarError(f"days must be a non-negative integer, got {days!r}")
        local = to_shanghai(start)
        if days == 0:
            return local
        day = local.date()
        started_on_working_day = self.is_working_day(day)
        for _ in range(days):
            nxt = self.next_working_day(day)
            if nxt == day or (nxt == date.max and not self.is_working_day(nxt)):
                return MAX_INSTANT
            day = nxt
        if not started_on_working_day:
            return datetime.combine(day, time.max, tzinfo=SHANGHAI)
        return local.replace(year=day.year, month=day.month, day=day.day)

    def describe(self) -> dict[str, Any]:
        """What this calendar is built from, for API responses (``GET /sla/preview``)."""
        official = OFFICIAL_RANGE
        return {
            "timeZone": "Asia/Shanghai",
            "officialYears": list(official) if official else None,
            "fallback": "holidays package China rules (no make-up working days)",
            "overrides": self.overrides.to_json() if self.overrides else None,
        }

    def _load_year(self, year: int) -> _Year:
        built = self._official_year(year)
        if built is None:
            built = self._fallback_year(year)
        ov = self.overrides
        if ov is not None:
            working = set(built.working)
            working.difference_update(d for d in ov.holidays if d.year == year)
            working.update(d for d in ov.workdays if d.year == year)
            built = _Year(frozenset(working), built.source)
        self._years[year] = built
        return built

    @staticmethod
    def _official_year(year: int) -> _Year | None:
        if OFFICIAL_RANGE is not None and not OFFICIAL_RANGE[0] <= year <= OFFICIAL_RANGE[1]:
            return None
        try:
            working = frozenset(d for d in _days_of_year(year) if chinese_calendar.is_workday(d))
        except NotImplementedError:
            return None
        return _Year(working, SOURCE_OFFICIAL)

    def _fallback_year(self, year: int) -> _Year:
        covered = self.overrides is not None and any(
            d.year == year for d in self.overrides.holidays | self.overrides.workdays
        )
        if year not in _warned_years and not covered:
            _warned_years.add(year)
            logger.warning(
                "No official holiday schedule for %d: using the holidays package's China rules "
                "(no make-up working days). Add the State Council notice to the calendar "
                "overrides file.",
                year,
            )
        try:
            import holidays as holidays_pkg  # deferred: only years past the official data need it

            off = set(holidays_pkg.country_holidays("CN", years=year))
        except Exception:  # the package must never make a date raise; weekends still count
            logger.exception("holidays package failed for %d; counting weekends only", year)
            off = set()
        working = frozenset(d for d in _days_of_year(year) if d.weekday() < 5 and d not in off)
        return _Year(working, SOURCE_FALLBACK)


def to_shanghai(instant: datetime) -> datetime:
    """``instant`` in Asia/Shanghai, clamped to ``MAX_INSTANT`` when the shift overflows."""
    try:
        return instant.astimezone(SHANGHAI)
    except OverflowError:
        # Only the two ends of the calendar overflow; at the low end keep the wall time.
        return MAX_INSTANT if instant.year > 1 else instant.replace(tzinfo=SHANGHAI)


def add_clock_time(start: datetime, delta: timedelta) -> datetime:
    """``start + delta`` in absolute time, in Asia/Shanghai, clamped instead of overflowing."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise CalendarError("start must be timezone-aware")
    try:
        return (start.astimezone(UTC) + delta).astimezone(SHANGHAI)
    except OverflowError:
        pass
    try:  # year 1 cannot go through UTC (it would be year 0); wall-clock add is exact enough
        return to_shanghai(start) + delta
    except OverflowError:
        return MAX_INSTANT


def default_calendar(overrides_path: str | None = None) -> BusinessCalendar:
    """One shared calendar per overrides path, so the per-year caches are built once."""
    return _calendar_for(overrides_path or None)


@lru_cache(maxsize=8)
def _calendar_for(overrides_path: str | None) -> BusinessCalendar:
    return BusinessCalendar(load_overrides(overrides_path) if overrides_path else None)
