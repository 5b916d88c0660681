"""Billed state transitions, AWS calls and the list-price bill of one ticket's happy path.

The happy path of tests/functional/test_lifecycle_paths.py, in-process on moto with the state
machine really executed: intake (by a senior agent, phenomenon and required fields given, so it
goes straight to dispatch) → dispatch → resolve → reply → revisit → archive, through the Chalice
test client with local tokens. Each ticket is driven to its end before the next starts.

- State transitions: Standard workflows bill every state entered, so the `*StateEntered` events
  of the execution history are counted and listed by state name.
- AWS calls: botocore hooks (bench.aws_calls.CallCounter), each call put down to who made it: the
  API (one Lambda invocation per HTTP request), a Lambda run by moto (the task-token handler,
  the escalation Lambda), or the state machine itself (moto's threads). The state machine's own
  DynamoDB and SQS work is billed from the execution history; the hooks cross-check it.
- Cost: list prices per 1M such tickets (constants below).

    .venv/bin/python -m bench.transitions [-n 3] [--lambda-ms 80]

Reports, never asserts: exits non-zero only when it cannot measure (e.g. a request fails).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
from bench.aws_calls import CallCounter

STACK = "complaint-tickets-bench-transitions"
_CUSTOMERS = itertools.count()
TARGET = 12
TICKETS = 1_000_000
STATE_MACHINE = "state machine"
API = "API"
# What the happy path sends, as in tests/functional/test_lifecycle_paths.py.
FIELDS = {
    "handsetModel": "iPhone 15",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "思明区中山路",
}

# --- list prices -------------------------------------------------------------------------
# AWS us-east-1 public list prices as assumed on 2025-06-01 (no free tier, no volume tiers,
# no savings plans). Check https://aws.amazon.com/pricing/ before quoting them.
SFN_STANDARD_PER_TRANSITION = 0.025 / 1_000  # Step Functions Standard, per state transition
DYNAMODB_PER_WRU = 0.625 / 1_000_000  # on-demand, per write request unit
DYNAMODB_PER_RRU = 0.125 / 1_000_000  # on-demand, per read request unit
LAMBDA_PER_REQUEST = 0.20 / 1_000_000  # x86, per invocation
LAMBDA_PER_GB_SECOND = 0.0000166667  # x86, duration
LAMBDA_MEMORY_GB = 512 / 1024  # assumed memory size of every function
SNS_PER_PUBLISH = 0.50 / 1_000_000  # standard topic, per publish (≤ 64 KB)
SQS_PER_REQUEST = 0.40 / 1_000_000  # standard queue, per request (≤ 64 KB)
SQS_REQUESTS_PER_MESSAGE = 3  # send + receive + delete (the event source's, unbatched)
APIGW_REST_PER_REQUEST = 3.50 / 1_000_000  # REST API, first 333M requests a month

# --- DynamoDB request units --------------------------------------------------------------
# Items assumed ≤ 1 KB written and ≤ 4 KB read, so each unit below is per item or per call:
# a transactional write item (Put/Update/Delete/ConditionCheck) 2 WRU, a plain write 1 WRU,
# a consistent GetItem 1 RRU (eventually consistent 0.5), a transactional read item 2 RRU,
# a Query or Scan page ~1 RRU. GSI propagation writes are not counted (see the notes printed).
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}

Units = defaultdict[str, float]


def _units() -> Units:
    return defaultdict(float)


def request_units(operation: str, params: dict[str, Any]) -> tuple[float, float]:
    """(RRU, WRU) of one DynamoDB call, under the assumptions above."""
    if operation == "TransactWriteItems":
        return 0.0, 2.0 * len(params.get("TransactItems", []))
    if operation == "TransactGetItems":
        return 2.0 * len(params.get("TransactItems", [])), 0.0
    if operation in _WRITE_OPS:
        return 0.0, 1.0
    if operation == "BatchWriteItem":
        return 0.0, float(sum(len(v) for v in params.get("RequestItems", {}).values()))
    if operation == "GetItem":
        return (1.0 if params.get("ConsistentRead") else 0.5), 0.0
    if operation == "BatchGetItem":
        tables = params.get("RequestItems", {}).values()
        return float(sum(len(t.get("Keys", [])) for t in tables)), 0.0
    if operation in ("Query", "Scan"):
        return 1.0, 0.0
    return 0.0, 0.0


def tally_units(tally: Units, service: str, operation: str, params: dict[str, Any]) -> None:
    """Add what one call bills: DynamoDB request units, SNS publishes, SQS messages sent.
    `service` as botocore names it (dynamodb, sns, sqs), `operation` as its API does."""
    if service == "dynamodb":
        rru, wru = request_units(operation, params)
        tally["dynamodb RRU"] += rru
        tally["dynamodb WRU"] += wru
        if operation == "TransactWriteItems":
            tally["dynamodb transaction items"] += len(params.get("TransactItems", []))
        elif operation in _WRITE_OPS:
            tally["dynamodb plain writes"] += 1
    elif service == "sns":
        entries = params.get("PublishBatchRequestEntries") or [params]
        tally["sns publishes"] += len(entries) if operation == "PublishBatch" else 1
    elif service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
        entries = params.get("Entries") or [params]
        tally["sqs messages"] += len(entries)


class PathCounter(CallCounter):
    """CallCounter's hooks, with every call put down to its source: the API, a Lambda run by
    moto (labelled while it runs) or the state machine (moto's threads). The benchmark's own
    set-up and polling, on its thread with no label, are not counted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.sends: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.units: defaultdict[str, Units] = defaultdict(_units)
        self._label = threading.local()

    @contextmanager
    def source(self, name: str) -> Iterator[None]:
        """Put the calls this thread makes meanwhile down to `name` (nests)."""
        previous = getattr(self._label, "name", None)
        self._label.name = name
        try:
            yield
        finally:
            self._label.name = previous

    def _source(self) -> str | None:
        label: str | None = getattr(self._label, "name", None)
        if label is not None:
            return label
        if threading.get_ident() == self._bench_thread:
            return None
        return STATE_MACHINE if self._from_moto() else "app (own thread)"

    def _hook(self, client: Any) -> None:
        super()._hook(client)
        client.meta.events.register_first("before-parameter-build", self._on_params)

    def _on_call(self, event_name: str = "", **kwargs: Any) -> None:
        source = self._source()
        if source is not None:
            with self._lock:
                self.calls[source][self._name(event_name)] += 1

    def _on_send(self, event_name: str = "", **kwargs: Any) -> None:
        source = self._source()
        if source is not None:
            with self._lock:
                self.sends[source][self._name(event_name)] += 1

    def _on_params(
        self, event_name: str = "", params: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        source = self._source()
        if source is None:
            return
        service, operation = self._name(event_name).split(".", 1)
        with self._lock:
            tally_units(self.units[source], service, operation, params or {})

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.sends.clear()
            self.units.clear()


class LambdaMeter:
    """Counts and times the Lambda invocations moto makes (infra/lambdas.py runs them
    in-process), labelling their AWS calls with the function's name."""

    def __init__(self, counter: PathCounter) -> None:
        self.counter = counter
        self.seconds: defaultdict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def install(self) -> None:
        """After create_all(..., app=app): wraps the invoke infra.lambdas put in place."""
        from moto.awslambda.models import LambdaFunction

        original: Callable[..., Any] = LambdaFunction._invoke_lambda
        meter = self

        def invoke(fn: Any, event: Any = None) -> Any:
            name = str(fn.function_name).removeprefix(f"{STACK}-")
            start = time.perf_counter()
            try:
                with meter.counter.source(name):
                    return original(fn, event)
            finally:
                with meter._lock:
                    meter.seconds[name].append(time.perf_counter() - start)

        self._original = original
        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        from moto.awslambda.models import LambdaFunction

        if self._original is not None:
            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None

    def reset(self) -> None:
        with self._lock:
            self.seconds.clear()


@dataclass
class Run:
    """One happy-path ticket: its HTTP requests (with durations) and execution history."""

    ticket_id: str
    requests: list[tuple[str, float]]
    history: list[dict[str, Any]]


def measure(n: int) -> dict[str, Any]:
    prepare_environment(STACK)
    counter = PathCounter()
    counter.install()  # before anything builds a botocore client
    try:
        return _measure(counter, n)
    finally:
        counter.uninstall()


def _measure(counter: PathCounter, n: int) -> dict[str, Any]:
    from chalice.test import Client

    meter = LambdaMeter(counter)
    with moto_app_stack(STACK) as (app, stack, session):
        meter.install()
        sfn = session.client("stepfunctions")
        machine = stack.refs["LifecycleStateMachine"]
        try:
            with Client(app, project_dir=str(ROOT)) as client:
                _happy_path(client, counter, sfn, machine)  # warm-up: clients, catalog
                appeal = _appeal_path(client, counter, sfn, machine)  # transitions only
                counter.reset()
                meter.reset()
                runs = [_happy_path(client, counter, sfn, machine) for _ in range(n)]
        finally:
            meter.uninstall()
        return {
            "tickets": n,
            "runs": [r.__dict__ for r in runs],
            "calls": {k: dict(v) for k, v in counter.calls.items()},
            "sends": {k: dict(v) for k, v in counter.sends.items()},
            "units": {k: dict(v) for k, v in counter.units.items()},
            "lambda_seconds": {k: list(v) for k, v in meter.seconds.items()},
            "appeal_states": appeal,
        }


def _headers(role: str, department: str | None = None, user: str | None = None) -> dict[str, str]:
    from infra.local_auth import make_token

    token = make_token([role], department, user, BENCH_SECRET)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _happy_path(client: Any, counter: PathCounter, sfn: Any, machine: str) -> Run:
    requests: list[tuple[str, float]] = []

    def call(path: str, body: dict[str, Any], expect: int, **who: Any) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False)
        start = time.perf_counter()
        with counter.source(API):
            resp = client.http.post(path, headers=_headers(**who), body=payload)
        requests.append((f"POST {path.rsplit('/', 1)[-1]}", time.perf_counter() - start))
        if resp.status_code != expect:
            raise BenchError(f"POST {path} answered {resp.status_code}: {resp.body!r}")
        result: dict[str, Any] = json.loads(resp.body)
        return result

    # a new customer each run: the same one again would be a repeat (issue 10), not the happy path
    number = f"1380000{next(_CUSTOMERS):04d}"
    body = ticket_body(phenomenon="voice_coverage", fields=FIELDS, serviceNumber=number)
    created = call("/tickets", body, 201, role="senior_agent")
    tid = str(created["id"])
    if created.get("step") != "dispatch":
        raise BenchError(f"the ticket went to {created.get('step')!r}, not straight to dispatch")
    steps: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        (
            "dispatch",
            "dispatch",
            {"department": "network", "note": "弱覆盖"},
            {"role": "senior_agent", "user": "senior"},
        ),
        (
            "accept",
            "resolve",
            {"cause": "weak_coverage", "result": "已调整天线"},
            {"role": "department", "department": "network"},
        ),
        ("reply", "reply", {"content": "已处理", "method": "sms"}, {"role": "agent"}),
        ("revisit", "revisit", {"satisfaction": "satisfied"}, {"role": "agent"}),
        ("archive", "archive", {"analysis": "覆盖问题"}, {"role": "complaint_manager"}),
    ]
    for step, action, action_body, who in steps:
        _wait_for_step(tid, step)
        call(f"/tickets/{tid}/{action}", action_body, 200, **who)
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + tid
    _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", "the end")
    status = sfn.describe_execution(executionArn=arn)["status"]
    if status != "SUCCEEDED":
        raise BenchError(f"execution {tid} ended {status}")
    return Run(tid, requests, _history(sfn, arn))


# -- issue 10 part B: the appeal path ------------------------------------------------------


def _appeal_path(client: Any, counter: PathCounter, sfn: Any, machine: str) -> list[str]:
    """The states an appeal's execution enters: a customer's appeal of an archived happy-path
    ticket, verified at review, dispatched, resolved, replied, revisited, archived."""
    original = _happy_path(client, counter, sfn, machine).ticket_id

    def call(path: str, body: dict[str, Any], expect: int, **who: Any) -> dict[str, Any]:
        resp = client.http.post(
            path, headers=_headers(**who), body=json.dumps(body, ensure_ascii=False)
        )
        if resp.status_code != expect:
            raise BenchError(f"POST {path} answered {resp.status_code}: {resp.body!r}")
        result: dict[str, Any] = json.loads(resp.body)
        return result

    appeal = {"description": "对处理结果不满", "source": "customer"}
    tid = str(call(f"/tickets/{original}/appeal", appeal, 201, role="complaint_manager")["id"])
    steps: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("review", "review", {"valid": True, "opinion": "申诉属实"}, {"role": "senior_agent"}),
        (
            "dispatch",
            "dispatch",
            {"department": "network", "note": "限时重查"},
            {"role": "senior_agent"},
        ),
        (
            "accept",
            "resolve",
            {"cause": "weak_coverage", "result": "已新建基站"},
            {"role": "department", "department": "network"},
        ),
        ("reply", "reply", {"content": "已重新处理", "method": "phone"}, {"role": "agent"}),
        ("revisit", "revisit", {"satisfaction": "satisfied"}, {"role": "agent"}),
        ("archive", "archive", {"analysis": "申诉复查"}, {"role": "complaint_manager"}),
    ]
    for step, action, action_body, who in steps:
        _wait_for_step(tid, step)
        call(f"/tickets/{tid}/{action}", action_body, 200, **who)
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + tid
    _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", "the end")
    if sfn.describe_execution(executionArn=arn)["status"] != "SUCCEEDED":
        raise BenchError(f"appeal execution {tid} did not succeed")
    return [name for _, name in entered_states(_history(sfn, arn))]


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"the workflow did not reach {what} within {timeout:g} s")
        time.sleep(0.01)


def _wait_for_step(ticket_id: str, step: str) -> None:
    """The workflow waits at `step` (the token handler recorded its callback token)."""
    from chalicelib.services.context import deps

    def there() -> bool:
        t = deps().repo.get(ticket_id, consistent=True)
        return t is not None and t.step == step and t.task_token is not None

    _wait(there, f"step {step!r}")


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return json.loads(json.dumps(events, default=str))  # type: ignore[no-any-return]
        kwargs["nextToken"] = page["nextToken"]


# --- the report --------------------------------------------------------------------------
def entered_states(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(state type, state name) of every state entered: the billed transitions."""
    return [
        (e["type"].removesuffix("StateEntered"), e["stateEnteredEventDetails"]["name"])
        for e in history
        if e["type"].endswith("StateEntered")
    ]


def machine_units(history: list[dict[str, Any]]) -> Units:
    """The state machine's own billable work, from its TaskScheduled events (their resource
    and parameters): DynamoDB units of its SDK tasks, SQS messages, Lambda invocations."""
    units = _units()
    for e in history:
        if e["type"] != "TaskScheduled":
            continue
        details = e["taskScheduledEventDetails"]
        service = str(details["resourceType"]).rsplit(":", 1)[-1]  # aws-sdk:dynamodb, sqs
        resource = str(details["resource"]).split(".", 1)[0]  # sendMessage.waitForTaskToken
        params = json.loads(details.get("parameters") or "{}")
        if service == "lambda":
            units["lambda invocations"] += 1
        else:
            tally_units(units, service, resource[:1].upper() + resource[1:], params)
    return units


def _mean_ms(values: list[float]) -> float:
    return 1000 * statistics.fmean(values) if values else 0.0


@dataclass(frozen=True)
class PerTicket:
    """What one happy-path ticket bills, averaged over the tickets measured."""

    states: list[tuple[str, str]]
    http: int  # API Gateway requests = API Lambda invocations
    functions: dict[str, float]  # other Lambda invocations by function
    api_ms: float
    functions_ms: dict[str, float]
    app: Units  # the app's calls (API and Lambdas), from the hooks
    machine: Units  # the state machine's own tasks, from the history

    @property
    def transitions(self) -> int:
        return len(self.states)

    @property
    def lambda_requests(self) -> float:
        return self.http + sum(self.functions.values())

    @property
    def measured_ms(self) -> float:
        """Mean duration over every Lambda invocation, as measured in-process."""
        total = self.api_ms * self.http
        total += sum(self.functions_ms[f] * k for f, k in self.functions.items())
        return total / self.lambda_requests

    def __getitem__(self, unit: str) -> float:
        return self.app[unit] + self.machine[unit]


def per_ticket(results: dict[str, Any]) -> PerTicket:
    n: int = results["tickets"]
    runs: list[dict[str, Any]] = results["runs"]
    seconds: dict[str, list[float]] = results["lambda_seconds"]
    app = _units()
    for source, units in results["units"].items():
        if source != STATE_MACHINE:
            for unit, value in units.items():
                app[unit] += value / n
    return PerTicket(
        states=entered_states(runs[0]["history"]),
        http=len(runs[0]["requests"]),
        functions={name: len(v) / n for name, v in seconds.items()},
        api_ms=_mean_ms([s for r in runs for _, s in r["requests"]]),
        functions_ms={name: _mean_ms(v) for name, v in seconds.items()},
        app=app,
        machine=machine_units(runs[0]["history"]),
    )


@dataclass(frozen=True)
class Line:
    service: str
    group: str
    units: str
    price: str
    per_ticket: float  # dollars

    @property
    def per_million(self) -> float:
        return self.per_ticket * TICKETS


def cost_lines(t: PerTicket, duration_ms: float) -> list[Line]:
    gb_seconds = t.lambda_requests * LAMBDA_MEMORY_GB * duration_ms / 1000
    sqs_requests = t["sqs messages"] * SQS_REQUESTS_PER_MESSAGE
    wru, rru, publishes = t["dynamodb WRU"], t["dynamodb RRU"], t["sns publishes"]
    return [
        Line(
            "Step Functions Standard",
            "Step Functions",
            f"{t.transitions} transitions",
            "$0.025 / 1K transitions",
            t.transitions * SFN_STANDARD_PER_TRANSITION,
        ),
        Line(
            "API Gateway REST",
            "API Gateway",
            f"{t.http} requests",
            "$3.50 / 1M requests",
            t.http * APIGW_REST_PER_REQUEST,
        ),
        Line(
            "Lambda requests",
            "Lambda",
            f"{t.lambda_requests:g} invocations",
            "$0.20 / 1M requests",
            t.lambda_requests * LAMBDA_PER_REQUEST,
        ),
        Line(
            "Lambda duration",
            "Lambda",
            f"{gb_seconds:.4f} GB-s",
            "$0.0000166667 / GB-s",
            gb_seconds * LAMBDA_PER_GB_SECOND,
        ),
        Line(
            "DynamoDB writes", "DynamoDB", f"{wru:g} WRU", "$0.625 / 1M WRU", wru * DYNAMODB_PER_WRU
        ),
        Line(
            "DynamoDB reads", "DynamoDB", f"{rru:g} RRU", "$0.125 / 1M RRU", rru * DYNAMODB_PER_RRU
        ),
        Line(
            "SNS",
            "SNS",
            f"{publishes:g} publishes",
            "$0.50 / 1M publishes",
            publishes * SNS_PER_PUBLISH,
        ),
        Line(
            "SQS",
            "SQS",
            f"{sqs_requests:g} requests",
            "$0.40 / 1M requests",
            sqs_requests * SQS_PER_REQUEST,
        ),
    ]


def _print_transitions(results: dict[str, Any], t: PerTicket) -> None:
    print(f"Billed state transitions per happy-path ticket (*StateEntered events): {t.transitions}")
    for i, (kind, name) in enumerate(t.states, 1):
        print(f"  {i:>2}. {name}  ({kind})")
    counts = sorted({len(entered_states(r["history"])) for r in results["runs"]})
    if len(counts) > 1:
        print(f"  (not the same for every ticket: {counts})")
    appeal = results.get("appeal_states") or []
    print(
        f"Billed state transitions of an appeal (verified, then as the happy path): {len(appeal)}"
    )
    print("  " + " → ".join(appeal))


def _print_calls(results: dict[str, Any], t: PerTicket) -> dict[str, float]:
    """The AWS calls per ticket by source; returns the app's (all but the state machine's)."""
    n: int = results["tickets"]
    calls: dict[str, dict[str, int]] = results["calls"]
    sends: dict[str, dict[str, int]] = results["sends"]
    app: Counter[str] = Counter()
    print(f"\nAWS API calls over the happy path, per ticket (botocore hooks, mean of {n}):")
    for source in sorted(calls, key=lambda s: (s == STATE_MACHINE, s != API, s)):
        ops = calls[source]
        if source == API:
            who = f"API ({t.http} requests)"
        elif source in t.functions:
            who = f"Lambda {source} ({t.functions[source]:g} runs)"
        else:
            who = f"{source} (not the app's)" if source == STATE_MACHINE else source
        if source != STATE_MACHINE:
            app.update(ops)
        retries = sum(sends.get(source, {}).values()) - sum(ops.values())
        listed = ", ".join(f"{op} {k / n:g}" for op, k in sorted(ops.items()))
        note = f"; {retries / n:g} HTTP retries" if retries else ""
        print(f"  {who:<36} {sum(ops.values()) / n:5.1f}  {listed}{note}")
    print(f"  {'the app in all':<36} {sum(app.values()) / n:5.1f}")
    return {op: k / n for op, k in sorted(app.items())}


def _print_units(results: dict[str, Any], t: PerTicket, duration_ms: float, how: str) -> None:
    n: int = results["tickets"]
    hooks = results["units"].get(STATE_MACHINE, {})
    for unit in ("dynamodb WRU", "dynamodb RRU", "sqs messages", "sns publishes"):
        seen = hooks.get(unit, 0.0) / n
        if abs(seen - t.machine[unit]) > 1e-9:
            print(
                f"  note: the hooks saw the state machine bill {unit} {seen:g}, its history "
                f"{t.machine[unit]:g}; the history's figure is used"
            )
    fns = ", ".join(f"{f} {k:g}" for f, k in sorted(t.functions.items()))
    measured = ", ".join(f"{f} {ms:.1f} ms" for f, ms in sorted(t.functions_ms.items()))

    def dynamodb(who: str, u: Units, unit: str) -> str:
        if unit == "dynamodb RRU":
            return f"{who} {u[unit]:g}"
        items, plain = u["dynamodb transaction items"], u["dynamodb plain writes"]
        return f"{who} {u[unit]:g} = {items:g} transaction items × 2 + {plain:g} plain writes"

    print("\nBillable units per ticket:")
    rows = [
        ("Step Functions state transitions", f"{t.transitions}"),
        ("API Gateway REST requests", f"{t.http}  (the HTTP calls made)"),
        ("Lambda invocations", f"{t.lambda_requests:g}  (API {t.http}; {fns or 'no others'})"),
        (
            "Lambda mean duration",
            f"{duration_ms:.1f} ms {how}  (in-process on moto: API {t.api_ms:.1f} ms, {measured})",
        ),
        ("DynamoDB WRU", f"{t['dynamodb WRU']:g}"),
        ("", dynamodb("app", t.app, "dynamodb WRU")),
        ("", dynamodb("state machine", t.machine, "dynamodb WRU")),
        (
            "DynamoDB RRU",
            f"{t['dynamodb RRU']:g}  ({dynamodb('app', t.app, 'dynamodb RRU')}, "
            f"{dynamodb('state machine', t.machine, 'dynamodb RRU')})",
        ),
        ("SNS publishes", f"{t['sns publishes']:g}"),
        (
            "SQS messages",
            f"{t['sqs messages']:g}  (sent by the state machine, one per human step; "
            f"× {SQS_REQUESTS_PER_MESSAGE} requests: send, receive, delete)",
        ),
    ]
    for label, value in rows:
        print(f"  {label:<34}{value}")


def _print_costs(lines: list[Line]) -> float:
    total = sum(line.per_million for line in lines)
    print(f"\nList price of {TICKETS:,} happy-path tickets (us-east-1 list prices, 2025-06-01):")
    print(f"  {'service':<24} {'per ticket':<18} {'price':<24} {'per 1M tickets':>14}  share")
    for line in lines:
        share = 100 * line.per_million / total if total else 0.0
        cost = f"${line.per_million:,.2f}"
        print(f"  {line.service:<24} {line.units:<18} {line.price:<24} {cost:>14}  {share:4.1f}%")
    print(f"  {'total':<68} {f'${total:,.2f}':>14}  (${total / TICKETS:.6f} a ticket)")
    print(
        "  Assumed: DynamoDB items ≤ 1 KB written and ≤ 4 KB read; each TransactWriteItems item\n"
        "  2 WRU, each plain write 1 WRU, each consistent GetItem 1 RRU, a Query page ~1 RRU. GSI\n"
        "  propagation writes (tickets table 7 GSIs, audit table 3) and larger items add WRU: the\n"
        "  DynamoDB figure is a lower bound. SQS: send + receive + delete per message (the event\n"
        "  source batches up to 10, which lowers it; its idle long polls are a fixed monthly cost).\n"
        "  SNS deliveries to SQS/Lambda are free. Lambda at 512 MB, billed per ms, no cold starts\n"
        "  (see bench.cold_start). No free tier, CloudWatch Logs or data transfer."
    )
    return total


def report(results: dict[str, Any], lambda_ms: float | None) -> dict[str, Any]:
    t = per_ticket(results)
    duration_ms = lambda_ms if lambda_ms is not None else t.measured_ms
    how = "assumed (--lambda-ms)" if lambda_ms is not None else "measured"
    _print_transitions(results, t)
    app_calls = _print_calls(results, t)
    _print_units(results, t, duration_ms, how)
    lines = cost_lines(t, duration_ms)
    total = _print_costs(lines)
    groups: dict[str, float] = {}
    for line in lines:
        groups[line.group] = groups.get(line.group, 0.0) + line.per_million
    parts = ", ".join(f"{g} ${v:,.0f}" for g, v in sorted(groups.items(), key=lambda kv: -kv[1]))
    verdict = "within" if t.transitions <= TARGET else "OVER"
    appeal = results.get("appeal_states") or []
    headline = (
        f"state transitions per happy-path ticket: {t.transitions} ({verdict} target ≤ {TARGET}), "
        f"per appeal {len(appeal)}; "
        f"list price per 1M tickets ${total:,.0f} — {parts}"
    )
    print(f"\n{headline}")
    return {
        "name": "transitions",
        "headline": headline,
        "transitions": t.transitions,
        "states": [name for _, name in t.states],
        "target": TARGET,
        "appeal_transitions": len(appeal),
        "app_calls": app_calls,
        "lambda_ms": round(duration_ms, 1),
        "lambda_ms_source": how,
        "per_million": {line.service: round(line.per_million, 2) for line in lines},
        "total_per_million": round(total, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transitions", description=__doc__)
    parser.add_argument("-n", type=int, default=3, help="happy-path tickets measured (default 3)")
    parser.add_argument(
        "--lambda-ms",
        type=float,
        help="price Lambda at this mean duration instead of the one measured in-process",
    )
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("-n must be at least 1")
    try:
        results = measure(args.n)
    except BenchError as err:
        print(f"transitions: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(results, args.lambda_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "transitions"))
