"""Seed 002's repeat decision table, the repeat match and suggestion matching (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import repeats
from chalicelib.domain.repeats import Entry, SuggestionSeen

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def entry(
    id: str = "T1",
    status: str = "processing",
    phenomenon: str | None = "voice_coverage",
    category: str | None = "basic_communication",
    age: timedelta = timedelta(days=1),
    due_in: timedelta | None = timedelta(days=1),
    closed_ago: timedelta | None = None,
    recorded: str | None = None,
    repeat: bool = False,
) -> Entry:
    return Entry(
        id=id,
        phenomenon=phenomenon,
        category=category,
        created_at=NOW - age,
        status=status,
        due_at=NOW + due_in if due_in is not None else None,
        closed_at=NOW - closed_ago if closed_ago is not None else None,
        recorded=recorded,
        repeat=repeat,
    )


@pytest.mark.parametrize(
    ("original", "prior", "code"),
    [
        # finished: compare what is on record with what the customer says
        (entry(status="revisited", recorded="satisfied"), "satisfied", repeats.DONE),
        (entry(status="archived", recorded="satisfied"), "unsatisfied", repeats.MANAGER_DISAGREES),
        (entry(status="revisited", recorded="unsatisfied"), "satisfied", repeats.SENIOR_REVIEW),
        (entry(status="revisited", recorded="unsatisfied"), "unsatisfied", repeats.SENIOR_REVIEW),
        (entry(status="replied", recorded=None), "satisfied", repeats.SENIOR_REVIEW),
        (entry(status="revisited", recorded="satisfied"), None, repeats.SENIOR_REVIEW),
        (entry(status="rejected"), None, repeats.MANAGER_UNREASONABLE),
        # unfinished: past its limit, or within it
        (entry(status="processing", due_in=-timedelta(minutes=1)), None, repeats.MANAGER_OVERDUE),
        (
            entry(status="resolved", due_in=-timedelta(hours=3)),
            "satisfied",
            repeats.MANAGER_OVERDUE,
        ),
        (entry(status="dispatched", due_in=timedelta(hours=2)), None, repeats.PROGRESS),
        (entry(status="accepted", due_in=None), None, repeats.PROGRESS),
    ],
)
def test_the_decision_table(original: Entry, prior: str | None, code: str) -> None:
    decision = repeats.decide(original, prior, NOW)
    assert decision.code == code
    # each row does exactly one thing to the new ticket
    assert decision.answered == (code in (repeats.DONE, repeats.PROGRESS))
    assert decision.review == (code == repeats.SENIOR_REVIEW)
    assert decision.supplement == (code == repeats.PROGRESS)
    assert decision.escalate == code.startswith("manager")


def test_the_original_is_the_earliest_matching_ticket_that_is_not_a_repeat() -> None:
    entries = [
        entry("T3", age=timedelta(hours=1), repeat=True),
        entry("T2", age=timedelta(days=2)),
        entry("T0", age=timedelta(days=9), repeat=True),
        entry("T1", age=timedelta(days=3), phenomenon="roaming_failure"),
    ]
    assert repeats.find_original(entries, "voice_coverage", "x", NOW) == (
        entries[1],
        "same_phenomenon",
    )


def test_closed_tickets_count_within_the_window_and_cancelled_ones_never() -> None:
    window = repeats.POLICY.repeat_window
    inside = entry("T1", status="archived", age=window, closed_ago=window - timedelta(hours=1))
    outside = entry("T2", status="archived", age=window * 2, closed_ago=window + timedelta(hours=1))
    cancelled = entry("T3", status="cancelled", age=timedelta(days=5), closed_ago=timedelta(0))
    assert repeats.find_original([inside], "voice_coverage", None, NOW) is not None
    assert repeats.find_original([outside, cancelled], "voice_coverage", None, NOW) is None
    # an open ticket matches however old it is
    old_open = entry("T4", age=window * 5)
    assert repeats.find_original([old_open], "voice_coverage", None, NOW) == (
        old_open,
        "same_phenomenon",
    )


def test_without_a_phenomenon_the_category_decides() -> None:
    other = entry("T1", phenomenon=None, category="communication_charges")
    assert repeats.find_original([other], None, "communication_charges", NOW) == (
        other,
        "same_category",
    )
    assert repeats.find_original([other], None, "marketing", NOW) is None
    assert repeats.find_original([other], None, None, NOW) is None


def test_recorded_satisfaction() -> None:
    assert repeats.recorded_satisfaction({"satisfaction": "basically_satisfied"}, 0) == "satisfied"
    assert repeats.recorded_satisfaction({"satisfaction": "unsatisfied"}, 0) == "unsatisfied"
    assert (
        repeats.recorded_satisfaction(None, 1) == "unsatisfied"
    )  # unhappy once, never asked again
    assert repeats.recorded_satisfaction(None, 0) is None


def test_entries_survive_storage_and_the_profile_stays_bounded() -> None:
    e = entry(status="archived", closed_ago=timedelta(hours=1), recorded="satisfied")
    assert Entry.from_json(e.to_json()) == e
    many = [entry(f"T{i}", age=timedelta(minutes=i)) for i in range(50)]
    stale = entry("X", status="archived", age=timedelta(days=90), closed_ago=timedelta(days=60))
    kept = repeats.prune([*many, stale], NOW)
    assert len(kept) == repeats.POLICY.max_entries and stale not in kept
    assert kept[0].id == "T0"  # the newest open ones are kept


def test_suggestions_match_by_normalised_text_then_by_phenomenon_and_area() -> None:
    assert repeats.text_key("建议 增加基站！") == repeats.text_key("建议增加基站")
    assert repeats.text_key("Add a SITE.") == repeats.text_key("add a site")
    assert repeats.text_key("建议增加基站") != repeats.text_key("建议减少基站")
    assert repeats.area_key("voice_coverage", None) is None
    recent, old = (
        SuggestionSeen("S1", NOW - timedelta(days=3)),
        SuggestionSeen("S0", NOW - timedelta(days=91)),
    )
    assert repeats.match_suggestion(recent, None, NOW) == ("S1", "same_text")
    assert repeats.match_suggestion(None, recent, NOW) == ("S1", "same_phenomenon_area")
    assert repeats.match_suggestion(old, recent, NOW) == ("S1", "same_phenomenon_area")
    assert repeats.match_suggestion(old, None, NOW) is None
