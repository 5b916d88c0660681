"""The local stack started as a subprocess (what `make run` starts) and driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Stack:
    def __init__(self, proc: subprocess.Popen[str], state_dir: Path, info: dict[str, Any]) -> None:
        self.proc = proc
        self.state_dir = state_dir
        self.info = info
        self.url = info["apiUrl"]

    def token(
        self, role: str | list[str], department: str | None = None, user: str | None = None
    ) -> str:
        """`python -m infra.local token` for one role or several (`--role` repeated)."""
        args = [sys.executable, "-m", "infra.local", "token"]
        for r in [role] if isinstance(role, str) else role:
            args += ["--role", r]
        if department:
            args += ["--department", department]
        if user:
            args += ["--user", user]
        env = {**os.environ, "LOCAL_STATE_DIR": str(self.state_dir)}
        return subprocess.run(
            args, cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def call(
        self,
        method: str,
        path: str,
        role: str | None = "agent",
        body: Any = None,
        department: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        h = {"Content-Type": "application/json", **(headers or {})}
        if role:
            h["Authorization"] = f"Bearer {self.token(role, department)}"
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        return requests.request(method, self.url + path, headers=h, data=data, timeout=30)


def start_stack(tmp: Path, extra_env: dict[str, str] | None = None) -> Stack:
    env = {
        **os.environ,
        "PORT": str(_free_port()),
        "LOCAL_STATE_DIR": str(tmp),
        "SWEEP_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    for key in (
        "AWS_ENDPOINT_URL",
        "TICKETS_TABLE",
        "EVENTS_TABLE",
        "AUDIT_TABLE",
        "IDEMPOTENCY_TABLE",
    ):
        env.pop(key, None)
    # A file, not a pipe: nobody reads the stack's output while it runs, and a full pipe
    # would block it.
    with open(tmp / "stack.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    stack_file = tmp / "stack.json"
    deadline = time.monotonic() + 60
    while not stack_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"local stack did not start:\n{(tmp / 'stack.log').read_text()}")
        time.sleep(0.1)
    return Stack(proc, tmp, json.loads(stack_file.read_text()))


def stop_stack(stack: Stack) -> int:
    stack.proc.send_signal(signal.SIGTERM)
    try:
        # generous: on a loaded 2-core machine the stack's threads and moto take a while to stop
        return stack.proc.wait(timeout=90)
    finally:
        if stack.proc.poll() is None:
            stack.proc.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield s
    finally:
        stop_stack(s)
