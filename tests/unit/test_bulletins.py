"""The pure rules of bulletins (issue 11): status in time, amendments with history, and the
matcher intake uses (O(1) per look-up, whatever the number of bulletins)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.bulletins_repo import BulletinCache, item_size
from chalicelib.domain.bulletins import (
    AMEND_BUDGET,
    ITEM_LIMIT,
    MAX_AMENDMENTS,
    ActiveIndex,
    Bulletin,
    amend,
    close,
    compacted,
    digest,
    key,
    ticket_services,
    too_many_amendments,
)
from chalicelib.domain.errors import Conflict, ValidationFailed

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def bulletin(n: int = 1, **changes: object) -> Bulletin:
    b = Bulletin(
        id=f"B{n:04d}",
        version=1,
        type="fault",
        title="基站故障",
        areas=("思明区",),
        phenomena=("voice_coverage",),
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=1),
        script="抢修中",
        created_at=NOW - timedelta(hours=1),
        created_by="wang",
        updated_at=NOW - timedelta(hours=1),
        services=("VoLTE",),
    )
    return b.with_changes(**changes)


def test_status_follows_the_window_and_closing() -> None:
    b = bulletin()
    assert b.status(b.starts_at - timedelta(seconds=1)) == "scheduled"
    assert b.status(b.starts_at) == "active" and b.in_effect(b.starts_at)
    assert b.ends_at is not None
    assert b.status(b.ends_at - timedelta(microseconds=1)) == "active"
    assert b.status(b.ends_at) == "expired" and not b.in_effect(b.ends_at)
    assert bulletin(ends_at=None).status(NOW + timedelta(days=999)) == "active"
    closed = close(b, "恢复", "li", "department", NOW)
    assert closed.status(NOW) == "closed" and closed.effective_end == NOW
    assert closed.history[-1] == {
        "at": "2026-11-20T10:00:00+08:00",
        "actor": "li",
        "role": "department",
        "action": "close",
        "changes": {"reason": "恢复"},
    }
    with pytest.raises(Conflict) as err:
        close(closed, None, "li", "department", NOW)
    assert err.value.code == "bulletin_closed"


def test_an_amendment_records_before_and_after_of_what_changed_only() -> None:
    b = bulletin()
    later = NOW + timedelta(hours=5)
    got = amend(b, {"ends_at": later, "script": "抢修中", "title": "新"}, "li", "department", NOW)
    assert got is not None and got.version == 2 and got.ends_at == later
    entry = got.history[-1]
    assert entry["action"] == "amend" and set(entry["changes"]) == {"endsAt", "title"}
    assert entry["changes"]["title"] == {"before": "基站故障", "after": "新"}
    assert entry["changes"]["endsAt"]["after"] == "2026-11-20T15:00:00+08:00"
    assert amend(got, {"script": "抢修中"}, "li", "department", NOW) is None  # nothing changed
    with pytest.raises(ValidationFailed) as bad:
        amend(b, {"ends_at": b.starts_at}, "li", "department", NOW)
    assert bad.value.errors[0].field == "endsAt"
    with pytest.raises(Conflict) as full:
        amend(b.with_changes(history=({},) * (MAX_AMENDMENTS + 1)), {"title": "x"}, "a", "b", NOW)
    assert full.value.code == "too_many_amendments"


CATEGORIES = {"voice_coverage": "basic_communication", "call_quality": "basic_communication"}


def test_the_matcher_needs_the_area_and_the_phenomenon_or_a_service() -> None:
    index = ActiveIndex.of([bulletin()], CATEGORIES.get)
    match = index.match("voice_coverage", "思明区", (), NOW)
    assert match is not None and match.id == "B0001"
    assert index.match("voice_coverage", " 思明区 ", (), NOW) is not None  # trimmed
    assert index.match("voice_coverage", "湖里区", (), NOW) is None
    assert index.match("call_quality", "思明区", (), NOW) is None
    volte = (key("ｖｏｌｔｅ"),)
    assert index.match("call_quality", "思明区", volte, NOW, "basic_communication") is not None
    assert index.match(None, "思明区", (key("volte"),), NOW, "basic_communication") is not None
    assert index.match("voice_coverage", None, (), NOW) is None
    assert index.match("voice_coverage", "思明区", (), NOW - timedelta(hours=2)) is None
    assert index.match("voice_coverage", "思明区", (), NOW + timedelta(hours=2)) is None


def test_closed_bulletins_are_left_out_and_the_latest_started_wins() -> None:
    old = bulletin(1, starts_at=NOW - timedelta(hours=3))
    new = bulletin(2, starts_at=NOW - timedelta(minutes=5))
    shut = close(bulletin(3, starts_at=NOW - timedelta(minutes=1)), None, "a", "b", NOW)
    index = ActiveIndex.of([old, new, shut])
    assert index.size == 2
    match = index.match("voice_coverage", "思明区", (), NOW)
    assert match is not None and match.id == "B0002"


def test_matching_a_thousand_bulletins_is_a_lookup() -> None:
    many = [
        bulletin(n, areas=(f"区{n}",), phenomena=(f"p{n % 40}",), services=()) for n in range(1000)
    ]
    index = ActiveIndex.of(many)
    started = time.perf_counter()
    for _ in range(1000):
        index.match("p7", "区7", (), NOW)
        index.match("p7", "nowhere", ("x",), NOW)
    assert time.perf_counter() - started < 0.5  # 2,000 matches, not 2,000,000 comparisons
    match = index.match("p7", "区7", (), NOW)
    assert match is not None and match.id == "B0007"


def test_a_ticket_names_its_services_in_its_fields() -> None:
    assert ticket_services({"serviceName": " 5G套餐 ", "planName": "", "x": "y", "appName": 3}) == (
        "5g套餐",
    )


def test_the_cache_reads_once_per_ttl_and_keeps_the_last_index_when_a_read_fails() -> None:
    now = [0.0]
    cache = BulletinCache(ttl=60, clock=lambda: now[0])
    reads: list[int] = []

    def load() -> list[Bulletin]:
        reads.append(1)
        return [bulletin()]

    assert cache.index(load).size == 1
    now[0] = 59.9
    cache.index(load)
    assert len(reads) == 1
    now[0] = 60.0
    cache.index(load)
    assert len(reads) == 2

    def broken() -> list[Bulletin]:
        raise RuntimeError("DynamoDB is down")

    now[0] = 120.0
    assert cache.index(broken).size == 1  # the last index, retried a few seconds later
    now[0] = 120.0 + BulletinCache.RETRY_AFTER_FAILURE
    assert cache.index(load).size == 1 and len(reads) == 3
    cache.clear()
    cache.index(load)
    assert len(reads) == 4


def test_a_service_label_matches_only_within_the_bulletins_categories() -> None:
    index = ActiveIndex.of([bulletin()], CATEGORIES.get)
    volte = (key("VoLTE"),)
    # a billing dispute naming a service the fault bulletin lists: not the outage
    assert (
        index.match("discount_not_applied", "思明区", volte, NOW, "communication_charges") is None
    )
    # no category (nothing confirmed): never by a service label alone
    assert index.match(None, "思明区", volte, NOW, None) is None
    assert index.match("call_quality", "思明区", volte, NOW, "basic_communication") is not None


def test_a_script_change_is_recorded_by_length_and_hash_not_text() -> None:
    long = "抢" * 2000
    b = amend(bulletin(), {"script": long, "title": "新标题"}, "wang", "department", NOW)
    assert b is not None and b.script == long
    changes = b.history[-1]["changes"]
    assert changes["title"] == {"before": "基站故障", "after": "新标题"}
    assert changes["script"]["before"] == digest("抢修中")
    assert changes["script"]["after"] == {"length": 2000, "sha256": digest(long)["sha256"]}
    assert len(changes["script"]["after"]["sha256"]) == 12 and long not in str(b.history)


def test_a_start_moved_past_the_end_is_reported_against_startsAt() -> None:
    with pytest.raises(ValidationFailed) as moved:
        amend(bulletin(), {"starts_at": NOW + timedelta(hours=2)}, "a", "b", NOW)
    assert [e.field for e in moved.value.errors] == ["startsAt"]
    with pytest.raises(ValidationFailed) as ended:
        amend(bulletin(), {"ends_at": NOW - timedelta(hours=2)}, "a", "b", NOW)
    assert [e.field for e in ended.value.errors] == ["endsAt"]


def _huge() -> Bulletin:
    """A bulletin at the limits of its body: 200 areas of 100 CJK characters, 50 services."""
    return bulletin(
        areas=tuple(f"{n:03d}" + "区" * 97 for n in range(200)),
        services=tuple(f"{n:02d}" + "务" * 98 for n in range(50)),
        script="抢" * 2000,
        title="题" * 200,
        contact="联" * 200,
    )


def test_amendments_stop_with_a_409_below_400_kb_and_closing_always_fits() -> None:
    b, n = _huge(), 0
    with pytest.raises(Conflict) as full:
        while True:
            changed = amend(
                b,
                {
                    "title": f"{n:03d}" + "题" * 197,
                    "contact": f"{n:03d}" + "联" * 197,
                    "script": f"{n}" + "抢" * 1990,
                },
                "a",
                "b",
                NOW,
            )
            assert changed is not None
            if item_size(changed) > AMEND_BUDGET:
                raise too_many_amendments()
            b, n = changed, n + 1
    assert full.value.code == "too_many_amendments" and n >= 1
    assert item_size(b) <= AMEND_BUDGET
    shut = close(b, "恢" * 500, "a", "b", NOW)
    assert item_size(shut) <= ITEM_LIMIT  # the reserve holds the closing
    # and were it short of room, the oldest details give way, never the closing
    squeezed = compacted(shut)
    assert squeezed is not None and item_size(squeezed) < item_size(shut)
    assert squeezed.history[0]["detailsDropped"] is True and "changes" not in squeezed.history[0]
    assert squeezed.history[0]["changed"] == ["contact", "script", "title"]


def test_the_cache_serves_nothing_once_too_stale_to_trust() -> None:
    now = [0.0]
    cache = BulletinCache(ttl=60, clock=lambda: now[0])
    assert cache.index(lambda: [bulletin()]).size == 1

    def broken() -> list[Bulletin]:
        raise RuntimeError("DynamoDB is down")

    now[0] = 60.0 + BulletinCache.STALE_GRACE  # stale, but within the grace: kept
    assert cache.index(broken).size == 1
    now[0] = 60.0 + BulletinCache.STALE_GRACE + BulletinCache.RETRY_AFTER_FAILURE + 0.1
    assert cache.index(broken).size == 0  # a closed bulletin must not keep answering
    now[0] += BulletinCache.RETRY_AFTER_FAILURE
    assert cache.index(lambda: [bulletin()]).size == 1  # back once a read succeeds
