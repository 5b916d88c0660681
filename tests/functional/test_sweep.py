"""The sweep: only what is due, each notice once, resumable mid-page, repairs stranded tickets."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import boto3
import pytest

from tests.functional.conftest import Api, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

INBOXES = ("CrcInbox", "NetworkInbox", "OperatorsInbox", "BillingSupportInbox")


def _sweep(client) -> dict:
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return client.lambda_.invoke("sweep", event).payload


@pytest.fixture
def clock():
    """Move the app's clock (the sweep's 'now'); workflows keep real time."""
    from chalicelib.services.context import deps

    d = deps()
    real = d.clock
    offset = [timedelta()]
    d.clock = lambda: real() + offset[0]
    yield offset
    d.clock = real


def _tickets(api: Api, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        # independent tickets of one customer: the agent overrides the repeat match (issue 10)
        t = api.create(
            role="senior_agent",
            phenomenon="voice_coverage",
            fields=FIELDS,
            repeatOf=None,
            repeatOverrideReason="independent tickets",
        )
        ids.append(t["id"])
    for tid in ids:
        _waiting(api, tid, "dispatch")
    return ids


def _notices(aws) -> list[tuple[str, str, str]]:
    got = []
    for inbox in INBOXES:
        for m in drain(aws, inbox):
            if "notice" in m:
                got.append((m["ticketId"], m["notice"], m["_attributes"]["department"]))
    return got


def test_nothing_due_reads_nothing(client, api: Api, clock) -> None:
    _tickets(api, 3)
    assert _sweep(client)["read"] == 0


def test_due_notices_go_out_once_however_often_the_sweep_runs(client, api: Api, aws, clock):
    ids = _tickets(api, 3)
    clock[0] = timedelta(minutes=25)  # past 50 % and 80 % of the 30-minute dispatch step
    first = _sweep(client)
    assert first["read"] == 3
    sent = _notices(aws)
    assert Counter(n for _, n, _ in sent) == {"warn:1:0.5": 3, "warn:1:0.8": 3}
    assert {d for _, _, d in sent} == {"crc"}
    assert {t for t, _, _ in sent} == set(ids)
    # again: nothing is due any more, nothing is read, nothing is sent
    assert _sweep(client)["read"] == 0
    assert _notices(aws) == []
    # a day later the breach, the promised-time reminder and the execution check fall due
    clock[0] = timedelta(days=2)
    later = _sweep(client)
    assert later["read"] == 3 and later["breached"] == 3
    again = Counter(n for _, n, _ in _notices(aws))
    assert again == {"promise": 3, "breach": 3}
    for tid in ids:
        assert api.call("GET", f"/tickets/{tid}", "complaint_manager")[1]["breached"] is True
    _, page, _ = api.call("GET", "/tickets?breached=true", "complaint_manager")
    assert {t["id"] for t in page["items"]} == set(ids)


class Killed(BaseException):
    """The Lambda is killed (a timeout): no handler of the sweep runs, nothing is released."""


class _DiesOnBatch:
    """The SNS client, but the process dies when the `n`-th PublishBatch call is made."""

    def __init__(self, real, n: int) -> None:
        self.real, self.n, self.calls = real, n, 0

    def publish_batch(self, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise Killed
        return self.real.publish_batch(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_sweep_killed_mid_page_is_resumed_without_duplicates_or_gaps(
    client, api: Api, aws, clock
) -> None:
    from chalicelib.adapters.notices_repo import LEASE
    from chalicelib.services import sweep

    ids = _tickets(api, 5)
    clock[0] = timedelta(minutes=25)
    deps = _deps()
    deps.notifier._client = _DiesOnBatch(deps.notifier.client, 2)  # the second page's batch
    with pytest.raises(Killed):
        sweep.run(deps, page_size=2)  # several pages
    deps.notifier._client = None
    every = {(t, k) for t in ids for k in ("warn:1:0.5", "warn:1:0.8")}
    # the next sweep sends what was not touched, and nothing twice
    sweep.run(deps, page_size=2)
    sent = Counter((t, n) for t, n, _ in _notices(aws))
    assert set(sent.values()) == {1} and len(sent) == 6
    # the batch the killed sweep held goes out once its lease has run out
    clock[0] += LEASE + timedelta(seconds=2)
    sweep.run(deps, page_size=2)
    sent.update((t, n) for t, n, _ in _notices(aws))
    assert set(sent) == every
    assert set(sent.values()) == {1}


def _deps():
    from chalicelib.services.context import deps

    return deps()


def test_each_department_inbox_receives_only_its_notices(client, api: Api, aws, clock) -> None:
    ids = _tickets(api, 2)
    _act(api, ids[0], "dispatch", "senior_agent", {"department": "network", "note": "a"})
    _act(api, ids[1], "dispatch", "senior_agent", {"department": "billing_support", "note": "b"})
    network = drain(aws, "NetworkInbox")
    billing = drain(aws, "BillingSupportInbox")
    assert {m["ticketId"] for m in network} == {ids[0]}
    assert {m["ticketId"] for m in billing} == {ids[1]}
    assert all(m["_attributes"]["department"] == "network" for m in network)
    assert all(m["_attributes"]["department"] == "billing_support" for m in billing)


def test_a_stranded_ticket_is_repaired_by_the_next_sweep(client, api: Api, aws, clock) -> None:
    # GIVEN a ticket whose execution died while it waited for the dispatch
    [tid] = _tickets(api, 1)
    sfn = boto3.client("stepfunctions")
    before = api.call("GET", f"/tickets/{tid}", "complaint_manager")[1]
    from chalicelib.services.context import deps

    token = deps().repo.get(tid, consistent=True).task_token
    sfn.send_task_failure(taskToken=token, error="Killed", cause="a test kills the execution")
    wait_until(
        lambda: (
            sfn.describe_execution(executionArn=before["workflow"]["executionArn"])["status"]
            == "FAILED"
        )
    )
    # WHEN the sweep runs past the step's deadline
    clock[0] = timedelta(hours=1)
    result = _sweep(client)
    # THEN a new execution resumes at the ticket's step, and operators are told
    assert result["repaired"] == 1
    after = wait_until(
        lambda: (
            (t := api.call("GET", f"/tickets/{tid}", "complaint_manager")[1])["workflow"][
                "executionArn"
            ]
            != before["workflow"]["executionArn"]
            and t
        )
    )
    new_arn = after["workflow"]["executionArn"]
    assert sfn.describe_execution(executionArn=new_arn)["status"] == "RUNNING"
    told = [m for m in drain(aws, "OperatorsInbox") if m["eventType"] == "workflow_repaired"]
    assert [m["ticketId"] for m in told] == [tid]
    # AND the flow goes on from there
    _waiting(api, tid, "dispatch")
    clock[0] = timedelta()
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "go"})
    _waiting(api, tid, "accept")
    assert _sweep(client)["repaired"] == 0


def test_emergency_approval_duties_are_reminded_then_marked_overdue_until_done(
    client, api: Api, aws, clock
) -> None:
    # GIVEN an emergency complaint (urgent, the media involved)
    t = api.create(
        role="senior_agent",
        urgent=True,
        customerDeadline={"at": "2099-01-01T09:00:00+08:00", "detail": "客户出国前须开通"},
        flags=["media"],
        phenomenon="voice_coverage",
        fields=FIELDS,
    )
    tid = t["id"]
    _waiting(api, tid, "dispatch")
    drain(aws, "CrcInbox")
    # WHEN the approval form is 2.5 days late... (due to the CRC within 3 days)
    clock[0] = timedelta(days=2, hours=12)
    _sweep(client)
    reminders = [m for m in drain(aws, "CrcInbox") if m.get("duty") == "approvalFormToCrc"]
    assert [m["eventType"] for m in reminders] == ["reminder"]
    # AND the administrator files it; the leader's approval is still missing after a week
    clock[0] = timedelta()
    _act(
        api,
        tid,
        "note",
        "complaint_manager",
        {"text": "审批单已报客响", "duty": "approvalFormToCrc"},
    )
    clock[0] = timedelta(days=8)
    _sweep(client)
    by_duty = Counter((m.get("duty"), m["eventType"]) for m in drain(aws, "CrcInbox"))
    assert by_duty[("leaderApproval", "breached")] == 1
    assert by_duty[("approvalFormToCrc", "breached")] == 0
    ticket = api.call("GET", f"/tickets/{tid}", "complaint_manager")[1]
    assert "leaderApproval" in ticket["overdueDuties"] and ticket["breached"] is True
