"""Issue 11's incident figures: 50 concurrent same-phenomenon complaints make exactly one
incident (and what the race costs), and the AWS calls and billed state transitions it takes to
resolve an incident of 500 tickets. moto in-process, every state machine really executed.

    .venv/bin/python -m bench.incidents [--tickets 500] [--concurrent 50]

Reports, never asserts: exits non-zero only when it cannot measure.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench._common import (
    BENCH_SECRET,
    ROOT,
    BenchError,
    moto_app_stack,
    prepare_environment,
    run_main,
    ticket_body,
    write_summary,
)

STACK = "complaint-tickets-bench-incidents"
FIELDS = {
    "handsetModel": "iPhone 15",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "思明区中山路",
}
_numbers = itertools.count(1)


class Calls:
    """AWS API calls by operation: of the request threads (`requests`) and of the incident's
    Lambda tasks (`tasks`), told apart by a thread-local mark."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.tasks: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._mark = threading.local()

    def install(self) -> None:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        calls = self

        def counting(client: Any, operation: str, params: Any) -> Any:
            where = getattr(calls._mark, "where", None)
            if where is not None:
                with calls._lock:
                    (calls.tasks if where == "task" else calls.requests)[operation] += 1
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]

    @contextmanager
    def marked(self, where: str) -> Iterator[None]:
        self._mark.where = where
        try:
            yield
        finally:
            self._mark.where = None


def _headers(role: str, department: str | None = None) -> dict[str, str]:
    from infra.local_auth import make_token

    token = make_token([role], department, f"bench-{role}", BENCH_SECRET)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _complaint(channel: str = "hotline", area: str = "思明区") -> str:
    number = f"139{next(_numbers):08d}"
    return json.dumps(
        ticket_body(
            channel=channel,
            phenomenon="voice_coverage",
            serviceNumber=number,
            complainant={"name": "李四", "contactNumber": number},
            location={"area": area},
            fields=FIELDS,
        ),
        ensure_ascii=False,
    )


def measure(tickets: int, concurrent: int) -> dict[str, Any]:
    prepare_environment(STACK)
    calls = Calls()
    calls.install()
    from chalice.test import Client

    from chalicelib.services import incidents as service

    real_task = service.task

    def counted_task(event: dict[str, Any], deps: Any) -> dict[str, Any]:
        with calls.marked("task"):
            return real_task(event, deps)

    service.task = counted_task  # type: ignore[assignment]
    results: dict[str, Any] = {}
    with moto_app_stack(STACK) as (app, stack, session), Client(app, project_dir=str(ROOT)) as c:
        sfn = session.client("stepfunctions")
        senior = _headers("senior_agent")
        manager = _headers("complaint_manager")

        def post(body: str) -> dict[str, Any]:
            with calls.marked("request"):
                resp = c.http.post("/tickets", headers=senior, body=body)
            if resp.status_code != 201:
                raise BenchError(f"POST /tickets answered {resp.status_code}: {resp.body!r}")
            return dict(json.loads(resp.body))

        post(_complaint("app"))  # warm-up: clients, catalog (another interface)
        # -- 50 at once, at one business hall -------------------------------------------------
        calls.requests.clear()
        bodies = [_complaint("business_hall", "集美区") for _ in range(concurrent)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            made = list(pool.map(post, bodies))
        per_request = dict(calls.requests)
        listed = json.loads(c.http.get("/incidents", headers=manager).body)["items"]
        ids = {t.get("incidentId") for t in made} - {None}
        results["concurrent"] = {
            "complaints": concurrent,
            "incidents": len(listed),
            "ticket_ids_on_incident": listed[0]["ticketCount"] if listed else 0,
            "linked_at_create": sum(1 for t in made if t.get("incidentId")),
            "distinct_incident_ids": len(ids),
            "calls": per_request,
        }
        # -- an incident of `tickets` tickets, resolved ----------------------------------------
        started = time.perf_counter()
        for _ in range(tickets):
            made = [post(_complaint("hotline"))]
        incident_id = made[-1].get("incidentId")
        if not incident_id:
            raise BenchError("the hotline complaints made no incident")
        created_in = time.perf_counter() - started
        _wait_taken_up(c, manager, incident_id)
        calls.tasks.clear()
        body = json.dumps({"cause": "cable_theft", "result": "已修复", "script": "故障已修复"})
        started = time.perf_counter()
        resp = c.http.post(f"/incidents/{incident_id}/resolve", headers=manager, body=body)
        if resp.status_code != 202:
            raise BenchError(f"resolve answered {resp.status_code}: {resp.body!r}")
        execution = json.loads(resp.body)["execution"]
        arn = (
            stack.refs["IncidentResolutionStateMachine"].replace(":stateMachine:", ":execution:")
            + ":"
            + execution
        )
        status = _wait(sfn, arn, timeout=3600)
        took = time.perf_counter() - started
        from bench.transitions import _history, entered_states

        history = _history(sfn, arn)
        entered = entered_states(history)
        detail = json.loads(c.http.get(f"/incidents/{incident_id}", headers=manager).body)
        results["resolution"] = {
            "tickets": detail["ticketCount"],
            "status": status,
            "incident": detail["status"],
            "by_status": detail["counts"]["byStatus"],
            "transitions": len(entered),
            "by_state": dict(Counter(name for _, name in entered)),
            "task_calls": dict(calls.tasks),
            "seconds": round(took, 1),
            "create_seconds": round(created_in, 1),
        }
    return results


def _wait_taken_up(c: Any, headers: dict[str, str], incident_id: str) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        got = json.loads(c.http.get(f"/incidents/{incident_id}", headers=headers).body)
        if got.get("escalationLevel") == 2:
            return
        time.sleep(0.5)
    raise BenchError("the incident was not taken up in time")


def _wait(sfn: Any, arn: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def report(results: dict[str, Any]) -> dict[str, Any]:
    con = results["concurrent"]
    calls = Counter(con["calls"])
    n = con["complaints"]
    retried = calls["TransactWriteItems"] - n
    print(f"{n} concurrent same-phenomenon complaints at one business hall (10 threads):")
    print(
        f"  incidents: {con['incidents']} (ids seen at create: {con['distinct_incident_ids']}), "
        f"tickets on it: {con['ticket_ids_on_incident']}, linked at create: "
        f"{con['linked_at_create']}"
    )
    ops = ", ".join(f"{op} {k / n:.2f}" for op, k in sorted(calls.items()))
    print(f"  AWS calls per create: {sum(calls.values()) / n:.2f} ({ops})")
    print(f"  transactions retried after a stale read at the threshold: {retried} of {n}")
    res = results["resolution"]
    task_calls = Counter(res["task_calls"])
    t = res["tickets"]
    print(f"resolving an incident of {t} tickets ({res['status']}, incident {res['incident']}):")
    print(f"  billed state transitions: {res['transitions']} ({res['by_state']})")
    ops = ", ".join(f"{op} {k}" for op, k in sorted(task_calls.items()))
    print(f"  AWS calls by its Lambda tasks: {sum(task_calls.values())} ({ops})")
    print(f"  = {sum(task_calls.values()) / max(t, 1):.1f} per ticket; tickets: {res['by_status']}")
    print(f"  took {res['seconds']} s on moto (creating them: {res['create_seconds']} s)")
    headline = (
        f"incidents: {n} concurrent complaints -> {con['incidents']} incident "
        f"({retried} retried transactions); resolving {t} tickets: {res['transitions']} "
        f"transitions, {sum(task_calls.values())} AWS calls"
    )
    print(headline)
    return {"name": "incidents", "headline": headline, **results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incidents", description=__doc__)
    parser.add_argument("--tickets", type=int, default=500, help="tickets of the incident")
    parser.add_argument("--concurrent", type=int, default=50, help="complaints at once")
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        results = measure(args.tickets, args.concurrent)
    except BenchError as err:
        print(f"incidents: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "incidents"))
