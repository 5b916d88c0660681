"""Shared pieces of the benchmarks: paths, environment, request bodies, tokens, child processes.

Nothing here imports the app, boto3 or moto: each benchmark decides when those load.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
BENCH_SECRET = "bench-secret-of-at-least-32-bytes"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class BenchError(Exception):
    """The benchmark could not measure what it set out to (the app failed a request, ...)."""


def ensure_root_on_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def ticket_body(**overrides: Any) -> dict[str, Any]:
    """A valid complaint, the same shape the functional tests post."""
    body: dict[str, Any] = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {
            "name": "张三",
            "type": "ordinary",
            "contactNumber": "13800138000",
            "replyMethod": "phone",
        },
        "serviceNumber": "13800138000",
        "description": "家里手机信号不好，只有一两格，通话断断续续",
        "location": {"area": "思明区", "landmark": "中山路步行街"},
    }
    body.update(overrides)
    return body


def agent_headers(secret: str, **extra: str) -> dict[str, str]:
    ensure_root_on_path()
    from infra.local_auth import make_token

    return {
        "Authorization": f"Bearer {make_token(['agent'], None, 'bench-agent', secret)}",
        "Content-Type": "application/json",
        **extra,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def raise_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks stop servers and children."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def run_main(main: Callable[[], int], name: str) -> int:
    """Run a benchmark's main; Ctrl-C ends it quietly after its `finally` blocks have run."""
    raise_on_sigterm()
    try:
        return main()
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr, flush=True)
        return 130


def stop_child(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Let a child finish its own cleanup (it got the terminal's SIGINT too), then insist."""
    if proc.poll() is not None:
        return
    try:
        proc.wait(timeout=1.0)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass(frozen=True)
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from just before spawn to just after exit


def run_child(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    capture: bool = True,
) -> ChildResult:
    """Run one child to completion, timing spawn to exit; never leaves it running."""
    pipe = subprocess.PIPE if capture else None
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        env=dict(env) if env is not None else None,
        cwd=ROOT,
        stdout=pipe,
        stderr=pipe,
        text=True,
        encoding="utf-8",
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        stop_child(proc)
        raise
    seconds = time.perf_counter() - start
    return ChildResult(proc.returncode, out or "", err or "", seconds)


def last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    raise BenchError(f"the child printed no result line:\n{text[-2000:]}")


def write_summary(path: str | None, summary: Mapping[str, Any]) -> None:
    """Hand the headline figures to `python -m bench` (a JSON file it names)."""
    if path:
        Path(path).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The current environment with fake credentials, a clean AWS config and `extra` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(FAKE_CREDENTIALS)
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(extra)
    return env


def execution_parked(sfn: Any, arn: str) -> str:
    """RUNNING until the execution waits at its first human step (then PARKED), or its end
    status. Executions wait for people now, so the benchmarks wait only until they are parked."""
    try:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
    except sfn.exceptions.ExecutionDoesNotExist:
        return "MISSING"
    if status != "RUNNING":
        return status
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    submitted = any(e["type"] == "TaskSubmitted" for e in events)
    return "PARKED" if submitted else "RUNNING"


def prepare_environment(stack: str) -> None:
    """What the tests do before importing the app: fake credentials and table names."""
    ensure_root_on_path()
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.resources import predicted_environment

    os.environ.update(predicted_environment(stack))


@contextmanager
def moto_app_stack(stack_name: str) -> Iterator[tuple[Any, Any, Any]]:
    """moto in-process (executions on), the stack of infra/template.json with the app's Lambdas,
    and the app wired to it — what tests/functional/conftest.py does. Yields (app, stack,
    session)."""
    import boto3
    from moto import mock_aws

    from infra import local_auth, moto_patches
    from infra.resources import create_all

    moto_patches.apply()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        from app import app

        local_auth.install(app, BENCH_SECRET)  # the test client verifies tokens as API Gateway

        session = boto3.session.Session(region_name=FAKE_CREDENTIALS["AWS_REGION"])
        stack = create_all(session, stack_name, app=app)
        os.environ.update(stack.environment())
        from chalicelib.adapters import aws as aws_clients
        from chalicelib.services import context

        aws_clients.reset()
        context.deps.cache_clear()
        yield app, stack, session
