"""Cold first request: a fresh process serving one `POST /tickets`, against a bare boto3 baseline.

One moto server (Step Functions execution on, resources from infra/template.json) runs in this
process. Fresh child processes then take turns, alternating:

  app       imports the app and calls its handler with an API Gateway proxy event for
            POST /tickets: the first request, with every lazy client and import it needs
  baseline  imports boto3, puts one item in the tickets table and starts one execution

Each child is timed from spawn to exit (the headline) and inside, from its first line to the
response. Medians over the runs, as a ratio app / baseline: the machine's speed cancels out.
A `python -X importtime` run of the app child says where its import time goes (information).

    .venv/bin/python -m bench.cold_start [--runs 7]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench._common import (
    BENCH_SECRET,
    FAKE_CREDENTIALS,
    REGION,
    ROOT,
    BenchError,
    child_env,
    ensure_root_on_path,
    execution_parked,
    last_json_line,
    median,
    run_child,
    run_main,
    ticket_body,
    write_summary,
)

STACK = "complaint-tickets-bench"
TARGET = 1.5
APP_CHILD = str(ROOT / "bench" / "_child_app.py")
BASELINE_CHILD = str(ROOT / "bench" / "_child_baseline.py")
PHASE_MARK = "bench-phase: first request"


@dataclass
class Runs:
    name: str
    wall: list[float] = field(default_factory=list)  # spawn to exit
    inside: list[float] = field(default_factory=list)  # first line to response
    imports: list[float] = field(default_factory=list)
    request: list[float] = field(default_factory=list)

    def add(self, wall: float, result: dict[str, Any]) -> None:
        self.wall.append(wall)
        self.inside.append(float(result["inside"]))
        self.imports.append(float(result["import"]))
        self.request.append(float(result["request"]))


@dataclass(frozen=True)
class Server:
    endpoint: str
    environment: dict[str, str]
    state_machine_arn: str
    sfn: Any


@contextmanager
def moto_server() -> Iterator[Server]:
    """A ThreadedMotoServer on a free port with the stack created; stopped on the way out."""
    ensure_root_on_path()
    os.environ.update(FAKE_CREDENTIALS)
    import logging

    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    from infra.local import free_port
    from infra.resources import create_all

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    os.environ["MOTO_PORT"] = str(port)  # moto's executions call back into this server
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        requests.post(
            f"{endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session(region_name=REGION)
        from infra.resources import predicted_environment

        # The app's Lambdas run in this process (infra/lambdas.py): give them the stack's names.
        os.environ.update(predicted_environment(STACK))
        import app as app_module

        stack = create_all(session, STACK, app=app_module.app)
        yield Server(
            endpoint=endpoint,
            environment=stack.environment(),
            state_machine_arn=stack.refs["LifecycleStateMachine"],
            sfn=session.client("stepfunctions"),
        )
    finally:
        server.stop()


def _baseline_item(body: dict[str, Any]) -> tuple[str, str]:
    """A ticket-shaped item (DynamoDB JSON) under a fresh ticket id, so its execution succeeds."""
    from chalicelib.domain.ids import new_id

    now = datetime.now(UTC)
    ticket_id = new_id("T", now)
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item = {
        "id": {"S": ticket_id},
        "version": {"N": "1"},
        "kind": {"S": body["kind"]},
        "status": {"S": "accepted"},
        "channel": {"S": body["channel"]},
        "complainant": {"S": json.dumps(body["complainant"], ensure_ascii=False)},
        "serviceNumber": {"S": body["serviceNumber"]},
        "description": {"S": body["description"]},
        "location": {"S": json.dumps(body["location"], ensure_ascii=False)},
        "workflowStatus": {"S": "pending"},
        "createdAt": {"S": at},
        "updatedAt": {"S": at},
        "createdBy": {"S": "bench-agent"},
        "month": {"S": at[:7]},
    }
    return ticket_id, json.dumps(item, ensure_ascii=False)


def _wait_for_execution(server: Server, ticket_id: str, timeout: float = 10.0) -> str:
    """Let the execution a child started finish, so it does not overlap the next child."""
    arn = server.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + ticket_id
    deadline = time.monotonic() + timeout
    while True:
        status = execution_parked(server.sfn, arn)
        if status not in ("RUNNING", "MISSING") or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def _run(
    name: str, script: str, env: dict[str, str], server: Server, flags: tuple[str, ...] = ()
) -> tuple[float, dict[str, Any], str]:
    child = run_child([sys.executable, *flags, script], env=env)
    if child.returncode != 0:
        raise BenchError(f"the {name} child exited {child.returncode}:\n{child.stderr[-3000:]}")
    result = last_json_line(child.stdout)
    if result.get("status") != 201:
        raise BenchError(f"the {name} child's request answered {result.get('status')}: {result}")
    status = _wait_for_execution(server, str(result["ticketId"]))
    if status not in ("SUCCEEDED", "PARKED"):
        print(f"  note: the {name} child's execution ended {status}", file=sys.stderr)
    return child.seconds, result, child.stderr


# -- python -X importtime --------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass(frozen=True)
class ImportProfile:
    by_package: dict[str, tuple[float, float]]  # top-level package: (at import, first request)
    cumulative: list[tuple[float, str, str]]  # (seconds, module, phase)
    totals: tuple[float, float]


def parse_importtime(stderr: str) -> ImportProfile:
    """Self time summed per top-level package (adds up without double counting), per phase."""
    by_package: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    cumulative: list[tuple[float, str, str]] = []
    phase = 0
    for line in stderr.splitlines():
        if line.startswith(PHASE_MARK):
            phase = 1
            continue
        m = _IMPORT_LINE.match(line)
        if not m:
            continue
        self_us, cum_us, _indent, module = int(m[1]), int(m[2]), m[3], m[4]
        by_package[module.split(".")[0]][phase] += self_us / 1e6
        cumulative.append((cum_us / 1e6, module, ("import", "first request")[phase]))
    cumulative.sort(reverse=True)
    largest: dict[str, tuple[float, str, str]] = {}
    for entry in cumulative:  # a module can appear twice (circular imports): keep the largest
        largest.setdefault(entry[1], entry)
    cumulative = list(largest.values())
    totals = (
        sum(v[0] for v in by_package.values()),
        sum(v[1] for v in by_package.values()),
    )
    return ImportProfile({k: (v[0], v[1]) for k, v in by_package.items()}, cumulative, totals)


def print_import_profile(profile: ImportProfile, top: int = 10) -> list[str]:
    imp, req = profile.totals
    print(
        f"\napp child, python -X importtime (one run, information): {imp + req:.2f} s of imports"
        f" — {imp:.2f} s at `from app import app`, {req:.2f} s lazily in the first request"
    )
    print(f"  top {top} top-level packages by own import time (import + first request):")
    ranked = sorted(profile.by_package.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:top]
    for package, (a, b) in ranked:
        print(f"    {package:<28} {a + b:6.3f} s   ({a:.3f} + {b:.3f})")
    print(f"  top {top} single imports by cumulative time:")
    for seconds, module, phase in profile.cumulative[:top]:
        print(f"    {module:<52} {seconds:6.3f} s   ({phase})")
    return [package for package, _ in ranked[:5]]


# -- cProfile of the first request ----------------------------------------------------------


@dataclass(frozen=True)
class RequestProfile:
    total: float
    sessions: int  # botocore sessions built (each loads endpoints and models anew)
    clients: int
    client_setup: float  # building botocore sessions and clients
    imports: float  # lazy imports done by the request
    api_calls: float  # botocore _make_api_call, including first-use set-up
    chalicelib: list[tuple[float, str]]  # (cumulative seconds, function), nested


def parse_request_profile(path: str, top: int = 8) -> RequestProfile:
    import pstats

    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    raw = pstats.Stats(path).stats  # type: ignore[attr-defined]

    def find(file_end: str, func: str, line: int | None = None) -> tuple[int, float]:
        calls = cumulative = 0.0
        for (file, at, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if file.endswith(file_end) and name == func and line in (None, at):
                calls, cumulative = calls + nc, cumulative + ct
        return int(calls), cumulative

    import botocore.client
    import botocore.session

    def where(function: Any) -> tuple[str, str, int]:
        code = inspect.unwrap(function).__code__  # not botocore's shared decorator wrapper
        return code.co_filename, code.co_name, code.co_firstlineno

    sessions, session_init = find(*where(botocore.session.Session.__init__))
    clients, create_client = find(*where(botocore.session.Session.create_client))
    _, api_calls = find(*where(botocore.client.BaseClient._make_api_call))  # type: ignore[attr-defined]
    _, imports = find("<frozen importlib._bootstrap>", "_find_and_load")
    total = max(ct for (_cc, _nc, _tt, ct, _callers) in raw.values())
    lib = str(ROOT / "chalicelib")
    wrappers = ("wrapper", "create_ticket")  # the route and its decorator: the whole request
    ours = sorted(
        (
            (ct, f"{os.path.relpath(file, ROOT)}:{name}")
            for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in raw.items()
            if file.startswith(lib) and name != "<module>" and name not in wrappers
        ),
        reverse=True,
    )
    return RequestProfile(
        total=total,
        sessions=sessions,
        clients=clients,
        client_setup=session_init + create_client,
        imports=imports,
        api_calls=api_calls,
        chalicelib=ours[:top],
    )


def print_request_profile(p: RequestProfile) -> None:
    print(
        "\napp child, cProfile of the first request (one run, information; the profiler"
        f" inflates times): {p.total:.2f} s"
    )
    print(
        f"  botocore set-up {p.client_setup:.3f} s ({p.sessions} sessions, {p.clients} clients)"
        f" · lazy imports {p.imports:.3f} s · AWS API calls {p.api_calls:.3f} s"
    )
    print("  chalicelib functions by cumulative time (nested):")
    for seconds, name in p.chalicelib:
        print(f"    {name:<60} {seconds:6.3f} s")


# -- the benchmark ---------------------------------------------------------------------------


def measure(runs: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    ensure_root_on_path()
    from infra.local_auth import make_token, verify

    body = ticket_body()
    token = make_token(["agent"], None, "bench-agent", BENCH_SECRET)
    # What API Gateway's Cognito authorizer hands the Lambda: the verified token's claims.
    claims = verify(token, BENCH_SECRET)
    app_runs, base_runs = Runs("app"), Runs("baseline")
    # Both children run with bytecode caches, kept out of the repository (and out of the
    # PYTHONDONTWRITEBYTECODE the shell may set): a temporary prefix the warm-up fills.
    with moto_server() as server, tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        common = {"AWS_ENDPOINT_URL": server.endpoint, "PYTHONPYCACHEPREFIX": pycache}
        app_env = child_env(
            {
                **common,
                **server.environment,
                "BENCH_TOKEN": token,
                "BENCH_CLAIMS": json.dumps(claims),
                "BENCH_BODY": json.dumps(body, ensure_ascii=False),
            }
        )

        def base_env() -> dict[str, str]:
            _, item = _baseline_item(body)
            return child_env(
                {
                    **common,
                    "TICKETS_TABLE": server.environment["TICKETS_TABLE"],
                    "BENCH_STATE_MACHINE_ARN": server.state_machine_arn,
                    "BENCH_ITEM": item,
                }
            )

        # Warm-up, not measured: bytecode caches written, files in the page cache.
        _run("app", APP_CHILD, app_env, server)
        _run("baseline", BASELINE_CHILD, base_env(), server)
        for i in range(runs):
            order = ("app", "baseline") if i % 2 == 0 else ("baseline", "app")
            for which in order:
                if which == "app":
                    wall, result, _ = _run("app", APP_CHILD, app_env, server)
                    app_runs.add(wall, result)
                else:
                    wall, result, _ = _run("baseline", BASELINE_CHILD, base_env(), server)
                    base_runs.add(wall, result)
            progress(
                f"  run {i + 1}/{runs}: app {app_runs.wall[-1]:.3f} s, "
                f"baseline {base_runs.wall[-1]:.3f} s"
            )
        _, _, stderr = _run("app", APP_CHILD, app_env, server, flags=("-X", "importtime"))
        stats_file = os.path.join(pycache, "first-request.prof")
        _run("app", APP_CHILD, {**app_env, "BENCH_PROFILE": stats_file}, server)
        request_profile = parse_request_profile(stats_file)
    return {
        "app": app_runs,
        "baseline": base_runs,
        "profile": parse_importtime(stderr),
        "request_profile": request_profile,
    }


def report(results: dict[str, Any], runs: int) -> dict[str, Any]:
    app: Runs = results["app"]
    base: Runs = results["baseline"]
    wall_ratio = median(app.wall) / median(base.wall)
    inside_ratio = median(app.inside) / median(base.inside)
    fastest_ratio = min(app.wall) / min(base.wall)
    print(f"\nmedians of {runs} runs each (s)  spawn→exit  fastest   inside   imports   request")
    for r in (app, base):
        print(
            f"  {r.name:<30} {median(r.wall):10.3f} {min(r.wall):8.3f} {median(r.inside):8.3f}"
            f" {median(r.imports):9.3f} {median(r.request):9.3f}"
        )
    print(
        f"  ratios: inside the child (first line → response) {inside_ratio:.2f},"
        f" fastest spawn→exit {fastest_ratio:.2f} (less sensitive to other load on the machine)"
    )
    heavy = print_import_profile(results["profile"])
    print_request_profile(results["request_profile"])
    headline = (
        f"cold first request: app {median(app.wall):.2f} s / baseline {median(base.wall):.2f} s"
        f" = {wall_ratio:.2f} (target ≤ {TARGET}), median of {runs} runs each"
    )
    print(f"\n{headline}")
    summary: dict[str, Any] = {
        "name": "cold_start",
        "headline": headline,
        "ratio": wall_ratio,
        "inside_ratio": inside_ratio,
        "fastest_ratio": fastest_ratio,
        "target": TARGET,
        "app_seconds": median(app.wall),
        "baseline_seconds": median(base.wall),
        "runs": runs,
    }
    if wall_ratio > TARGET:
        summary["heaviest_imports"] = heavy
        extra_import = median(app.imports) - median(base.imports)
        extra_request = median(app.request) - median(base.request)
        print(
            f"  above target: against the baseline, the app's imports take {extra_import:+.3f} s"
            f" and its first request {extra_request:+.3f} s"
            f"\n  heaviest packages by import time: {', '.join(heavy)}"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs of each child (default 7, ≥5)")
    parser.add_argument("--summary", help="write the headline figures to this JSON file")
    args = parser.parse_args(argv)
    runs = max(args.runs, 5)
    print(f"cold start: {runs} runs each of a fresh app child and a bare boto3 child, alternating")
    try:
        results = measure(runs)
    except BenchError as err:
        print(f"cold_start: could not measure: {err}", file=sys.stderr)
        return 1
    write_summary(args.summary, report(results, runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "cold_start"))
