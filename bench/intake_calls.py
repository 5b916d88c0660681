"""Issue 10's intake figures: AWS calls per `POST /tickets` for a new customer, a repeat, a
blacklisted customer and a suggestion, and the billed state transitions of a suggestion's (and a
ticket closed on the spot's) execution; issue 11: the same per complaint with 0 and with 1,000
active bulletins (intake's bulletin cache warm: its refresh, one Query at most once a minute per
container, is measured apart). moto in-process, botocore hooks (bench.aws_calls).

    .venv/bin/python -m bench.intake_calls [-n 10]

Reports, never asserts: exits non-zero only when it cannot measure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from bench._common import (
    BENCH_SECRET,
    ROOT,
    BenchError,
    agent_headers,
    moto_app_stack,
    prepare_environment,
    run_main,
    ticket_body,
    write_summary,
)
from bench.aws_calls import CallCounter, _wait_for_execution

STACK = "complaint-tickets-bench-intake"
TARGET = 3
SCENARIOS = ("new customer", "repeat", "blacklisted", "suggestion")
# issue 11: complaints with no bulletin, and with 1,000 active ones (answered from one, or not)
BULLETIN_SCENARIOS = ("0 bulletins", "1,000 bulletins, answered", "1,000 bulletins, no match")
ACTIVE_BULLETINS = 1000


def measure(n: int) -> dict[str, Any]:
    prepare_environment(STACK)
    counter = CallCounter()
    counter.install()  # before anything builds a botocore client
    try:
        return _measure(counter, n)
    finally:
        counter.uninstall()


def _manager_headers() -> dict[str, str]:
    from infra.local_auth import make_token

    token = make_token(["complaint_manager"], None, "bench-manager", BENCH_SECRET)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _transitions(sfn: Any, machine: str, ticket_id: str) -> int:
    from bench.transitions import _history, entered_states

    arn = machine.replace(":stateMachine:", ":execution:") + ":" + ticket_id
    return len(entered_states(_history(sfn, arn)))


def _measure(counter: CallCounter, n: int) -> dict[str, Any]:
    from chalice.test import Client

    with moto_app_stack(STACK) as (app, stack, session):
        sfn = session.client("stepfunctions")
        machine = stack.refs["LifecycleStateMachine"]
        headers = agent_headers(BENCH_SECRET)
        results: dict[str, Any] = {}
        with Client(app, project_dir=str(ROOT)) as client:

            def post(body: dict[str, Any], count: bool = True) -> dict[str, Any]:
                payload = json.dumps(body, ensure_ascii=False)
                if count:
                    with counter.request():
                        resp = client.http.post("/tickets", headers=headers, body=payload)
                else:
                    resp = client.http.post("/tickets", headers=headers, body=payload)
                if resp.status_code != 201:
                    raise BenchError(f"POST /tickets answered {resp.status_code}: {resp.body!r}")
                ticket: dict[str, Any] = json.loads(resp.body)
                _wait_for_execution(sfn, machine, ticket["id"])
                return ticket

            def complaint(number: str, **extra: Any) -> dict[str, Any]:
                return ticket_body(serviceNumber=number, phenomenon="voice_coverage", **extra)

            post(complaint("13000000000"), count=False)  # warm-up: clients, catalog
            post(complaint("13000000001"), count=False)  # the original the repeats repeat
            cache = _freeze_bulletin_cache()  # issue 11: warm throughout, refresh measured apart
            for i in range(n):
                number = f"1330000{i:04d}"
                resp = client.http.put(
                    f"/blacklist/{number}",
                    headers=_manager_headers(),
                    body=json.dumps({"reason": "bench"}),
                )
                if resp.status_code not in (200, 201):
                    raise BenchError(f"PUT /blacklist answered {resp.status_code}")
            bodies = {
                "new customer": [complaint(f"1310000{i:04d}") for i in range(n)],
                "repeat": [complaint("13000000001") for _ in range(n)],
                "blacklisted": [complaint(f"1330000{i:04d}") for i in range(n)],
                "suggestion": [
                    ticket_body(
                        kind="suggestion",
                        serviceNumber=f"1320000{i:04d}",
                        description="建议营业厅周末延长营业时间",
                    )
                    for i in range(n)
                ],
            }
            last: dict[str, dict[str, Any]] = {}
            for name in SCENARIOS:
                counter.reset()
                for body in bodies[name]:
                    last[name] = post(body)
                results[name] = {"requests": n, "calls": dict(counter.app_calls)}
            checks = {
                "repeat": last["repeat"].get("repeatOf") is not None,
                "blacklisted": last["blacklisted"].get("blacklisted") is True,
                "suggestion": last["suggestion"].get("repeatOf") is not None,
            }
            if not all(checks.values()):
                raise BenchError(f"a scenario did not do what it measures: {checks}")
            on_spot = post(
                ticket_body(
                    serviceNumber="13400000000",
                    channel="business_hall",
                    answer="已当场处理",
                    closeOnSpot={"satisfaction": "satisfied"},
                ),
                count=False,
            )
            # -- issue 11: bulletins
            for name in BULLETIN_SCENARIOS:
                if name == "1,000 bulletins, answered":
                    _put_active_bulletins(ACTIVE_BULLETINS)
                    results["bulletin refresh"] = _refresh_cost(counter, cache)
                counter.reset()
                area = "湖里区" if name.endswith("no match") else "思明区"
                for i in range(n):
                    number = f"135{BULLETIN_SCENARIOS.index(name)}000{i:04d}"
                    last[name] = post(complaint(number, location={"area": area}))
                results[name] = {"requests": n, "calls": dict(counter.app_calls)}
            answered = {name: "bulletinId" in last[name] for name in BULLETIN_SCENARIOS}
            if answered != dict(zip(BULLETIN_SCENARIOS, (False, True, False), strict=True)):
                raise BenchError(f"a bulletin scenario did not do what it measures: {answered}")
            results["transitions"] = {
                "suggestion": _transitions(sfn, machine, last["suggestion"]["id"]),
                "closed on the spot": _transitions(sfn, machine, on_spot["id"]),
            }
            # -- issue 11 (incidents): the mass-complaint counters ride on the same 3 calls --
            # complaints at one business hall, one at a time: the first nine count, the tenth
            # opens the incident, the rest join it
            counter.reset()
            kinds: Counter[str] = Counter()
            mass = max(n, 12)
            for _ in range(mass):
                number = f"1350000{sum(kinds.values()):04d}"
                made = post(complaint(number, channel="business_hall", location={"area": "海沧区"}))
                kinds["joined or opened" if made.get("incidentId") else "counted"] += 1
            results["mass complaint"] = {
                "requests": mass,
                "calls": dict(counter.app_calls),
                "kinds": dict(kinds),
            }
        return results


# -- issue 11: bulletins ---------------------------------------------------------------------


def _freeze_bulletin_cache() -> Any:
    """Stop intake's bulletin cache from expiring while calls are counted (a real container
    refreshes it at most once a minute; its cost is measured by `_refresh_cost`)."""
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    cache = deps().active_bulletins
    frozen = cache.clock()
    cache.clock = lambda: frozen
    bulletins.active_index(deps())  # read now (the bench's thread: not counted)
    return cache


def _put_active_bulletins(count: int) -> None:
    """`count` bulletins in effect: one over the complaints' area and phenomenon, the others
    over other areas and phenomena (set-up, not counted)."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.adapters.bulletins_repo import to_model
    from chalicelib.adapters.models import BulletinModel
    from chalicelib.domain.bulletins import Bulletin

    now = datetime.now(UTC)
    with BulletinModel.batch_write() as batch:
        for i in range(count):
            ours = i == count - 1
            batch.save(
                to_model(
                    Bulletin(
                        id=f"B{i:026d}",
                        version=1,
                        type="fault",
                        title=f"基站故障 {i}",
                        areas=("思明区",) if ours else (f"区{i}", f"镇{i}"),
                        phenomena=("voice_coverage",) if ours else (f"phenomenon_{i % 60}",),
                        services=(f"业务{i % 20}",),
                        starts_at=now - timedelta(hours=1),
                        ends_at=now + timedelta(hours=6),
                        script="您好，您所在区域的基站正在抢修，预计今天18点前恢复，敬请谅解。" * 3,
                        created_at=now,
                        created_by="bench",
                        updated_at=now,
                    )
                )
            )


def _refresh_cost(counter: CallCounter, cache: Any) -> dict[str, Any]:
    """The calls of one cache refresh with the bulletins now stored, then the cache kept warm."""
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    cache.clear()
    counter.reset()
    with counter.request():
        index = bulletins.active_index(deps())
    return {"calls": dict(counter.app_calls), "bulletins": index.size}


def report(results: dict[str, Any]) -> dict[str, Any]:
    print("AWS API calls made by the app per POST /tickets (botocore before-call hooks):")
    per: dict[str, float] = {}
    for name in SCENARIOS:
        r = results[name]
        calls: Counter[str] = Counter(r["calls"])
        per[name] = sum(calls.values()) / r["requests"]
        ops = ", ".join(f"{op} {k / r['requests']:g}" for op, k in sorted(calls.items()))
        print(f"  {name:<14} {per[name]:4.1f} per request over {r['requests']:>2}: {ops}")
    for name in BULLETIN_SCENARIOS:  # issue 11
        r = results[name]
        calls = Counter(r["calls"])
        per[name] = sum(calls.values()) / r["requests"]
        ops = ", ".join(f"{op} {k / r['requests']:g}" for op, k in sorted(calls.items()))
        print(f"  {name:<25} {per[name]:4.1f} per request over {r['requests']:>2}: {ops}")
    refresh = results["bulletin refresh"]
    refresh_ops = ", ".join(f"{op} {k}" for op, k in sorted(refresh["calls"].items()))
    print(
        f"  bulletin cache refresh (at most once a minute per container, not per request): "
        f"{refresh_ops} for {refresh['bulletins']} active bulletins"
    )
    transitions = results["transitions"]
    for name, count in transitions.items():
        print(f"  billed state transitions of a {name} ticket's execution: {count}")
    mass = results.get("mass complaint")  # issue 11 (incidents)
    if mass is not None:
        calls = Counter(mass["calls"])
        ops = ", ".join(f"{op} {k / mass['requests']:g}" for op, k in sorted(calls.items()))
        print(
            f"  mass complaint {sum(calls.values()) / mass['requests']:4.1f} per request over "
            f"{mass['requests']} at one business hall ({mass['kinds']}): {ops}"
        )
    worst = max(per.values())
    verdict = "within" if worst <= TARGET else "OVER"
    headline = (
        "intake AWS calls per create: "
        + ", ".join(f"{name} {per[name]:.1f}" for name in SCENARIOS)
        + f" ({verdict} target ≤ {TARGET}); suggestion path {transitions['suggestion']} "
        "transitions"
        + "; with 0 / 1,000 active bulletins "
        + " / ".join(f"{per[name]:.1f}" for name in BULLETIN_SCENARIOS[:2])
    )
    print(headline)
    return {
        "name": "intake_calls",
        "headline": headline,
        "calls_per_create": per,
        "target": TARGET,
        "transitions": transitions,
        "bulletin_refresh": refresh,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_calls", description=__doc__)
    parser.add_argument("-n", type=int, default=10, help="creates per scenario (default 10)")
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        results = measure(args.n)
    except BenchError as err:
        print(f"intake_calls: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "intake_calls"))
