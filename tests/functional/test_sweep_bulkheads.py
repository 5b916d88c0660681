"""The sweep isolates each ticket: a publish, a StartExecution or a decode failing for one ticket
does not stop the others' notices in the same run; the failing ticket is retried with backoff,
and set aside after a bounded number of attempts, the operators told once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib import config
from chalicelib.domain.values import storage_time
from tests.functional.conftest import Api
from tests.functional.inboxes import drain
from tests.functional.test_sweep import _deps, _notices, _tickets, clock  # noqa: F401
from tests.functional.test_unreadable import BAD, _corrupt_copies

WARNINGS = ("warn:1:0.5", "warn:1:0.8")


def _about(attributes: dict[str, Any], ticket_id: str) -> bool:
    """A sweep notice about the ticket (the operators' set-aside notice still goes out)."""
    return bool(
        attributes["ticketId"]["StringValue"] == ticket_id
        and attributes["eventType"]["StringValue"] != "ticket_set_aside"
    )


class _FailsFor:
    """The SNS client, failing every notice about one ticket: SNS refuses its entries in a
    batch ("refused"), or the whole batch call holding one of them raises ("raises")."""

    def __init__(self, real: Any, ticket_id: str, mode: str, set_aside_failures: int = 0) -> None:
        self.real, self.ticket_id, self.mode = real, ticket_id, mode
        self.set_aside_failures = set_aside_failures  # the operators' notices refused first

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]):
        entries = PublishBatchRequestEntries
        bad = [e for e in entries if _about(e["MessageAttributes"], self.ticket_id)]
        if bad and self.mode == "raises":
            raise RuntimeError("SNS is unavailable")
        good = [e for e in entries if e not in bad]
        answer = {"Successful": [], "Failed": []}
        if good:
            answer = self.real.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=good)
        failed = [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in bad]
        return {**answer, "Failed": [*answer.get("Failed", []), *failed]}

    def publish(self, **kwargs: Any):
        attributes = kwargs["MessageAttributes"]
        if _about(attributes, self.ticket_id):
            raise RuntimeError("SNS is unavailable")
        if attributes["eventType"]["StringValue"] == "ticket_set_aside" and self.set_aside_failures:
            self.set_aside_failures -= 1
            raise RuntimeError("SNS is unavailable")
        return self.real.publish(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _StartFailsFor:
    """Step Functions, where `ticket_id`'s execution is gone and cannot be started again."""

    def __init__(self, real: Any, ticket_id: str) -> None:
        self.real, self.ticket_id = real, ticket_id

    def describe_execution(self, executionArn: str):
        if executionArn.endswith(self.ticket_id):
            raise self.real.exceptions.ExecutionDoesNotExist(
                {"Error": {"Code": "ExecutionDoesNotExist", "Message": "gone"}},
                "DescribeExecution",
            )
        return self.real.describe_execution(executionArn=executionArn)

    def start_execution(self, **kwargs: Any):
        if kwargs["name"].startswith(self.ticket_id):
            raise RuntimeError("Step Functions is unavailable")
        return self.real.start_execution(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _stored(ticket_id: str) -> dict[str, Any]:
    db = boto3.client("dynamodb")
    item = db.get_item(
        TableName=config.tickets_table(), Key={"id": {"S": ticket_id}}, ConsistentRead=True
    )["Item"]
    return item  # type: ignore[no-any-return]


def _set_aside(aws: Any) -> list[dict[str, Any]]:
    return [m for m in drain(aws, "OperatorsInbox") if m["eventType"] == "ticket_set_aside"]


@pytest.mark.parametrize("mode", ["refused", "raises"])
def test_one_ticket_failing_does_not_stop_the_others_in_the_same_run(
    api: Api,
    aws,
    clock,  # noqa: F811
    mode: str,
) -> None:
    from chalicelib.services import sweep

    # GIVEN six due tickets: one whose notices SNS will not take, one whose execution is gone
    # and cannot be started again, and beside them items that do not decode
    ids = _tickets(api, 6)
    no_sns, no_start, fine = ids[0], ids[1], ids[2:]
    _corrupt_copies(fine[0])
    deps = _deps()
    deps.notifier._client = _FailsFor(deps.notifier.client, no_sns, mode)
    deps.workflows._client = _StartFailsFor(deps.workflows.client, no_start)
    clock[0] = timedelta(minutes=35)  # past both warnings and the execution check (32 min)

    # WHEN the sweep runs once
    before = deps.clock()
    result = sweep.run(deps, page_size=3)

    # THEN everyone else got their notices, in that run
    sent = Counter((t, n) for t, n, _ in _notices(aws))
    assert {(t, n) for t in [*fine, no_start] for n in WARNINGS} <= set(sent)
    assert not any(t == no_sns for t, _ in sent)
    assert set(sent.values()) == {1}
    assert result["read"] == 6 and result["sent"] == 10
    assert result["failed"] == 2 and result["set_aside"] == len(BAD)
    # AND the failing tickets carry their first failed attempt, due again a minute later
    after = deps.clock()
    delay = sweep.retry_delay(1)
    for tid, reason in ((no_sns, "publish"), (no_start, "workflow_check")):
        item = _stored(tid)
        assert item["sweepAttempts"] == {"N": "1"}
        assert item["sweepError"]["S"].startswith(reason)
        due = item["nextDueAt"]["S"]
        assert storage_time(before + delay) <= due <= storage_time(after + delay)
    assert "sweepAttempts" not in _stored(fine[0])


def test_a_failed_ticket_is_retried_after_its_backoff_and_settles(api: Api, aws, clock):  # noqa: F811
    from chalicelib.services import sweep

    ids = _tickets(api, 2)
    deps = _deps()
    deps.notifier._client = _FailsFor(deps.notifier.client, ids[0], "refused")
    clock[0] = timedelta(minutes=25)
    assert sweep.run(deps)["failed"] == 1
    assert {t for t, _, _ in _notices(aws)} == {ids[1]}
    # SNS is back; before the backoff has passed the ticket is not due
    deps.notifier._client = None
    assert sweep.run(deps)["read"] == 0
    clock[0] += sweep.retry_delay(1)
    again = sweep.run(deps)
    assert again["read"] == 1 and again["sent"] == 2 and again["failed"] == 0
    assert Counter((t, n) for t, n, _ in _notices(aws)) == {(ids[0], n): 1 for n in WARNINGS}
    assert "sweepAttempts" not in _stored(ids[0])  # settled: the count starts again


def test_after_the_bound_the_ticket_is_set_aside_and_operators_told_once(
    api: Api,
    aws,
    clock,  # noqa: F811
) -> None:
    from chalicelib.services import sweep

    ids = _tickets(api, 2)
    bad = ids[0]
    deps = _deps()
    deps.notifier._client = _FailsFor(deps.notifier.client, bad, "refused")
    clock[0] = timedelta(minutes=25)
    results = []
    for attempt in range(1, sweep.MAX_ATTEMPTS + 1):
        results.append(sweep.run(deps))
        if attempt < sweep.MAX_ATTEMPTS:
            assert _stored(bad)["sweepAttempts"] == {"N": str(attempt)}
            clock[0] += sweep.retry_delay(attempt)
    assert [r["failed"] for r in results] == [1] * sweep.MAX_ATTEMPTS
    assert results[-1]["set_aside"] == 1
    stored = _stored(bad)
    assert "dueKey" not in stored and "nextDueAt" not in stored
    told = _set_aside(aws)
    assert [m["ticketId"] for m in told] == [bad]
    assert "5 times" in told[0]["reason"]
    # off the due-index: later sweeps neither read it nor tell anyone again
    clock[0] += timedelta(hours=1)
    later = sweep.run(deps)
    assert later["failed"] == 0 and later["set_aside"] == 0
    assert _set_aside(aws) == []
    assert {t for t, _, _ in _notices(aws)} <= {ids[1]}


def test_a_set_aside_nobody_heard_of_is_tried_again_later(api: Api, aws, clock) -> None:  # noqa: F811
    from chalicelib.services import sweep

    [bad] = _tickets(api, 1)
    deps = _deps()
    deps.notifier._client = _FailsFor(deps.notifier.client, bad, "refused", set_aside_failures=1)
    clock[0] = timedelta(minutes=25)
    for attempt in range(1, sweep.MAX_ATTEMPTS + 1):
        sweep.run(deps)
        clock[0] += sweep.retry_delay(attempt)
    # the operators' notice was refused: the ticket stays on the due-index, an hour later
    assert _set_aside(aws) == []
    assert _stored(bad)["dueKey"] == {"S": "due"}
    clock[0] += sweep.RETRY_CAP
    assert sweep.run(deps)["set_aside"] == 1
    assert [m["ticketId"] for m in _set_aside(aws)] == [bad]
    assert "dueKey" not in _stored(bad)
