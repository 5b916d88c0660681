"""Issue 12's KPI figures: the items one month's report reads for 16 departments with 10,000 and
with 100,000 complaints, and the aggregator's reads and writes per ticket event. moto in-process.

    .venv/bin/python -m bench.kpis [--small 10000] [--large 100000]

How the counters are filled (honestly): N synthetic complaints (spread over the month's days, the
16 departments of the catalog, the 10 categories and 5 channels, with replies, satisfaction,
repeats … drawn at fixed rates) are summed in memory with the aggregator's own functions
(`domain.kpis.facts` shapes → `kpis.delta`), and the resulting counter items are written with
BatchWriteItem — the very items the aggregator would have reached, without running 100,000
tickets through the workflow. The report is then read over HTTP (`GET /reports/kpis` through the
Chalice test client), counting the Query calls and the items DynamoDB read. The aggregator's
figures come from the real repository (`KpiRepository.apply`) on the real table.

Reports, never asserts: exits non-zero only when it cannot measure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import date
from typing import Any

from bench._common import BENCH_SECRET, ROOT, moto_app_stack, prepare_environment, run_main
from bench._common import write_summary as _write_summary

STACK = "complaint-tickets-bench-kpis"
MONTH = (date(2026, 11, 1), date(2026, 11, 30))
CHANNELS = ("hotline", "business_hall", "app", "website", "social_body")


class Calls:
    """DynamoDB calls of the app's client, by operation, with the items they touch."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def install(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        # the API parameters, before serialisation
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            self.items["TransactWriteItems"] += len(params.get("TransactItems", []))

    def _after(self, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if model.name == "Query":
            self.items["Query"] += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.items["GetItem"] += int("Item" in parsed)

    def reset(self) -> None:
        self.calls.clear()
        self.items.clear()


def _synthetic_cells(n: int, departments: list[str], categories: list[str]) -> dict[Any, Any]:
    from chalicelib.domain import kpis

    rng = random.Random(n)
    days = kpis.days(*MONTH)
    cells: dict[tuple[str, str, str], dict[str, int]] = {}
    for i in range(n):
        counters = {"complaints": 1}
        if rng.random() < 0.97:
            counters["replied"] = 1
            counters["reply_seconds"] = rng.randint(600, 86400)
            if rng.random() < 0.95:
                counters["replied_on_time"] = 1
        if rng.random() < 0.91:
            counters["satisfied"] = 1
        if rng.random() < 0.012:
            counters["repeats"] = 1
        if rng.random() < 0.04:
            counters["invalid"] = 1
        facts = {
            "day": days[i % len(days)],
            "department": departments[(i // len(days)) % len(departments)],
            "category": rng.choice(categories),
            "channel": rng.choice(CHANNELS),
            "counters": counters,
        }
        for cell, adds in kpis.delta(None, facts).items():
            target = cells.setdefault(cell, {})
            for attr, v in adds.items():
                target[attr] = target.get(attr, 0) + v
    return cells


def _report_scenario(client: Any, calls: Calls, n: int) -> dict[str, Any]:
    from chalicelib.catalog import get_catalog
    from chalicelib.services.context import deps
    from infra.local_auth import make_token

    repo = deps().kpis
    repo.delete_all()
    catalog = get_catalog()
    departments = sorted(catalog.departments)
    cells = _synthetic_cells(n, departments, sorted(catalog.categories))
    items = [repo.counter_item(*cell, attrs) for cell, attrs in cells.items()]
    repo.put_all(items)
    sizes = sorted(len(json.dumps(i)) for i in items)
    token = make_token(["complaint_manager"], None, "bench", BENCH_SECRET)
    path = f"/reports/kpis?from={MONTH[0]}&to={MONTH[1]}"
    calls.reset()
    started = time.perf_counter()
    resp = client.http.get(path, headers={"Authorization": f"Bearer {token}"})
    seconds = time.perf_counter() - started
    if resp.status_code != 200:
        raise RuntimeError(f"report answered {resp.status_code}: {resp.body[:200]!r}")
    body = json.loads(resp.body)
    complaints = next(k for k in body["kpis"] if k["code"] == "reply_rate")["denominator"]
    return {
        "complaints": complaints,
        "departments": len(departments),
        "counterItemsStored": len(items),
        "largestItemBytes": sizes[-1],
        "itemsRead": calls.items["Query"],
        "queryCalls": calls.calls["Query"],
        "otherCalls": sum(v for k, v in calls.calls.items() if k != "Query"),
        "reportSeconds": round(seconds, 3),
    }


def _aggregator(calls: Calls) -> dict[str, Any]:
    from datetime import UTC, datetime

    from chalicelib.services.context import deps

    repo, now = deps().kpis, datetime(2026, 11, 23, tzinfo=UTC)

    def facts(dept: str, **counters: int) -> dict[str, Any]:
        return {
            "day": "2026-11-23",
            "department": dept,
            "category": "basic_communication",
            "channel": "hotline",
            "counters": {"complaints": 1, **counters},
            "incidentId": None,
        }

    cases = [
        ("created (first event of a ticket)", "T1:1", 1, facts("network")),
        ("a later change in the same cell (reply)", "T1:5", 5, facts("network", replied=1)),
        ("a redelivered event", "T1:5", 5, facts("network", replied=1)),
        ("an older event after a newer one", "T1:3", 3, facts("network")),
        ("a transfer to another department", "T1:8", 8, facts("crc", replied=1, transfers=1)),
    ]
    out = {}
    for name, event_id, version, f in cases:
        calls.reset()
        outcome = repo.apply(event_id, "T1", version, f, now).outcome
        out[name] = {
            "outcome": outcome,
            "reads": dict(calls.calls - Counter({"TransactWriteItems": 10**9})),
            "transactions": calls.calls["TransactWriteItems"],
            "itemsWritten": calls.items["TransactWriteItems"],
        }
    return out


def measure(small: int, large: int) -> dict[str, Any]:
    prepare_environment(STACK)
    from chalice.test import Client

    with moto_app_stack(STACK) as (app, _stack, _session):
        from chalicelib.adapters import aws

        calls = Calls()
        calls.install(aws.dynamodb())
        with Client(app) as client:
            scenarios = [_report_scenario(client, calls, n) for n in (small, large)]
        aggregator = _aggregator(calls)
    return {"report": scenarios, "aggregator": aggregator}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpis", description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--summary", help="write the headline figures here (python -m bench)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    result = measure(args.small, args.large)
    for s in result["report"]:
        print(
            f"one month's report, {s['departments']} departments, {s['complaints']:>7,} "
            f"complaints: {s['itemsRead']} items read in {s['queryCalls']} Query calls "
            f"({s['otherCalls']} other calls), {s['reportSeconds']} s on moto; "
            f"{s['counterItemsStored']} counter items stored, largest {s['largestItemBytes']} B"
        )
    for name, a in result["aggregator"].items():
        print(
            f"aggregator, {name}: {a['outcome']}; reads {a['reads']}, "
            f"{a['transactions']} TransactWriteItems of {a['itemsWritten']} items"
        )
    small, large = result["report"]
    headline = (
        f"KPI report (1 month, 16 departments): {small['itemsRead']} items read with "
        f"{small['complaints']:,} complaints, {large['itemsRead']} with {large['complaints']:,}; "
        f"aggregator: 1 GetItem + 1 TransactWriteItems of "
        f"{result['aggregator']['created (first event of a ticket)']['itemsWritten']} items per "
        f"event, none for a redelivery"
    )
    print(json.dumps({"headline": headline, **result}, ensure_ascii=False))
    _write_summary(args.summary, {"headline": headline, **result})
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "kpis"))
