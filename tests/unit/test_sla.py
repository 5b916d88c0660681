"""SLA policies: every shipped file loads, levels and channel/source rules give the known deadlines,
the strictest rule wins, bad files fail naming the entry, and deadlines behave over 1900–2200."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendar import SHANGHAI, BusinessCalendar
from chalicelib.domain.sla import (
    LEVELS,
    POLICY_DIR,
    Duration,
    SlaPolicyError,
    load_policy,
    parse_policy,
)

CAL = BusinessCalendar()
EVE = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)  # Wednesday before National Day 2026
SHIPPED = sorted(p.stem for p in POLICY_DIR.glob("*.json"))


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def default_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((POLICY_DIR / "default.json").read_text())
    return data


def test_the_four_policies_are_shipped() -> None:
    assert SHIPPED == ["default", "demo_seconds", "gansu", "training_manual"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_policy_loads_and_round_trips(name: str) -> None:
    # GIVEN a shipped policy WHEN loaded by name THEN it is valid, complete and round-trips
    policy = load_policy(name)
    assert policy.name == name
    assert set(policy.levels) == set(LEVELS)
    assert len(policy.ladder_grace) == 4
    assert set(policy.emergency_duties) == {"approvalFormToCrc", "leaderApproval"}
    assert policy.warnings == (0.5, 0.8)
    assert parse_policy(policy.to_json()).to_json() == policy.to_json()
    assert policy.level_for(None, "hotline", None) == "A"


def test_load_policy_by_none_name_and_path_are_cached() -> None:
    # GIVEN the default policy WHEN loaded three ways THEN it is one cached object
    by_path = load_policy(str(POLICY_DIR / "default.json"))
    assert load_policy() is load_policy("default") is by_path


def test_unknown_policy_name_lists_the_shipped_ones() -> None:
    with pytest.raises(SlaPolicyError, match="demo_seconds"):
        load_policy("nope")


@pytest.mark.parametrize(
    ("level", "due"),
    [
        ("A", sh(2026, 9, 30, 12)),
        ("B", sh(2026, 10, 8, 10)),
        ("C", sh(2026, 10, 9, 10)),
        ("D", sh(2026, 10, 10, 10)),  # the make-up Saturday counts
        ("E", sh(2026, 10, 13, 10)),
        ("F", sh(2026, 10, 13, 10)),
    ],
)
def test_default_level_deadlines_across_national_day(level: str, due: datetime) -> None:
    # GIVEN a ticket from a channel with no rule of its own, accepted on the eve of National Day
    # WHEN computing deadlines THEN the level's limit decides
    d = load_policy().deadlines(EVE, level, "app", None, CAL)
    assert (d.due_at, d.rule, d.sla_level) == (due, f"level:{level}", level)
    assert d.final_due_at is None


def test_level_f_reports_progress_within_one_business_day() -> None:
    d = load_policy().deadlines(EVE, "F", "app", None, CAL)
    assert d.progress_due_at == sh(2026, 10, 8, 10)


def test_level_e_over_new_year_2027() -> None:
    # GIVEN level E accepted 2026-12-30 (official data ends 2026) WHEN computing THEN Jan 7 2027
    d = load_policy().deadlines(sh(2026, 12, 30, 10), "E", "app", None, CAL)
    assert d.due_at == sh(2027, 1, 7, 10)


@pytest.mark.parametrize(
    ("level", "channel", "source", "due", "rule"),
    [
        ("E", "letter", None, sh(2026, 10, 10, 10), "channel:letter"),
        ("E", "visit", None, sh(2026, 10, 10, 10), "channel:visit"),
        # issue 10: 来电 is a call to a company office; a 10086 hotline ticket keeps level E
        ("E", "office_call", None, sh(2026, 10, 10, 10), "channel:office_call"),
        ("E", "hotline", None, sh(2026, 10, 13, 10), "level:E"),
        ("A", "letter", None, sh(2026, 9, 30, 12), "level:A"),  # the level is stricter
        ("E", "website", None, sh(2026, 10, 5, 10), "channel:website"),  # 120 clock hours
        ("E", "online_hall", None, sh(2026, 10, 3, 10), "channel:online_hall"),  # 72 h
        ("B", "website", None, sh(2026, 10, 5, 10), "channel:website"),  # 120 h beats Oct 8
        ("D", "social_body", None, sh(2026, 10, 10, 10), "channel:social_body"),  # tie: specific
        ("E", "app", "miit", sh(2026, 10, 10, 10), "source:miit"),
        ("E", "app", "customer", sh(2026, 10, 13, 10), "level:E"),  # not a body: no rule
    ],
)
def test_strictest_rule_decides(
    level: str, channel: str, source: str | None, due: datetime, rule: str
) -> None:
    # GIVEN a level and a channel/source WHEN computing deadlines THEN the earliest due applies
    d = load_policy().deadlines(EVE, level, channel, source, CAL)
    assert (d.due_at, d.rule) == (due, rule)


@pytest.mark.parametrize(
    ("channel", "source"),
    [("social_body", None), ("app", "12315"), ("hotline", "media"), ("superior_body", None)],
)
def test_social_and_superior_bodies_progress_at_3_final_at_7(
    channel: str, source: str | None
) -> None:
    # GIVEN a level-E ticket from a social or superior body
    d = load_policy().deadlines(EVE, "E", channel, source, CAL)
    # THEN an answer or progress report within 3 business days, final within 7
    assert d.due_at == d.progress_due_at == sh(2026, 10, 10, 10)
    assert d.final_due_at == sh(2026, 10, 15, 10)


def test_progress_report_is_never_after_due() -> None:
    # GIVEN level A from a social body WHEN computing THEN progress is capped at the 2 h due
    d = load_policy().deadlines(EVE, "A", "social_body", "12315", CAL)
    assert d.due_at == d.progress_due_at == sh(2026, 9, 30, 12)
    assert d.final_due_at == sh(2026, 10, 15, 10)


def test_superior_body_level_f_keeps_its_one_day_progress_report() -> None:
    d = load_policy().deadlines(EVE, "F", "superior_body", "group_hq", CAL)
    assert d.progress_due_at == sh(2026, 10, 8, 10)
    assert (d.due_at, d.final_due_at) == (sh(2026, 10, 10, 10), sh(2026, 10, 15, 10))


def test_training_manual_48_hours_is_clock_time() -> None:
    # GIVEN the manual's level 2 (catalog B) WHEN accepted before National Day THEN 48 clock hours
    d = load_policy("training_manual").deadlines(EVE, "B", "app", None, CAL)
    assert d.due_at == sh(2026, 10, 2, 10)
    assert load_policy("training_manual").deadlines(EVE, "E", "app", None, CAL).due_at == sh(
        2026, 10, 12, 10
    )


@pytest.mark.parametrize(
    ("category", "due", "rule"),
    [
        ("communication_charges", sh(2026, 10, 9, 10), "category:communication_charges"),
        ("service_quality", sh(2026, 10, 9, 10), "category:service_quality"),
        ("basic_communication", sh(2026, 10, 10, 10), "category:basic_communication"),
        (None, sh(2026, 10, 10, 10), "level:A"),
    ],
)
def test_gansu_limits_by_category(category: str | None, due: datetime, rule: str) -> None:
    # GIVEN Gansu's by-type policy WHEN a category is given THEN its limit applies
    d = load_policy("gansu").deadlines(EVE, "A", "hotline", None, CAL, category=category)
    assert (d.due_at, d.rule) == (due, rule)


def test_demo_policy_is_seconds() -> None:
    # GIVEN the demo policy WHEN asking for limits THEN a few seconds each
    demo = load_policy("demo_seconds")
    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    assert demo.deadlines(start, "A", "app", None, CAL).due_at == start + timedelta(seconds=20)
    assert demo.step_limit("review") == Duration("seconds", 5)
    assert demo.step_limit("handle", level="A") == Duration("seconds", 20)
    assert all(g == Duration("seconds", 5) for g in demo.ladder_grace)


def test_step_limits() -> None:
    policy = load_policy()
    assert policy.step_limit("review") == Duration("minutes", 30)
    assert policy.step_limit("handle", level="B") == Duration("businessDays", 1)
    with pytest.raises(SlaPolicyError, match="level="):
        policy.step_limit("handle")
    with pytest.raises(SlaPolicyError, match="no step"):
        policy.step_limit("lunch")
    assert policy.emergency_duties["approvalFormToCrc"] == Duration("hours", 72)


# --- level_for ---------------------------------------------------------------------------------


def test_level_for_override_route_and_default() -> None:
    policy = load_policy()
    # GIVEN a dispatcher override THEN it wins over the route
    assert policy.level_for("A", "hotline", None, override="C") == "C"
    # GIVEN no override THEN the route's level, or A without a route
    assert policy.level_for("D", "social_body", "12315") == "D"
    assert policy.level_for(None, "letter", None) == "A"
    with pytest.raises(SlaPolicyError, match="override 'Z'"):
        policy.level_for("A", "hotline", None, override="Z")
    with pytest.raises(SlaPolicyError, match="route level 'G'"):
        policy.level_for("G", "hotline", None)


def test_level_for_a_rule_may_cap_the_level(tmp_path: Path) -> None:
    # GIVEN a policy where social bodies cap the level at B and billing at C
    data = default_json()
    data["channels"]["social_body"]["level"] = "B"
    data["categories"] = {"communication_charges": {"due": {"businessDays": 2}, "level": "C"}}
    policy = parse_policy(data)
    # WHEN the route says E THEN the stricter cap applies; a stricter route stays
    assert policy.level_for("E", "social_body", None) == "B"
    assert policy.level_for("E", "app", "12315") == "B"  # via the source alias
    assert policy.level_for("A", "social_body", None) == "A"
    assert policy.level_for("E", "app", None, category="communication_charges") == "C"
    assert policy.level_for("E", "app", None, override="E") == "E"


# --- durations and bad files ----------------------------------------------------------------


def test_duration_clock_time_crosses_midnight() -> None:
    d = Duration.from_json({"hours": 2})
    assert d.after(sh(2026, 10, 1, 23, 30), CAL) == sh(2026, 10, 2, 1, 30)
    assert Duration("minutes", 90).to_json() == {"minutes": 90}


@pytest.mark.parametrize(
    "raw", [{"hours": 2, "minutes": 1}, {"days": 2}, {"hours": -1}, {"hours": True}, [2], {}]
)
def test_bad_durations(raw: object) -> None:
    with pytest.raises(SlaPolicyError, match="where"):
        Duration.from_json(raw, "where")


def mutate_levels_c(d: dict[str, Any]) -> None:
    d["levels"]["C"]["due"] = {"days": 2}


def drop_level_e(d: dict[str, Any]) -> None:
    del d["levels"]["E"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (mutate_levels_c, r"levels\.C\.due: unknown duration unit 'days'"),
        (drop_level_e, r"levels: missing \['E'\]"),
        (lambda d: d["channels"].update(webside={"due": {"hours": 1}}), r"channels\.webside"),
        (lambda d: d["sources"].update(x="nowhere"), r"sources\.x: 'nowhere'"),
        (lambda d: d["channels"]["letter"].update(dew={"hours": 1}), r"channels\.letter: unknown"),
        (lambda d: d["channels"]["letter"].update(level="Q"), r"channels\.letter\.level"),
        (lambda d: d.update(warnings=[0.8, 0.5]), "warnings"),
        (lambda d: d.update(ladderGrace=[{"hours": 1}]), "ladderGrace"),
        (lambda d: d["steps"].pop("revisit"), r"steps: missing \['revisit'\]"),
        (lambda d: d["steps"].update(reply="soon"), r"steps\.reply"),
        (lambda d: d["emergencyDuties"].pop("leaderApproval"), "emergencyDuties"),
        (lambda d: d.update(extra=1), r"unknown key\(s\) \['extra'\]"),
        (lambda d: d["categories"].update(billing={"due": {"hours": 1}}), r"categories\.billing"),
    ],
)
def test_bad_policy_file_fails_naming_file_and_entry(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    # GIVEN a copy of the default policy with one mistake
    data = default_json()
    mutate(data)
    path = tmp_path / "broken_policy.json"
    path.write_text(json.dumps(data))
    # WHEN loading it THEN SlaPolicyError names the file and the entry
    with pytest.raises(SlaPolicyError, match=message) as info:
        load_policy(str(path))
    assert "broken_policy.json" in str(info.value)


def test_policy_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "garbled.json"
    path.write_text("{levels:")
    with pytest.raises(SlaPolicyError, match=r"garbled\.json: not valid JSON"):
        load_policy(str(path))


# --- properties ---------------------------------------------------------------------------------

STARTS = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.just(SHANGHAI)
)
CHANNEL = st.sampled_from(["hotline", "app", "website", "online_hall", "letter", "social_body"])
SOURCE = st.sampled_from([None, "12315", "miit", "customer"])
POLICY = st.sampled_from(SHIPPED)


@settings(max_examples=300, deadline=None)
@given(policy=POLICY, start=STARTS, level=st.sampled_from(LEVELS), channel=CHANNEL, source=SOURCE)
# the last minute of Shanghai's last summer time (1991-09-15 01:59 +09:00), a minute before due
@example(
    policy="demo_seconds",
    start=datetime(1991, 9, 15, 1, 59, tzinfo=SHANGHAI),
    level="E",
    channel="hotline",
    source="12315",
)
def test_deadlines_are_ordered_and_never_raise(
    policy: str, start: datetime, level: str, channel: str, source: str | None
) -> None:
    # GIVEN any policy, start, level, channel and source WHEN computing deadlines
    d = load_policy(policy).deadlines(start, level, channel, source, CAL, category="marketing")
    # THEN start <= progress <= due <= final, as instants: compared in UTC, because Python
    # compares two times of one zone by their wall clocks, which a DST fold (Shanghai had DST
    # until 1991) puts out of order
    begin, due = _utc(start), _utc(d.due_at)
    assert begin <= due
    assert d.progress_due_at is None or begin <= _utc(d.progress_due_at) <= due
    assert d.final_due_at is None or due <= _utc(d.final_due_at)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


@settings(max_examples=200, deadline=None)
@given(a=STARTS, b=STARTS, level=st.sampled_from(LEVELS), channel=CHANNEL, source=SOURCE)
def test_deadlines_are_monotone_in_start(
    a: datetime, b: datetime, level: str, channel: str, source: str | None
) -> None:
    # GIVEN two starts in order WHEN computing deadlines THEN due dates keep that order
    first, second = sorted((a, b), key=_utc)
    policy = load_policy()
    assert _utc(policy.deadlines(first, level, channel, source, CAL).due_at) <= _utc(
        policy.deadlines(second, level, channel, source, CAL).due_at
    )


@settings(max_examples=200, deadline=None)
@given(
    start=STARTS,
    unit=st.sampled_from(["seconds", "minutes", "hours", "businessDays"]),
    n=st.integers(min_value=0, max_value=30),
    more=st.integers(min_value=0, max_value=30),
)
def test_longer_durations_never_earlier(start: datetime, unit: str, n: int, more: int) -> None:
    assert Duration(unit, n).after(start, CAL) <= Duration(unit, n + more).after(start, CAL)
