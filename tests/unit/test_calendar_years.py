"""Issue 13 item 3: the official arrangement of a year arrives as a validated file, and deadlines
counted without official data say so."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from chalicelib.catalog import CALENDAR_DIRECTORY
from chalicelib.domain.calendar import (
    SHANGHAI,
    BusinessCalendar,
    CalendarError,
    load_arrangement,
    load_arrangements,
)
from infra import calendar_check

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "calendar"  # 2027: invented dates


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture(scope="module")
def with_2027() -> BusinessCalendar:
    return BusinessCalendar(arrangements=load_arrangements(FIXTURES))


def test_a_year_file_sets_holidays_and_make_up_days(with_2027: BusinessCalendar) -> None:
    # GIVEN the fixture's 2027: Feb 8-12 off, Saturdays Feb 6 and Feb 20 worked
    cal = with_2027
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.is_working_day(date(2027, 2, 6))
    assert cal.is_working_day(date(2027, 2, 20))
    assert not cal.is_working_day(date(2027, 2, 7))  # a plain Sunday
    assert cal.is_working_day(date(2027, 2, 15))  # a plain Monday
    assert cal.source(date(2027, 2, 8)) == "arrangement"
    # AND counting crosses the break: Fri Feb 5 + 1 business day is the make-up Saturday,
    # + 2 is Monday Feb 15
    assert cal.add_business_days(sh(2027, 2, 5, 10), 1) == sh(2027, 2, 6, 10)
    assert cal.add_business_days(sh(2027, 2, 5, 10), 2) == sh(2027, 2, 15, 10)
    # AND the year counts as official
    assert cal.official(2027) and cal.describe()["arrangementYears"] == [2027]


def test_without_the_file_2027_is_an_estimate() -> None:
    cal = BusinessCalendar()
    assert cal.official(2026) and not cal.official(2027)
    assert cal.source(date(2027, 3, 1)) == "holidays-package"
    # the estimate knows no make-up day: Saturday Feb 6 is off
    assert not cal.is_working_day(date(2027, 2, 6))


@pytest.mark.parametrize(
    ("start", "ends", "note"),
    [
        # within 2026 (chinese_calendar): official
        (sh(2026, 6, 1, 10), (sh(2026, 6, 2, 10), None), {"official": True, "years": []}),
        # a deadline that reaches 2027, which has no official data
        (sh(2026, 12, 30, 10), (sh(2027, 1, 4, 10),), {"official": False, "years": [2027]}),
        (sh(2027, 3, 1, 10), (sh(2028, 1, 3, 10),), {"official": False, "years": [2027, 2028]}),
        # no end at all: the start's year alone
        (sh(2027, 3, 1, 10), (None,), {"official": False, "years": [2027]}),
    ],
)
def test_the_official_note_names_the_years_without_official_data(
    start: datetime, ends: tuple[datetime | None, ...], note: dict[str, object]
) -> None:
    assert BusinessCalendar().official_note(start, *ends) == note


def test_with_the_year_file_the_note_is_official(with_2027: BusinessCalendar) -> None:
    note = with_2027.official_note(sh(2026, 12, 30, 10), sh(2027, 1, 4, 10))
    assert note == {"official": True, "years": []}


GOOD = json.loads((FIXTURES / "2027.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holidays": ["2026-12-31"]}, r"holidays\[0\]: 2026-12-31 is not in 2027"),
        ({"workdays": ["2028-01-08"]}, r"workdays\[0\]: 2028-01-08 is not in 2027"),
        (
            {"holidays": ["2027-02-07", "2027-02-08"], "workdays": ["2027-02-07"]},
            "2027-02-07 is listed as both holiday and workday",
        ),
        ({"workdays": ["2027-02-05"]}, r"workdays\[0\]: 2027-02-05 is a weekday"),
        ({"holidays": ["2027-01-01", "2027-01-01"]}, r"holidays\[1\]: 2027-01-01 is listed twice"),
        ({"holidays": []}, "'holidays' is empty"),
        ({"holidays": ["2027-02-30"]}, r"holidays\[0\]: '2027-02-30' is not a valid date"),
        ({"holidays": "2027-01-01"}, "'holidays' must be a list"),
        ({"year": 2028}, "must be named 2028.json"),
        ({"year": "2027"}, "'year' must be a year number"),
        ({"source": " "}, "'source' must name the notice"),
        ({"notes": "x"}, r"unknown key\(s\) \['notes'\]"),
    ],
)
def test_a_bad_year_file_is_refused_naming_the_entry(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    # GIVEN the fixture with one mistake
    path = tmp_path / "2027.json"
    path.write_text(json.dumps({**GOOD, **change}), encoding="utf-8")
    # WHEN loaded THEN the error names the file and the entry
    with pytest.raises(CalendarError, match=message) as info:
        load_arrangement(path)
    assert "2027.json" in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("2027.json", "{not json", "not valid JSON"),
        ("2027.json", "[]", "expected an object"),
        ("2027.json", json.dumps({k: v for k, v in GOOD.items() if k != "workdays"}), "missing"),
        ("year.json", json.dumps(GOOD), "must be named 2027.json"),
    ],
)
def test_a_malformed_year_file_is_refused(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message):
        load_arrangements(tmp_path)


def test_the_shipped_folder_loads_and_other_files_are_ignored(tmp_path: Path) -> None:
    # GIVEN the shipped folder (a README, and a file per year once announced) / THEN it loads
    shipped = load_arrangements(CALENDAR_DIRECTORY)
    assert all(year == a.year for year, a in shipped.items())
    # AND a README next to the year files is not read as one
    shutil.copy(FIXTURES / "2027.json", tmp_path / "2027.json")
    (tmp_path / "README.md").write_text("# notes", encoding="utf-8")
    assert list(load_arrangements(tmp_path)) == [2027]
    with pytest.raises(CalendarError, match="folder is missing"):
        load_arrangements(tmp_path / "nowhere")


def test_calendar_check_lists_the_years_without_official_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no file for 2027 WHEN checking 2026-2027 THEN 2027 is listed and the exit status is 1
    assert calendar_check.main(["--from", "2026", "--to", "2027", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "2026: chinese_calendar" in out and "2027: ESTIMATE" in out
    assert "years without official data: 2027" in out
    # GIVEN the year file WHEN checking again THEN every year is official (exit 0)
    assert calendar_check.main(["--from", "2026", "--to", "2027", "--dir", str(FIXTURES)]) == 0
    assert "2027: arrangement (TEST FIXTURE" in capsys.readouterr().out
    # GIVEN a bad file THEN exit 2 naming it
    (tmp_path / "2027.json").write_text("{}", encoding="utf-8")
    assert calendar_check.main(["--dir", str(tmp_path)]) == 2
    assert "2027.json" in capsys.readouterr().err
