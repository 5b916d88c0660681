"""The value types every model, the storage layer and the blacklist share (domain/values.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import values
from chalicelib.domain.values import ValueRejected


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=datetime(2100, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-11, minutes=-30))]
        ),
    )
)
def test_every_acceptable_instant_round_trips_through_its_stored_form(at: datetime) -> None:
    # GIVEN an instant the API accepts, written as a client would
    accepted = values.parse_instant(at.isoformat())
    # WHEN it is stored and read back
    stored = values.storage_time(accepted)
    # THEN the stored form has a fixed width, sorts as time, and reads back as the same instant
    assert len(stored) == len("2026-01-01T00:00:00.000000Z")
    assert values.parse_storage_time(stored) == accepted
    # and its API rendering is an RFC 3339 date-time with a whole-minute offset
    assert values.iso(accepted).endswith("+08:00")


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00Z",
        "0026-11-20T10:00:00+08:00",
        "0894-02-09T23:53:34.75+08:00",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-11-20T10:00:00",  # no offset
        "2026-11-20T10:00:00+08:00:30",  # seconds in the offset
        "2026-11-20T10:00:00+15:00",
        "２０２６-11-20T10:00:00Z",  # full-width digits
        "yesterday",
    ],
)
def test_instants_outside_the_window_or_without_offset_are_refused(raw: str) -> None:
    with pytest.raises(ValueRejected):
        values.parse_instant(raw)


def test_storage_time_pads_years_below_1000() -> None:
    # glibc's strftime("%Y") would write "1-01-01"
    assert values.storage_time(datetime(1, 1, 1, tzinfo=UTC)).startswith("0001-01-01T")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013.8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits fold to ASCII
        ("(0592) 520-1234", "05925201234"),
        ("010 12345678", "01012345678"),
    ],
)
def test_phone_numbers_have_one_spelling(raw: str, canonical: str) -> None:
    assert values.normalize_phone(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    ["1390000004٠", "139０000004x", "12800138000", "1380013800", "+1 13800138000", "", "0086"],
)
def test_other_digits_and_shapes_are_refused(raw: str) -> None:
    # `1390000004٠` (an Arabic-Indic zero) must not slip past the blacklisted 13900000040
    with pytest.raises(ValueRejected):
        values.normalize_phone(raw)


@pytest.mark.parametrize(
    "raw", ["a\ud83db", "bell\x07", "nul\x00", "esc\x1b[0m", "c1\x85"], ids=repr
)
def test_text_with_lone_surrogates_or_control_characters_is_refused(raw: str) -> None:
    with pytest.raises(ValueRejected):
        values.clean_text(raw, 100)


def test_text_is_nfc_normalised_trimmed_and_keeps_newlines_and_tabs() -> None:
    assert values.clean_text("  Cafe\u0301\n\tok  ", 100) == "Café\n\tok"
    with pytest.raises(ValueRejected):
        values.clean_text("   ", 100)
    with pytest.raises(ValueRejected):
        values.clean_text("x" * 101, 100)


@pytest.mark.parametrize(
    "number", [float("nan"), float("inf"), -float("inf"), 10**400, 2**53, 1e16]
)
def test_numbers_must_be_finite_and_bounded(number: float) -> None:
    with pytest.raises(ValueRejected):
        values.check_number(number)


def test_numbers_within_bounds_pass() -> None:
    assert values.check_number(10**15) == 10**15
    assert values.check_number(-1.5e15 / 2) == -7.5e14


def test_json_depth_counts_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    assert values.json_depth(deep) > values.MAX_JSON_DEPTH
    assert values.raw_json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert values.raw_json_depth(b"[" * 10_000 + b"]" * 10_000) == 10_000
