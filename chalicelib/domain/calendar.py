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

Since issue 13 the official arrangement of a year the package does not know arrives as data too:
one file per year (``<year>.json`` in a folder the caller names; the shipped one is
``chalicelib/catalog/calendar/``) with the State Council's holidays and make-up working days,
validated at load. Such a year counts as official. A year with neither is still computed — with
the ``holidays`` package's estimate, weekends and holidays only — and says so: ``official_note``
gives ``{official: false, years: [...]}`` for a span of time, which ``/sla/preview`` and each new
ticket (``deadlineCalendar``) carry.

Pure domain code: no AWS, no environment reads; the overrides path and folder are passed in.
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
SOURCE_ARRANGEMENT: Final = "arrangement"  # a year file of the official arrangement (issue 13)

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


# -- issue 13 (calendar): the official arrangement of a year, one file per year --------------

ARRANGEMENT_KEYS: Final = frozenset({"year", "source", "holidays", "workdays"})


@dataclass(frozen=True)
class YearArrangement:
    """The State Council's arrangement for one year: days off (放假) and make-up working days
    (调休上班), with the notice they come from."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str
    path: str | None = None

    def working(self) -> frozenset[date]:
        return frozenset(
            d
            for d in _days_of_year(self.year)
            if (d.weekday() < 5 and d not in self.holidays) or d in self.workdays
        )


def load_arrangement(path: str | Path) -> YearArrangement:
    """Read and validate ``<year>.json``; every error names the file and the bad entry.

    The file's year is its name and its ``year``; every date is in that year, written
    YYYY-MM-DD, listed once; no day is both a holiday and a make-up working day; a make-up
    working day falls on a Saturday or Sunday (a weekday already is one); ``holidays`` is not
    empty and ``source`` names the notice."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarError(f"{p}: cannot read the year's arrangement: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CalendarError(f"{p}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CalendarError(f"{p}: expected an object with {sorted(ARRANGEMENT_KEYS)}")
    unknown = sorted(set(raw) - ARRANGEMENT_KEYS)
    missing = sorted(ARRANGEMENT_KEYS - set(raw))
    if unknown or missing:
        raise CalendarError(f"{p}: unknown key(s) {unknown}, missing key(s) {missing}")
    year = raw["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9998:
        raise CalendarError(f"{p}: 'year' must be a year number (1900-9998), got {year!r}")
    if p.stem != str(year):
        raise CalendarError(f"{p}: the file of year {year} must be named {year}.json")
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise CalendarError(f"{p}: 'source' must name the notice the dates come from")
    parsed: dict[str, frozenset[date]] = {}
    for key in ("holidays", "workdays"):
        entries = raw[key]
        if not isinstance(entries, list):
            raise CalendarError(f"{p}: '{key}' must be a list of YYYY-MM-DD strings")
        days = [_parse_day(v, f"{p}: {key}[{i}]") for i, v in enumerate(entries)]
        for i, day in enumerate(days):
            if day.year != year:
                raise CalendarError(f"{p}: {key}[{i}]: {day.isoformat()} is not in {year}")
            if day in days[:i]:
                raise CalendarError(f"{p}: {key}[{i}]: {day.isoformat()} is listed twice")
            if key == "workdays" and day.weekday() < 5:
                raise CalendarError(
                    f"{p}: {key}[{i}]: {day.isoformat()} is a weekday; a make-up working day "
                    "falls on a Saturday or Sunday"
                )
        parsed[key] = frozenset(days)
    if not parsed["holidays"]:
        raise CalendarError(f"{p}: 'holidays' is empty; a year's arrangement has holidays")
    both = sorted(parsed["holidays"] & parsed["workdays"])
    if both:
        raise CalendarError(f"{p}: {both[0].isoformat()} is listed as both holiday and workday")
    return YearArrangement(year, parsed["holidays"], parsed["workdays"], source.strip(), str(p))


def load_arrangements(directory: str | Path | None) -> dict[int, YearArrangement]:
    """Every ``<year>.json`` of ``directory`` (other files, e.g. a README, are ignored)."""
    if directory is None:
        return {}
    folder = Path(directory)
    if not folder.is_dir():
        raise CalendarError(f"{folder}: the calendar arrangements folder is missing")
    found = [load_arrangement(path) for path in sorted(folder.glob("*.json"))]
    return {a.year: a for a in found}


@dataclass(frozen=True)
class _Year:
    working: frozenset[date]
    source: str


class BusinessCalendar:
    """Working days in mainland China, with per-year caches so lookups are a set membership."""

    def __init__(
        self,
        overrides: CalendarOverrides | None = None,
        arrangements: dict[int, YearArrangement] | None = None,
    ) -> None:
        self.overrides = overrides
        self.arrangements = dict(arrangements or {})
        self._years: dict[int, _Year] = {}

    # -- issue 13 (calendar): which years have official data
    def official(self, year: int) -> bool:
        """Whether ``year`` is counted on official data: its arrangement file, or the package."""
        if year in self.arrangements:
            return True
        return OFFICIAL_RANGE is not None and OFFICIAL_RANGE[0] <= year <= OFFICIAL_RANGE[1]

    def unofficial_years(self, first: int, last: int) -> list[int]:
        """The years of ``first..last`` counted without official data (estimated)."""
        return [y for y in range(first, last + 1) if not self.official(y)]

    def official_note(self, start: datetime, *ends: datetime | None) -> dict[str, Any]:
        """``{official, years}`` for deadlines counted from ``start`` to ``ends``: ``official``
        is false when a year on the way has no official data, and ``years`` lists them."""
        last = max((e for e in ends if e is not None), default=start)
        first_year, last_year = to_shanghai(start).year, to_shanghai(last).year
        years = self.unofficial_years(first_year, max(first_year, last_year))
        return {"official": not years, "years": years}

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
            "arrangementYears": sorted(self.arrangements),
        }

    def _load_year(self, year: int) -> _Year:
        arrangement = self.arrangements.get(year)
        built = (
            _Year(arrangement.working(), SOURCE_ARRANGEMENT)
            if arrangement is not None
            else self._official_year(year)
        )
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


def default_calendar(
    overrides_path: str | None = None, arrangements_dir: str | Path | None = None
) -> BusinessCalendar:
    """One shared calendar per overrides path and arrangements folder, so the per-year caches
    are built once."""
    folder = str(arrangements_dir) if arrangements_dir else None
    return _calendar_for(overrides_path or None, folder)


@lru_cache(maxsize=8)
def _calendar_for(overrides_path: str | None, arrangements_dir: str | None) -> BusinessCalendar:
    return BusinessCalendar(
        load_overrides(overrides_path) if overrides_path else None,
        load_arrangements(arrangements_dir),
    )
