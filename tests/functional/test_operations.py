"""Operators on moto with real executions: the executions that failed, timed out or were
aborted, the tickets the sweep is stuck at (from the sparse stuck-index), and the on-demand
restart of a ticket's lifecycle at its step."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib import config
from tests.functional.conftest import Api, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import _act, _waiting
from tests.functional.test_sweep import _deps, _tickets, clock  # noqa: F401
from tests.functional.test_sweep_bulkheads import _StartFailsFor


def _listed(api: Api, status: str, **kw: Any) -> list[dict[str, Any]]:
    code, page, _ = api.call("GET", f"/operations/executions?status={status}", "operator", **kw)
    assert code == 200, page
    return page["items"]  # type: ignore[no-any-return]


def _kill(ticket_id: str) -> str:
    """Fail the ticket's running execution, as a crash would; its ARN."""
    sfn = boto3.client("stepfunctions")
    ticket = _deps().repo.get(ticket_id, consistent=True)
    sfn.send_task_failure(taskToken=ticket.task_token, error="Killed", cause="a test kills it")
    arn = ticket.execution_arn
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] == "FAILED")
    return arn


def test_failed_executions_are_listed_with_their_ticket(api: Api, aws) -> None:
    # GIVEN one ticket whose execution failed beside one whose execution runs
    failed, _running = _tickets(api, 2)
    failed_arn = _kill(failed)
    # WHEN an operator lists the failed executions
    by_failed = _listed(api, "FAILED", user="ops1")
    # THEN exactly that one is listed, naming the ticket and linking its workflow and restart
    assert [(i["ticketId"], i["executionArn"]) for i in by_failed] == [(failed, failed_arn)]
    assert by_failed[0]["status"] == "FAILED" and by_failed[0]["stoppedAt"]
    assert by_failed[0]["links"]["restart"] == f"/tickets/{failed}/workflow/restart"
    assert _listed(api, "TIMED_OUT") == [] and _listed(api, "ABORTED") == []
    # AND the listing is audited
    code, page, _ = api.call("GET", "/audit?actor=ops1", "auditor")
    assert code == 200
    assert "list_executions" in [e["action"] for e in page["items"]], page


def test_pages_are_cursored_and_a_cursor_keeps_its_status(api: Api, aws) -> None:
    ids = _tickets(api, 3)
    for tid in ids:
        _kill(tid)
    seen: list[str] = []
    code, page, _ = api.call("GET", "/operations/executions?status=FAILED&limit=2", "operator")
    assert code == 200 and len(page["items"]) == 2 and page["nextCursor"]
    seen += [i["ticketId"] for i in page["items"]]
    cursor = page["nextCursor"]
    code, problem, _ = api.call(
        "GET", f"/operations/executions?status=stuck&cursor={cursor}", "operator"
    )
    assert code == 400 and problem["errors"][0]["field"] == "cursor"
    code, page, _ = api.call(
        "GET", f"/operations/executions?status=FAILED&limit=2&cursor={cursor}", "operator"
    )
    seen += [i["ticketId"] for i in page["items"]]
    assert sorted(seen) == sorted(ids) and page["nextCursor"] is None


def test_only_operators_list_executions_and_a_bad_status_names_the_field(api: Api, aws) -> None:
    for role in ("agent", "complaint_manager", "auditor", "leader"):
        code, _, _ = api.call("GET", "/operations/executions?status=FAILED", role)
        assert code == 403, role
    code, problem, _ = api.call("GET", "/operations/executions?status=RUNNING", "operator")
    assert code == 400 and problem["errors"][0]["field"] == "status"
    code, problem, _ = api.call("GET", "/operations/executions", "operator")
    assert code == 400 and problem["errors"][0]["field"] == "status"


def test_a_ticket_the_sweep_fails_at_is_stuck_until_an_operator_restarts_it(
    api: Api,
    aws,
    clock,  # noqa: F811
) -> None:
    from chalicelib.services import sweep

    # GIVEN a ticket whose execution died and cannot be started again, beside a healthy one
    stuck, fine = _tickets(api, 2)
    _kill(stuck)
    deps = _deps()
    real = deps.workflows.client
    deps.workflows._client = _StartFailsFor(real, stuck)
    clock[0] = timedelta(minutes=35)
    # WHEN the sweep fails at it
    assert sweep.run(deps)["failed"] == 1
    # THEN it is listed as stuck, still retried; the healthy one is not listed
    [item] = _listed(api, "stuck")
    assert item["ticketId"] == stuck and item["sweepAttempts"] == 1
    assert item["setAside"] is False and item["retryAt"]
    assert item["reason"].startswith("workflow_check") and item["ticket"]["step"] == "dispatch"
    # AND after the bound the sweep sets it aside: still listed, no retry ahead
    for attempt in range(2, sweep.MAX_ATTEMPTS + 1):
        clock[0] += sweep.retry_delay(attempt) + timedelta(minutes=1)
        sweep.run(deps)
    [item] = _listed(api, "stuck")
    assert item["setAside"] is True and item["retryAt"] is None
    assert item["sweepAttempts"] == sweep.MAX_ATTEMPTS - 1
    drain(aws, "OperatorsInbox")

    # WHEN Step Functions works again and an operator restarts it
    deps.workflows._client = real
    code, restarted, _ = api.call("POST", f"/tickets/{stuck}/workflow/restart", "operator")

    # THEN a fresh execution waits at the ticket's step, and the ticket is no longer stuck
    assert code == 202, restarted
    assert restarted["previousStatus"] == "FAILED" and restarted["step"] == "dispatch"
    wait_until(
        lambda: deps.repo.get(stuck, consistent=True).execution_arn.endswith(restarted["execution"])
    )
    _waiting(api, stuck, "dispatch")
    assert _listed(api, "stuck") == []
    stored = boto3.client("dynamodb").get_item(
        TableName=config.tickets_table(), Key={"id": {"S": stuck}}, ConsistentRead=True
    )["Item"]
    assert "sweepAttempts" not in stored and "dueKey" in stored
    history = api.call("GET", f"/tickets/{stuck}/history", "complaint_manager")[1]["items"]
    assert [e["action"] for e in history].count("workflow_restarted") == 1
    told = [m for m in drain(aws, "OperatorsInbox") if m["eventType"] == "workflow_repaired"]
    assert [m["ticketId"] for m in told] == [stuck]
    # AND the flow goes on from there
    clock[0] = timedelta()
    _act(api, stuck, "dispatch", "senior_agent", {"department": "network", "note": "go"})
    _waiting(api, stuck, "accept")
    # AND a restart while it runs is refused, changing nothing
    code, problem, _ = api.call("POST", f"/tickets/{stuck}/workflow/restart", "operator")
    assert code == 409 and problem["code"] == "workflow_running"
    assert fine not in [i["ticketId"] for i in _listed(api, "stuck")]


def test_restart_is_for_operators_and_out_of_scope_looks_missing(api: Api, aws) -> None:
    [tid] = _tickets(api, 1)
    _kill(tid)
    code, _, _ = api.call("POST", f"/tickets/{tid}/workflow/restart", "complaint_manager")
    assert code == 403
    # a department user does not see a ticket its department never held: it looks missing
    path = f"/tickets/{tid}/workflow/restart"
    code, _, _ = api.call("POST", path, "department", department="billing_support")
    assert code == 404
    code, _, _ = api.call(
        "POST", "/tickets/T0000000000000000000000000/workflow/restart", "operator"
    )
    assert code == 404
    # nothing was started by the refusals
    assert _listed(api, "FAILED")[0]["ticketId"] == tid
    assert _deps().repo.get(tid, consistent=True).workflow_status == "started"


def test_the_sweep_handler_emits_its_outcomes_as_metrics_the_alarms_read(
    api: Api,
    aws,
    clock,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.functional.test_sweep import _sweep

    # GIVEN two tickets far past their deadlines
    _tickets(api, 2)
    clock[0] = timedelta(days=30)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    # WHEN the scheduled sweep runs
    result = _sweep(api.client)
    # THEN its outcomes went out as one EMF record, under the alarms' names
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    sweeps = [r for r in records if "Breaches" in r]
    assert len(sweeps) == 1

    def value(name: str) -> float:
        v = sweeps[0][name]
        return float(sum(v) if isinstance(v, list) else v)

    assert value("Breaches") == result["breached"] >= 2
    assert value("SweepNoticesSent") == result["sent"]
    assert sweeps[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "complaint-tickets"
