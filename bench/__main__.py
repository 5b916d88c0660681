"""`python -m bench`: every benchmark, each in its own process, then a summary of the headlines.

    .venv/bin/python -m bench [-n 20] [--runs 7]

Runs bench.aws_calls, bench.cold_start, bench.transitions (state transitions and list-price cost
of a happy-path ticket), bench.sweep (items one sweep reads and AWS calls it makes per due ticket,
20,000 vs 2,000 open tickets), bench.intake_calls, bench.incidents (issue 11: one incident per
burst, resolving 500 tickets) and, when present, bench/classifier_accuracy.py. Reports, never
asserts: exits non-zero only if a benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, run_child, run_main

CLASSIFIER = ROOT / "bench" / "classifier_accuracy.py"
CLASSIFIER_HEADLINES = ("classifier top-1", "classifier top-3", "mean latency")


def _banner(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 72 - len(title)), flush=True)


# issue 11: resolving an incident of 500 tickets on moto takes longer than the others
TIMEOUTS = {"incidents": 2400}


def _own(module: str, args: list[str], summary_dir: Path) -> tuple[int, list[str]]:
    """Run one of ours with live output; its headline comes back through a JSON file."""
    summary = summary_dir / f"{module}.json"
    cmd = [sys.executable, "-m", f"bench.{module}", *args, "--summary", str(summary)]
    code = run_child(cmd, timeout=TIMEOUTS.get(module, 600), capture=False).returncode
    if code != 0 or not summary.exists():
        return code or 1, [f"{module}: FAILED (exit {code})"]
    headline = json.loads(summary.read_text(encoding="utf-8"))["headline"]
    return 0, [str(headline)]


def _classifier() -> tuple[int, list[str]]:
    """The classifier engineer's script, as they run it; its headline lines are picked out."""
    child = run_child([sys.executable, str(CLASSIFIER)], timeout=600)
    print(child.stdout, end="", flush=True)
    print(child.stderr, end="", file=sys.stderr, flush=True)
    if child.returncode != 0:
        return child.returncode, [f"classifier_accuracy: FAILED (exit {child.returncode})"]
    lines = [ln for ln in child.stdout.splitlines() if ln.startswith(CLASSIFIER_HEADLINES)]
    return 0, lines or ["classifier_accuracy: ran, printed no headline"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="creates per aws_calls scenario")
    parser.add_argument("--runs", type=int, default=7, help="cold start runs of each child")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    failures = 0
    headlines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for title, module, extra in (
            ("AWS calls per POST /tickets", "aws_calls", ["-n", str(args.n)]),
            ("cold first request", "cold_start", ["--runs", str(args.runs)]),
            ("state transitions and cost per happy-path ticket", "transitions", []),
            ("items read and AWS calls per due ticket of a sweep", "sweep", []),
            # issue 10 part A: calls per create (new, repeat, blacklisted), suggestion path
            ("intake: AWS calls per create, suggestion path", "intake_calls", []),
            # issue 12 (KPIs): items a month's report reads, aggregator writes per event
            ("KPI report items read and aggregator writes per event", "kpis", []),
            # issue 11: 50 concurrent complaints -> one incident; resolving 500 tickets
            ("incidents: one per burst, resolving 500 tickets", "incidents", []),
        ):
            _banner(title)
            code, lines = _own(module, extra, Path(tmp))
            failures += code != 0
            headlines += lines
    if CLASSIFIER.exists():
        _banner("classifier accuracy (bench/classifier_accuracy.py)")
        code, lines = _classifier()
        failures += code != 0
        headlines += lines
    _banner("summary")
    for line in headlines:
        print(line)
    print(f"(bench took {time.perf_counter() - started:.0f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(run_main(main, "bench"))
