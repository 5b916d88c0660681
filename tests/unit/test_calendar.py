"""The business calendar on known dates (National Day and Spring Festival 2026, New Year 2027),
the overrides file, the year-9999 edge, and properties over 1900–2200."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendar import (
    MAX_INSTANT,
    OFFICIAL_RANGE,
    SHANGHAI,
    BusinessCalendar,
    CalendarError,
    add_clock_time,
    default_calendar,
    load_overrides,
)

CAL = BusinessCalendar()  # shared: its per-year cache is what makes the properties fast


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 20), True),  # Sunday, make-up working day for National Day
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # Monday inside Golden Week
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),
        (date(2026, 2, 14), True),  # Saturday, make-up day before Spring Festival
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),  # Monday, last day of the Spring Festival break
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up day after Spring Festival
        (date(2027, 1, 1), False),  # New Year 2027, from the holidays package
        (date(2027, 1, 4), True),
    ],
)
def test_working_days_on_known_dates(day: date, working: bool) -> None:
    # GIVEN the packaged calendar WHEN asking about a known date THEN the official answer
    assert CAL.is_working_day(day) is working


def test_official_range_is_read_from_chinese_calendar() -> None:
    # GIVEN chinese_calendar 1.11 WHEN its range is read THEN 2004..2026 and sources follow it
    assert OFFICIAL_RANGE == (2004, 2026)
    assert CAL.source(date(2026, 12, 31)) == "official"
    assert CAL.source(date(2027, 1, 4)) == "holidays-package"
    assert CAL.source(date(2003, 6, 2)) == "holidays-package"


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (sh(2026, 9, 30, 10), 0, sh(2026, 9, 30, 10)),
        (sh(2026, 9, 30, 10), 1, sh(2026, 10, 8, 10)),  # over the whole Golden Week
        (sh(2026, 9, 30, 10), 3, sh(2026, 10, 10, 10)),  # lands on the make-up Saturday
        (sh(2026, 9, 30, 10), 4, sh(2026, 10, 12, 10)),
        (sh(2026, 2, 13, 9, 30), 1, sh(2026, 2, 14, 9, 30)),  # make-up Saturday
        (sh(2026, 2, 13, 9, 30), 2, sh(2026, 2, 24, 9, 30)),  # over Spring Festival
        (sh(2026, 12, 30, 10), 5, sh(2027, 1, 7, 10)),  # level E over New Year 2027
        # starting on a non-working day: day 1 is the next working day, until its end
        (sh(2026, 10, 3, 1), 1, datetime(2026, 10, 8, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
        # an aware start in another zone is counted in Shanghai local time
        (datetime(2026, 9, 30, 2, tzinfo=UTC), 1, sh(2026, 10, 8, 10)),
    ],
)
def test_add_business_days_table(start: datetime, days: int, expected: datetime) -> None:
    # GIVEN an acceptance instant WHEN adding business days THEN the known deadline, in Shanghai
    result = CAL.add_business_days(start, days)
    assert result == expected
    assert result.tzinfo == SHANGHAI


def test_clock_time_crosses_midnight_and_holidays() -> None:
    # GIVEN 23:00 on National Day WHEN two clock hours pass THEN 01:00 next day (holidays ignored)
    assert add_clock_time(sh(2026, 10, 1, 23), timedelta(hours=2)) == sh(2026, 10, 2, 1)
    assert add_clock_time(datetime(2026, 10, 1, 15, tzinfo=UTC), timedelta(hours=2)) == sh(
        2026, 10, 2, 1
    )


def test_bad_arguments_raise_calendar_error() -> None:
    # GIVEN a naive datetime or a negative count WHEN adding THEN CalendarError (a ValueError)
    with pytest.raises(CalendarError, match="timezone-aware"):
        CAL.add_business_days(datetime(2026, 1, 5, 9), 1)
    with pytest.raises(CalendarError, match="non-negative"):
        CAL.add_business_days(sh(2026, 1, 5, 9), -1)


def test_next_working_day_skips_golden_week() -> None:
    # GIVEN the eve of National Day WHEN asking for the next working day THEN Oct 8
    assert CAL.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)


def test_year_9999_is_clamped_not_raised() -> None:
    # GIVEN the last days Python can represent WHEN counting past them THEN the maximum instant
    assert CAL.add_business_days(sh(9999, 12, 30, 10), 5) == MAX_INSTANT
    assert CAL.add_business_days(datetime(9999, 12, 31, 20, tzinfo=UTC), 1) == MAX_INSTANT
    assert add_clock_time(sh(9999, 12, 31, 23), timedelta(hours=2)) == MAX_INSTANT
    assert CAL.next_working_day(date.max) == date.max
    assert isinstance(CAL.is_working_day(date.min), bool)


def test_fallback_warns_once_per_year(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a year no package has an official schedule for
    caplog.set_level(logging.WARNING, logger="chalicelib.domain.calendar")
    # WHEN two calendars look at several of its days
    for cal in (BusinessCalendar(), BusinessCalendar()):
        cal.is_working_day(date(3001, 3, 1))
        cal.is_working_day(date(3001, 7, 1))
    # THEN exactly one warning names it
    assert len([r for r in caplog.records if "3001" in r.getMessage()]) == 1


def write(tmp_path: Path, payload: object, name: str = "overrides.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)
    return path


def test_overrides_add_a_2027_holiday_and_make_up_day(tmp_path: Path) -> None:
    # GIVEN an overrides file announcing 2027-01-04 off and Saturday 2027-01-09 a make-up day
    path = write(
        tmp_path,
        {"holidays": ["2027-01-04"], "workdays": ["2027-01-09"], "source": "test notice"},
    )
    cal = BusinessCalendar(load_overrides(path))
    # WHEN asking about those days THEN the override decides, and says so
    assert not cal.is_working_day(date(2027, 1, 4))
    assert cal.is_working_day(date(2027, 1, 9))
    assert cal.source(date(2027, 1, 4)) == "override"
    assert cal.source(date(2027, 1, 5)) == "holidays-package"
    # AND counting from 2026-12-30 skips Jan 1 and Jan 4 and reaches the make-up Saturday
    assert cal.add_business_days(sh(2026, 12, 30, 10), 5) == sh(2027, 1, 8, 10)
    assert cal.add_business_days(sh(2026, 12, 30, 10), 6) == sh(2027, 1, 9, 10)
    assert cal.describe()["overrides"]["source"] == "test notice"


def test_overrides_can_override_official_years(tmp_path: Path) -> None:
    # GIVEN an override turning an official working day into a holiday
    cal = BusinessCalendar(load_overrides(write(tmp_path, {"holidays": ["2026-10-08"]})))
    # WHEN counting over National Day THEN Oct 9 is day 1
    assert cal.add_business_days(sh(2026, 9, 30, 10), 1) == sh(2026, 10, 9, 10)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"holidays": ["2027-01-01", "2027-02-30"]}, r"holidays\[1\]: '2027-02-30'"),
        ({"workdays": [20270207]}, r"workdays\[0\]: 20270207 is not a date string"),
        ({"workdays": ["20270207"]}, r"workdays\[0\]: '20270207' must be written YYYY-MM-DD"),
        ({"holidays": "2027-01-01"}, "'holidays' must be a list"),
        ({"holiday": []}, r"unknown key\(s\) \['holiday'\]"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both holiday and workday"),
        ({"source": 3}, "'source' must be a string"),
        ("{not json", "not valid JSON"),
        ([], "expected an object"),
    ],
)
def test_bad_overrides_file_names_the_entry(tmp_path: Path, payload: object, message: str) -> None:
    # GIVEN a malformed overrides file WHEN loading it THEN the error names the file and entry
    path = write(tmp_path, payload, "bad.json")
    with pytest.raises(CalendarError, match=message) as info:
        load_overrides(path)
    assert "bad.json" in str(info.value)


def test_default_calendar_is_cached_per_path(tmp_path: Path) -> None:
    # GIVEN an overrides path WHEN asking twice THEN the same calendar (and caches) come back
    path = str(write(tmp_path, {"holidays": ["2027-01-04"]}))
    assert default_calendar(path) is default_calendar(path)
    assert default_calendar() is default_calendar(None)
    assert default_calendar(path) is not default_calendar()


# --- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
STARTS = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=ZONES
)
DAYS = st.integers(min_value=0, max_value=40)


@settings(max_examples=300, deadline=None)
@given(start=STARTS, days=DAYS)
def test_deadline_never_before_start(start: datetime, days: int) -> None:
    # GIVEN any start and count WHEN adding business days THEN the deadline is not earlier
    assert CAL.add_business_days(start, days) >= start


@settings(max_examples=300, deadline=None)
@given(a=STARTS, b=STARTS, days=DAYS)
def test_later_start_never_gives_earlier_deadline(a: datetime, b: datetime, days: int) -> None:
    # GIVEN two starts in order WHEN adding the same count THEN the deadlines keep that order
    first, second = sorted((a, b))
    assert CAL.add_business_days(first, days) <= CAL.add_business_days(second, days)


@settings(max_examples=200, deadline=None)
@given(start=STARTS, days=DAYS, more=st.integers(min_value=0, max_value=20))
def test_more_days_never_earlier(start: datetime, days: int, more: int) -> None:
    # GIVEN a start WHEN adding more business days THEN the deadline never moves earlier
    assert CAL.add_business_days(start, days) <= CAL.add_business_days(start, days + more)


@settings(max_examples=300, deadline=None)
@given(start=STARTS, days=st.integers(min_value=1, max_value=40))
def test_business_day_deadline_falls_on_a_working_day(start: datetime, days: int) -> None:
    # GIVEN at least one business day WHEN computing the deadline THEN it is on a working day
    result = CAL.add_business_days(start, days)
    assert result.tzinfo == SHANGHAI
    assert CAL.is_working_day(result.date())


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_no_date_in_1900_to_2200_raises(day: date) -> None:
    # GIVEN any date of three centuries WHEN using every calendar query THEN nothing raises
    assert isinstance(CAL.is_working_day(day), bool)
    assert CAL.source(day) in {"official", "holidays-package"}
    assert CAL.next_working_day(day) > day
