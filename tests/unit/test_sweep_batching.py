"""The sweep's notices go out ten to a PublishBatch call; a batch that fails as a whole is sent
one message at a time; a failing ticket waits longer after each attempt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.adapters.notifier import Notifier
from chalicelib.services.sweep import MAX_ATTEMPTS, retry_delay


class FakeSns:
    def __init__(self, refuse: set[str] = frozenset(), batch_fails: bool = False) -> None:
        self.refuse, self.batch_fails = refuse, batch_fails
        self.batches: list[int] = []
        self.singles: list[str] = []

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]):
        self.batches.append(len(PublishBatchRequestEntries))
        if self.batch_fails:
            raise RuntimeError("throttled")
        ok, failed = [], []
        for e in PublishBatchRequestEntries:
            tid = e["MessageAttributes"]["ticketId"]["StringValue"]
            (failed if tid in self.refuse else ok).append({"Id": e["Id"]})
        return {"Successful": ok, "Failed": [{**f, "Code": "X"} for f in failed]}

    def publish(self, TopicArn: str, Message: str, MessageAttributes: dict[str, Any]):
        tid = MessageAttributes["ticketId"]["StringValue"]
        if tid in self.refuse:
            raise RuntimeError("refused")
        self.singles.append(tid)
        return {"MessageId": "m"}


def _messages(n: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [({"ticketId": f"T{i}", "tel": "13800138000"}, {"ticketId": f"T{i}"}) for i in range(n)]


def test_notices_go_out_ten_to_a_call_and_refusals_are_reported_per_message() -> None:
    sns = FakeSns(refuse={"T3", "T17"})
    accepted = Notifier("events", "departments", client=sns).departments(_messages(23))
    assert sns.batches == [10, 10, 3]
    assert [i for i, ok in enumerate(accepted) if not ok] == [3, 17]


def test_a_batch_failing_as_a_whole_is_sent_one_message_at_a_time() -> None:
    sns = FakeSns(refuse={"T1"}, batch_fails=True)
    accepted = Notifier("events", "departments", client=sns).departments(_messages(3))
    assert accepted == [True, False, True]
    assert sns.singles == ["T0", "T2"]


def test_each_failed_attempt_waits_twice_as_long_up_to_the_bound() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(30) == timedelta(hours=1)
