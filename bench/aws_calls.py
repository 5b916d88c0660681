"""AWS API calls per `POST /tickets`, counted with botocore event hooks (moto in-process).

Every botocore client (boto3's and the one pynamodb builds on its own botocore session) gets a
`before-call` hook (one per API call) and a `before-send` hook (one per HTTP attempt, so retries
show). The API's calls are those made on the request's thread while a request is served, or on any
thread the app starts; the calls the state machine executions make inside moto (on moto's threads,
from moto's code) are listed apart, not counted.

    .venv/bin/python -m bench.aws_calls [-n 20]

Reports, never asserts: exits non-zero only when it cannot measure (e.g. a request fails).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench._common import (
    BENCH_SECRET,
    ROOT,
    BenchError,
    agent_headers,
    execution_parked,
    moto_app_stack,
    prepare_environment,
    run_main,
    ticket_body,
    write_summary,
)

STACK = "complaint-tickets-bench"
TARGET = 3


class CallCounter:
    """Counts botocore API calls by (service, operation), split by who made them."""

    def __init__(self) -> None:
        self.app_calls: Counter[str] = Counter()
        self.app_sends: Counter[str] = Counter()
        self.other_calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._bench_thread = threading.get_ident()
        self._original: Callable[..., Any] | None = None

    # -- installing the hooks ------------------------------------------------------------
    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            counter._hook(client)
            return client

        self._original = original
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        import botocore.session

        if self._original is not None:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]
            self._original = None

    def _hook(self, client: Any) -> None:
        # register_first: moto answers in `before-send`; the first handler that returns a
        # response ends the chain, so ours must run before it (it returns None).
        client.meta.events.register_first("before-call", self._on_call)
        client.meta.events.register_first("before-send", self._on_send)

    # -- the hooks -------------------------------------------------------------------------
    @staticmethod
    def _name(event_name: str) -> str:
        # "before-call.dynamodb.TransactWriteItems" -> "dynamodb.TransactWriteItems"
        return event_name.split(".", 1)[1]

    def _ours(self) -> bool:
        return self._thread is not None and threading.get_ident() == self._thread

    @staticmethod
    def _from_moto() -> bool:
        """Whether moto itself (a state machine execution) is making this call."""
        frame = sys._getframe(1)
        while frame is not None:
            if f"{os.sep}moto{os.sep}" in frame.f_code.co_filename:
                return True
            frame = frame.f_back  # type: ignore[assignment]
        return False

    def _on_call(self, event_name: str = "", **kwargs: Any) -> None:
        if self._ours():
            tally = self.app_calls
        elif threading.get_ident() == self._bench_thread:
            return  # the benchmark's own set-up and polling
        elif self._from_moto():
            tally = self.other_calls  # moto's threads: the state machine executions
        else:
            tally = self.app_calls  # a thread the app started
        with self._lock:
            tally[self._name(event_name)] += 1

    def _on_send(self, event_name: str = "", **kwargs: Any) -> None:
        if self._ours() or (threading.get_ident() != self._bench_thread and not self._from_moto()):
            with self._lock:
                self.app_sends[self._name(event_name)] += 1

    @contextmanager
    def request(self) -> Iterator[None]:
        """Attribute the calls of this thread, for the duration of one request, to the app."""
        self._thread = threading.get_ident()
        try:
            yield
        finally:
            self._thread = None

    def reset(self) -> None:
        with self._lock:
            self.app_calls.clear()
            self.app_sends.clear()
            self.other_calls.clear()


def _per_request(counts: Counter[str], requests: int) -> str:
    parts = [f"{op} {n / requests:g}" for op, n in sorted(counts.items())]
    return ", ".join(parts) or "none"


def _wait_for_execution(sfn: Any, state_machine_arn: str, name: str, timeout: float = 10.0) -> str:
    """Wait until the ticket's execution ends; returns its status.

    moto is not thread-safe: an execution's TransactWriteItems on moto's thread racing the next
    request's on ours can fail inside moto ("dictionary changed size during iteration"). One
    request at a time, each execution finished before the next, keeps the count clean.
    """
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
    deadline = time.monotonic() + timeout
    while True:
        status = execution_parked(sfn, arn)
        if status not in ("RUNNING", "MISSING") or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def measure(n: int) -> dict[str, Any]:
    prepare_environment(STACK)
    counter = CallCounter()
    counter.install()  # before anything builds a botocore client
    try:
        return _measure(counter, n)
    finally:
        counter.uninstall()


def _measure(counter: CallCounter, n: int) -> dict[str, Any]:
    import boto3
    from chalice.test import Client

    with moto_app_stack(STACK) as (app, stack, _session):
        headers = agent_headers(BENCH_SECRET)
        body = json.dumps(ticket_body(), ensure_ascii=False)
        results: dict[str, Any] = {}
        sfn = boto3.client("stepfunctions")
        machine = stack.refs["LifecycleStateMachine"]
        statuses: Counter[str] = Counter()

        with Client(app, project_dir=str(ROOT)) as client:

            def post(extra: dict[str, str]) -> None:
                with counter.request():
                    resp = client.http.post("/tickets", headers={**headers, **extra}, body=body)
                if resp.status_code != 201:
                    raise BenchError(f"POST /tickets answered {resp.status_code}: {resp.body!r}")
                if resp.headers.get("Idempotent-Replayed") != "true":
                    ticket_id = json.loads(resp.body)["id"]
                    statuses[_wait_for_execution(sfn, machine, ticket_id)] += 1

            post({})  # warm-up: builds clients, loads the catalog; not measured
            keys = [f"bench-{uuid.uuid4()}" for _ in range(n)]
            scenarios: list[tuple[str, list[dict[str, str]]]] = [
                ("without Idempotency-Key", [{} for _ in range(n)]),
                ("with a new Idempotency-Key", [{"Idempotency-Key": k} for k in keys]),
                ("replaying an Idempotency-Key", [{"Idempotency-Key": k} for k in keys[:5]]),
            ]
            for name, extras in scenarios:
                counter.reset()
                for extra in extras:
                    post(extra)
                results[name] = {
                    "requests": len(extras),
                    "calls": dict(counter.app_calls),
                    "sends": dict(counter.app_sends),
                    "state_machine_calls": dict(counter.other_calls),
                }
            counter.reset()
        results["executions"] = dict(statuses)
        return results


def report(results: dict[str, Any]) -> dict[str, Any]:
    creates = ["without Idempotency-Key", "with a new Idempotency-Key"]
    total_calls: Counter[str] = Counter()
    total_requests = 0
    print("AWS API calls made by the app per POST /tickets (botocore before-call hooks):")
    for name in [*creates, "replaying an Idempotency-Key"]:
        r = results[name]
        calls: Counter[str] = Counter(r["calls"])
        sends: Counter[str] = Counter(r["sends"])
        per = sum(calls.values()) / r["requests"]
        retries = sum(sends.values()) - sum(calls.values())
        note = f"; {retries} HTTP retries" if retries else ""
        print(
            f"  {name:<30} {per:4.1f} per request over {r['requests']:>2}: "
            f"{_per_request(calls, r['requests'])}{note}"
        )
        if name in creates:
            total_calls.update(calls)
            total_requests += r["requests"]
    sm: Counter[str] = Counter()
    for name in creates:
        sm.update(results[name]["state_machine_calls"])
    executions = ", ".join(f"{k} {v}" for k, v in sorted(results["executions"].items()))
    print(
        "  not counted: the state machine's own calls inside moto, per create: "
        f"{_per_request(sm, total_requests)} (executions: {executions})"
    )
    per_create = sum(total_calls.values()) / total_requests
    breakdown = ", ".join(
        f"{op.split('.', 1)[1]} {n / total_requests:g}" for op, n in sorted(total_calls.items())
    )
    headline = f"AWS calls per POST /tickets: {per_create:.1f} (target ≤ {TARGET}) — {breakdown}"
    print(headline)
    replay = results["replaying an Idempotency-Key"]
    replay_per = sum(replay["calls"].values()) / replay["requests"]
    return {
        "name": "aws_calls",
        "headline": headline,
        "calls_per_create": per_create,
        "target": TARGET,
        "breakdown": {op: n / total_requests for op, n in total_calls.items()},
        "replay_calls": replay_per,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.aws_calls", description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="creates per scenario (default 20)")
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        results = measure(args.n)
    except BenchError as err:
        print(f"aws_calls: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "aws_calls"))
