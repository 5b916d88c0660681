"""The mass-complaint window and threshold (issue 11): pure rules, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.catalog.mass_complaint import load_mass_complaint_policy
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import (
    Bucket,
    MassComplaintPolicy,
    Pointer,
    bucket_of,
    counter_key,
    detect,
    id_instant,
    incident_id,
    interface,
    window_buckets,
)

POLICY = MassComplaintPolicy()
NOW = datetime(2026, 11, 29, 8, 2, 30, tzinfo=UTC)
KEY = counter_key("hotline", None, "voice_coverage")


def _buckets(*instants: datetime) -> dict[int, Bucket]:
    """Buckets holding one complaint at each instant."""
    out: dict[int, Bucket] = {}
    for at in instants:
        index = bucket_of(at, POLICY)
        old = out.get(index, Bucket(index, 0))
        out[index] = Bucket(index, old.count + 1, old.ids | {new_id("T", at)})
    return out


def _ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_the_interface_is_the_channel_plus_the_area_at_counters() -> None:
    assert interface("hotline", "思明区", POLICY) == ("hotline", None)
    assert interface("business_hall", "思明区", POLICY) == ("business_hall", "思明区")
    assert interface("account_manager", None, POLICY) == ("account_manager", "-")
    keys = {
        counter_key("business_hall", "思明区", "voice_coverage"),
        counter_key("business_hall", "湖里区", "voice_coverage"),
        counter_key("business_hall", "思明区", "call_quality"),
        counter_key("hotline", None, "voice_coverage"),
    }
    assert len(keys) == 4


def test_nine_count_and_the_tenth_opens_with_the_window_linked() -> None:
    nine = _buckets(*_ago(*range(1, 28, 3)))
    assert len(_ago(*range(1, 28, 3))) == 9
    opened = detect(KEY, nine, Pointer(), NOW, POLICY)
    assert opened.action == "open" and opened.window_count == 10
    assert opened.incident_id == incident_id(KEY, 1)
    assert set(opened.linked) == {i for b in nine.values() for i in b.ids}
    eight = _buckets(*_ago(*range(1, 25, 3)))
    counted = detect(KEY, eight, Pointer(), NOW, POLICY)
    assert counted.action == "count" and counted.window_count == 9 and counted.incident_id is None


def test_complaints_older_than_the_window_do_not_count() -> None:
    # nine complaints, but two of them 31 and 34 minutes ago (one in the partly-covered bucket)
    buckets = _buckets(*_ago(1, 2, 3, 4, 5, 6, 7, 31, 34))
    assert detect(KEY, buckets, Pointer(), NOW, POLICY).window_count == 8
    assert len(window_buckets(NOW, POLICY)) == POLICY.buckets_per_window + 1


def test_the_count_cap_fails_only_when_a_stale_read_hides_the_threshold() -> None:
    # eight read, seven of them in older buckets: the current bucket may hold 1 at most
    buckets = _buckets(*_ago(0.5, 6, 7, 8, 9, 10, 11, 12))
    counted = detect(KEY, buckets, Pointer(), NOW, POLICY)
    assert counted.action == "count" and counted.count_cap == POLICY.threshold - 2 - 7
    current = buckets[bucket_of(NOW, POLICY)].count
    assert current <= counted.count_cap  # as read, the condition holds
    assert current + 1 > counted.count_cap  # one more unseen intake: read again


def test_an_open_incident_is_joined_while_complaints_keep_coming() -> None:
    pointer = Pointer(1, "IABC")
    joined = detect(KEY, _buckets(*_ago(3)), pointer, NOW, POLICY)
    assert (joined.action, joined.incident_id) == ("join", "IABC")
    quiet = detect(KEY, {}, pointer, NOW, POLICY)  # 30 minutes without one: a new count
    assert quiet.action == "count"


def test_a_new_burst_after_a_quiet_spell_opens_the_next_generation() -> None:
    ten_ago = _buckets(*_ago(*range(1, 28, 3)))
    opened = detect(KEY, ten_ago, Pointer(3, None), NOW, POLICY)
    assert opened.incident_id == incident_id(KEY, 4) != incident_id(KEY, 3)


def test_complaints_before_a_resolution_do_not_count_again() -> None:
    buckets = _buckets(*_ago(*range(1, 28, 3)))
    resolved = Pointer(1, None, count_from=NOW - timedelta(minutes=5))
    counted = detect(KEY, buckets, resolved, NOW, POLICY)
    assert counted.action == "count" and counted.window_count == 3  # 1 and 4 minutes ago
    assert counted.count_cap is not None


def test_ids_tell_their_instant() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert id_instant(new_id("T", at)) == at
    assert id_instant("T?") is None and id_instant("x") is None


def test_the_shipped_policy_is_the_seed_s() -> None:
    policy = load_mass_complaint_policy()
    assert (policy.threshold, policy.window, policy.bucket) == (
        10,
        timedelta(minutes=30),
        timedelta(minutes=5),
    )
    assert policy.counter_channels == ("business_hall", "account_manager")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"threshold": 1}, "threshold"),
        ({"threshold": "10"}, "threshold"),
        ({"bucketMinutes": 7}, "bucketMinutes"),
        ({"counterChannels": "hotline"}, "counterChannels"),
    ],
)
def test_a_bad_policy_names_its_field(change: dict[str, object], field: str) -> None:
    data = {"threshold": 10, "windowMinutes": 30, "bucketMinutes": 5, "escalationLevel": 2}
    data["idsPerBucket"] = 100
    with pytest.raises(ValueError, match=f"x.json: `{field}`"):
        MassComplaintPolicy.from_json({**data, **change}, "x.json")
