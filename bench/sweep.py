"""What one sweep reads: items DynamoDB returns per due ticket, as open tickets grow (moto in-process).

The sweep (chalicelib/services/sweep.py) should read only what is due: it queries the sparse
due-index (`nextDueAt <= now`), so 20,000 open tickets with 50 due should cost the same reads
as 2,000 with 50 due. Each scenario runs in a fresh moto: open tickets are written straight
into the tickets table (pynamodb batch writes of `tickets_repo.to_model` of realistic tickets
waiting for the network department to accept them; no Step Functions executions), of which
exactly `--due` are due: their 30-minute step started 25 minutes ago, so its 50 % and 80 %
warnings have passed (its execution check, 2 minutes past the deadline, has not). The others'
first duty is hours away. Then the real `sweep.run(deps())` runs once, its clock fixed at the
instant the tickets were built from, and botocore hooks count:

- items read: what DynamoDB returned to the sweep's Query/GetItem/BatchGetItem/Scan calls on
  the tickets table (`Count`, `Item`, `Responses`), per due ticket (target ≤ 1.2);
- AWS calls the sweep made (DynamoDB, SNS, Step Functions), by operation, per due ticket
  (target ≤ 3): the due-index query, a claim transaction and a settling transaction per ticket,
  PublishBatch calls of up to ten notices;
- notices sent: what the sweep reports sent (SNS Publish and PublishBatch entries).

Wall times are printed as information only: they are moto's (its per-call overhead dominates;
it answers an index query by walking the whole table, where DynamoDB reads only the index).
Two bench-only shortcuts keep the run short without changing a call or an answer: moto's
size check is off while the tickets are batch-written, and its transactions back up only the
items they name instead of deep-copying whole tables (see `_cheap_transaction_backups`).

    .venv/bin/python -m bench.sweep [--open 20000 2000] [--due 50]

Reports, never asserts: exits non-zero only when it cannot measure (e.g. the sweep fails, or
reads a number of due tickets other than the one it was given).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench._common import (
    FAKE_CREDENTIALS,
    BenchError,
    prepare_environment,
    run_main,
    write_summary,
)
from bench.aws_calls import CallCounter

if TYPE_CHECKING:
    from chalicelib.adapters.models import TicketModel
    from chalicelib.domain.tickets import Ticket

STACK = "complaint-tickets-bench-sweep"
TARGET = 1.2  # items read per due ticket
CALLS_TARGET = 3.0  # AWS calls per due ticket
OPEN = (20_000, 2_000)
DUE = 50
STEP = timedelta(minutes=30)  # the accept step's time limit in this bench
DUE_STARTED = timedelta(minutes=25)  # past 50 % (15 min) and 80 % (24 min), before the check
LATER_STEP = timedelta(hours=8)  # the other tickets: first warning 4 h after their step began
READ_OPS = ("Query", "GetItem", "BatchGetItem", "Scan")
FIELDS = {
    "handsetModel": "iPhone 15",
    "frequency": "frequent",
    "othersAffected": True,
    "occurredAt": "2026-11-20T09:00:00+08:00",
    "location": "思明区中山路",
}


class ReadCounter(CallCounter):
    """CallCounter plus the items DynamoDB returns to the app's reads, by table/operation/index."""

    def __init__(self) -> None:
        super().__init__()
        self.items: Counter[str] = Counter()  # items returned, by "table.Operation[index]"
        self.reads: Counter[str] = Counter()  # calls (pages), same keys
        self.read_bytes: Counter[str] = Counter()  # response bytes, same keys
        self.tables: dict[str, str] = {}  # table name -> short label ("tickets", "notices", ...)

    def _hook(self, client: Any) -> None:
        super()._hook(client)
        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register("before-parameter-build.dynamodb", self._on_params)
            client.meta.events.register("after-call.dynamodb", self._on_result)

    @staticmethod
    def _on_params(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["bench_table"] = params.get("TableName")
        context["bench_index"] = params.get("IndexName")

    def _label(self, table: str | None) -> str:
        return self.tables.get(table or "", table or "?")

    def _on_result(
        self,
        http_response: Any = None,
        parsed: dict[str, Any] | None = None,
        model: Any = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        op = getattr(model, "name", "")
        if op not in READ_OPS or not self._ours() or parsed is None:
            return
        context = context or {}
        found: dict[str, int] = {}
        if op in ("Query", "Scan"):
            index = context.get("bench_index")
            name = f"{self._label(context.get('bench_table'))}.{op}"
            found[f"{name}[{index}]" if index else name] = int(parsed.get("Count", 0))
        elif op == "GetItem":
            found[f"{self._label(context.get('bench_table'))}.GetItem"] = int("Item" in parsed)
        else:
            for table, items in parsed.get("Responses", {}).items():
                found[f"{self._label(table)}.BatchGetItem"] = len(items)
        size = len(getattr(http_response, "content", b"") or b"")
        with self._lock:
            for key, n in found.items():
                self.items[key] += n
                self.reads[key] += 1
                self.read_bytes[key] += size

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.items.clear()
            self.reads.clear()
            self.read_bytes.clear()


@dataclass
class Scenario:
    open: int
    due: int
    result: dict[str, Any]
    seconds: float
    populate_seconds: float
    idle_items: int  # items read by a sweep run before anything was due
    calls: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    reads: Counter[str] = field(default_factory=Counter)
    read_bytes: Counter[str] = field(default_factory=Counter)

    @property
    def tickets_read(self) -> int:
        return sum(n for k, n in self.items.items() if k.startswith("tickets."))

    @property
    def pages(self) -> int:
        return self.reads["tickets.Query[due-index]"]

    @property
    def notices(self) -> int:
        return int(self.result.get("sent", 0))

    @property
    def calls_per_due(self) -> float:
        return sum(self.calls.values()) / self.due


# -- the tickets -----------------------------------------------------------------------------


def _ticket(now: datetime, n: int, due: bool) -> Ticket:
    """A complaint dispatched to the network department, waiting for it to accept."""
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.tickets import Complainant, Ticket

    created = now - timedelta(hours=1, seconds=n % 3000)
    started = now - (DUE_STARTED if due else timedelta(minutes=10, seconds=n % 600))
    step_due = started + (STEP if due else LATER_STEP)
    ticket_id = new_id("T", created)
    service_number = f"138{n:08d}"
    return Ticket(
        id=ticket_id,
        version=3,
        kind="complaint",
        status="dispatched",
        channel="hotline",
        complainant=Complainant("张三", "ordinary", service_number, "phone"),
        service_number=service_number,
        description="家里手机信号不好，只有一两格，通话断断续续，周围的人也一样",
        created_at=created,
        updated_at=started,
        created_by="bench-agent",
        category="basic_communication",
        phenomenon="voice_coverage",
        location={"area": "思明区", "landmark": "中山路步行街"},
        fields=dict(FIELDS),
        classification={"phenomenon": "voice_coverage", "confidence": 0.93, "by": "rules"},
        sla_level="A",
        due_at=created + timedelta(hours=48),
        step_due_at=step_due,
        department="network",
        departments=("network",),
        route="network",
        step="accept",
        step_seq=2,
        step_started_at=started,
        task_token=f"bench-token-{ticket_id}",
        workflow_input='{"ticketId": "' + ticket_id + '"}',
        dispatched_by="bench-senior-agent",
        workflow_status="started",
        execution_arn=(
            f"arn:aws:states:us-east-1:123456789012:execution:{STACK}-lifecycle:{ticket_id}"
        ),
        escalation_level=0,
    )


def build(now: datetime, total: int, due: int) -> tuple[list[TicketModel], list[TicketModel]]:
    """(not due, due) items for the tickets table, each on the due-index at its first duty."""
    from chalicelib.adapters.tickets_repo import DUE_KEY, to_model
    from chalicelib.domain.values import storage_time
    from chalicelib.services import agenda
    from chalicelib.services.rules import Rules

    rules = Rules()
    later: list[TicketModel] = []
    soon: list[TicketModel] = []
    for n in range(total):
        is_due = n < due
        ticket = _ticket(now, n, is_due)
        next_due = agenda.next_due_of(ticket, rules)
        if next_due is None or (next_due <= now) != is_due:
            raise BenchError(f"ticket {n}: next due {next_due} does not fit (due: {is_due})")
        model = to_model(ticket)
        model.dueKey = DUE_KEY
        model.nextDueAt = storage_time(next_due)
        (soon if is_due else later).append(model)
    return later, soon


def populate(models: list[TicketModel]) -> None:
    """Batch-write the tickets. moto re-sums an item's size at each attribute it stores
    (quadratic in the attributes: ~3 ms a ticket); these items are ~2 KB, far below the 400 KB
    limit it guards, so the check is off while they are written (and only then)."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    from chalicelib.adapters.models import TicketModel

    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        with TicketModel.batch_write() as batch:
            for model in models:
                batch.save(model)
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def _cheap_transaction_backups() -> None:
    """Bench-only: moto backs up every table a transaction touches with a deep copy of the
    whole table (the tickets table here: 20,000 items, once per notice claimed), which would
    make this bench run for many minutes. Back up only the items the transaction names instead,
    and put them back if it is cancelled: the same outcome, the same calls and answers."""
    import copy
    import types

    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_bench_cheap", False):
        return

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    backend_module.copy = types.SimpleNamespace(deepcopy=deepcopy)  # type: ignore[attr-defined,assignment]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            for kind, op in entry.items():
                table = self.tables.get(op.get("TableName"))
                if table is None:
                    continue
                key = op["Item"] if kind == "Put" else op.get("Key", {})
                if table.hash_key_attr not in key:
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                range_attr = table.range_key_attr
                range_value = DynamoType(key[range_attr]) if range_attr in key else None
                if range_attr is not None and range_value is None:
                    continue
                before = copy.deepcopy(table.get_item(hash_value, range_value))
                saved.append((table, hash_value, range_value, before))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                table.delete_item(hash_value, range_value)
                if before is None:
                    continue
                if range_value is not None:
                    table.items[hash_value][range_value] = before
                else:
                    table.items[hash_value] = before
            raise

    transact_write_items._bench_cheap = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# -- one scenario ----------------------------------------------------------------------------


def measure(open_counts: list[int], due: int) -> list[Scenario]:
    prepare_environment(STACK)
    counter = ReadCounter()
    counter.install()  # before anything builds a botocore client
    try:
        from infra import moto_patches

        moto_patches.apply()
        _cheap_transaction_backups()
        now = datetime.now(UTC).replace(microsecond=0)
        later, soon = build(now, max(open_counts), due)
        return [_scenario(counter, now, later[: n - due], soon) for n in open_counts]
    finally:
        counter.uninstall()


def _scenario(
    counter: ReadCounter, now: datetime, later: list[TicketModel], soon: list[TicketModel]
) -> Scenario:
    import boto3
    from moto import mock_aws

    from infra.resources import create_all

    with mock_aws():
        from app import app
        from chalicelib import config
        from chalicelib.adapters import aws as aws_clients
        from chalicelib.services import context, sweep

        session = boto3.session.Session(region_name=FAKE_CREDENTIALS["AWS_REGION"])
        stack = create_all(session, STACK, app=app)
        os.environ.update(stack.environment())
        aws_clients.reset()
        context.deps.cache_clear()
        counter.tables = {
            os.environ[config.TICKETS_TABLE]: "tickets",
            os.environ[config.NOTICES_TABLE]: "notices",
            os.environ[config.EVENTS_TABLE]: "events",
        }
        started = time.perf_counter()
        populate(later + soon)
        populate_seconds = time.perf_counter() - started

        deps = context.deps()
        deps.clock = lambda: now - timedelta(days=1)  # warm-up: nothing is due yet
        _ = deps.notifier.client  # build the SNS client outside the measured run
        counter.reset()
        with counter.request():
            idle = sweep.run(deps)
        idle_items = sum(counter.items.values())
        if idle["read"]:
            raise BenchError(f"a sweep a day early read {idle['read']} tickets")

        deps.clock = lambda: now
        counter.reset()
        with counter.request():
            started = time.perf_counter()
            result = sweep.run(deps)
            seconds = time.perf_counter() - started
        scenario = Scenario(
            open=len(later) + len(soon),
            due=len(soon),
            result=result,
            seconds=seconds,
            populate_seconds=populate_seconds,
            idle_items=idle_items,
            calls=Counter(counter.app_calls),
            items=Counter(counter.items),
            reads=Counter(counter.reads),
            read_bytes=Counter(counter.read_bytes),
        )
        if result["read"] != scenario.due:
            raise BenchError(f"the sweep read {result['read']} due tickets, not {scenario.due}")
        return scenario


# -- the report ------------------------------------------------------------------------------


def _calls(calls: Counter[str]) -> str:
    return ", ".join(f"{op.split('.', 1)[1]} {n}" for op, n in sorted(calls.items())) or "none"


def report(scenarios: list[Scenario]) -> dict[str, Any]:
    print("One sweep over the due-index (botocore hooks; moto in-process, no executions):")
    lines: list[str] = []
    for s in scenarios:
        ratio = s.tickets_read / s.due
        line = (
            f"sweep with {s.open:,} open / {s.due} due: items read {s.tickets_read}, "
            f"ratio {ratio:.2f} (target ≤ {TARGET}); {s.notices} notices; "
            f"{s.pages} page(s); AWS calls: {_calls(s.calls)} "
            f"= {s.calls_per_due:.2f} per due ticket (target ≤ {CALLS_TARGET:g})"
        )
        lines.append(line)
        print(f"  {line}")
        reads = ", ".join(
            f"{k}: {n} items in {s.reads[k]} call(s), {s.read_bytes[k] / 1024:.0f} KB"
            for k, n in sorted(s.items.items())
        )
        print(
            f"    reads: {reads or 'none'}; sweep result {s.result}; "
            f"a sweep with nothing due read {s.idle_items} items"
        )
        print(
            f"    wall time (information only): sweep {s.seconds * 1000:.0f} ms; "
            f"writing the {s.open:,} tickets took {s.populate_seconds:.1f} s"
        )
    big, small = max(scenarios, key=lambda s: s.open), min(scenarios, key=lambda s: s.open)
    grows = big.tickets_read > small.tickets_read
    verdict = (
        f"reads {'GROW' if grows else 'do not grow'} with open tickets: "
        f"{small.tickets_read} items at {small.open:,} open, {big.tickets_read} at {big.open:,} "
        f"({big.open / small.open:g}x the tickets, same {big.due} due)"
    )
    print(f"  {verdict}")
    if big is not small and big.seconds > 0:
        print(
            f"  wall time ratio {small.open:,}/{big.open:,}: "
            f"{small.seconds / big.seconds:.2f} (information only: moto's timing)"
        )
    worst = max(s.tickets_read / s.due for s in scenarios)
    worst_calls = max(s.calls_per_due for s in scenarios)
    headline = (
        f"sweep per due ticket: items read {worst:.2f} (target ≤ {TARGET}), "
        f"AWS calls {worst_calls:.2f} (target ≤ {CALLS_TARGET:g}) — "
        + "; ".join(
            f"{s.open:,} open/{s.due} due: {s.tickets_read} read, {s.notices} notices, "
            f"{s.calls_per_due:.2f} calls per due ticket"
            for s in scenarios
        )
    )
    print(headline)
    return {
        "name": "sweep",
        "headline": headline,
        "target": TARGET,
        "worst_ratio": worst,
        "calls_target": CALLS_TARGET,
        "worst_calls_per_due": worst_calls,
        "reads_grow": grows,
        "scenarios": [
            {
                "open": s.open,
                "due": s.due,
                "items_read": s.tickets_read,
                "ratio": s.tickets_read / s.due,
                "notices": s.notices,
                "pages": s.pages,
                "calls": dict(s.calls),
                "calls_per_due": s.calls_per_due,
                "items": dict(s.items),
                "seconds": s.seconds,
                "result": s.result,
            }
            for s in scenarios
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument(
        "--open", type=int, nargs="+", default=list(OPEN), help="open tickets per scenario"
    )
    parser.add_argument("--due", type=int, default=DUE, help="due tickets in each scenario")
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    if args.due < 1 or min(args.open) < args.due:
        parser.error("every --open must be at least --due, and --due at least 1")
    try:
        scenarios = measure(args.open, args.due)
    except BenchError as err:
        print(f"sweep: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(scenarios))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "sweep"))
