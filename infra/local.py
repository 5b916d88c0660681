"""The local stack: moto + the Chalice app + schedules + event handlers, on 127.0.0.1.

    python -m infra.local                 start everything (what `make run` does)
    python -m infra.local token --role R [--role R2 ...] [--department D] [--user U]
                                          print a bearer token the local stack accepts

Local-only glue: never deployed (it lives outside chalicelib/).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# LOCAL_STATE_DIR lets a second stack (the e2e tests) run beside a developer's `make run`.
STATE_DIR = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local")
STACK_FILE = STATE_DIR / "stack.json"
SECRET_FILE = STATE_DIR / "jwt-secret"
STACK_NAME = "complaint-tickets-local"
REGION = "us-east-1"
# CORS origins of the local stack unless ALLOWED_ORIGINS says otherwise (any local port).
LOCAL_ALLOWED_ORIGINS = "http://localhost:*,http://127.0.0.1:*"


def local_secret() -> str:
    """One signing secret per checkout, shared by the stack and the token command."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_urlsafe(32))
        SECRET_FILE.chmod(0o600)
    return SECRET_FILE.read_text().strip()


def token(roles: list[str], department: str | None, user: str | None) -> str:
    """A token for the running local stack (infra/local_auth.py signs it with PyJWT)."""
    from chalicelib.domain.vocabulary import ROLES
    from infra.local_auth import make_token

    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise SystemExit(f"unknown role {unknown[0]!r}; one of: {', '.join(ROLES)}")
    return make_token(roles, department, user, local_secret())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fake_credentials() -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ.setdefault(key, value)


class LocalStack:
    """Starts and stops every piece; `stop` leaves nothing running and removes stack.json."""

    def __init__(self, port: int, sweep_seconds: float) -> None:
        self.port = port
        self.sweep_seconds = sweep_seconds
        self.stopping = threading.Event()
        self.moto: Any = None
        self.http: Any = None
        self.threads: list[threading.Thread] = []
        self.info: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        fake_credentials()
        moto_port = free_port()
        os.environ["MOTO_PORT"] = str(moto_port)  # moto's own callbacks (SFN → services)
        import logging

        from moto.server import ThreadedMotoServer

        from infra import moto_patches

        moto_patches.apply()

        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self.moto.start()
        endpoint = f"http://127.0.0.1:{moto_port}"
        import requests

        requests.post(
            f"{endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        os.environ["AWS_ENDPOINT_URL"] = endpoint

        import boto3

        from infra.resources import create_all, predicted_environment

        # The app reads table names at import: set them first.
        os.environ.update(predicted_environment(STACK_NAME))
        import app as app_module
        from infra import local_auth

        # chalice's local gateway plays API Gateway: Cognito-style tokens, 401/404 answers.
        local_auth.install(app_module.app, local_secret())
        origins = os.environ.get("ALLOWED_ORIGINS") or LOCAL_ALLOWED_ORIGINS
        stack = create_all(
            boto3.session.Session(region_name=REGION),
            STACK_NAME,
            app=app_module.app,
            parameters={
                "AllowedOrigins": origins,
                "SlaPolicy": os.environ.get("SLA_POLICY", "default"),
            },
        )
        os.environ.update(stack.environment())

        self._serve_api()
        self._schedule_sweeps()
        tables = {k: v for k, v in stack.refs.items() if k.endswith("Table")}
        self.info = {
            "apiUrl": f"http://127.0.0.1:{self.port}",
            "awsEndpointUrl": endpoint,
            "region": REGION,
            "tables": tables,
            "topics": {k: v for k, v in stack.refs.items() if k.endswith("Topic")},
            "queues": {k: v for k, v in stack.refs.items() if k.endswith(("Queue", "Inbox"))},
            "stateMachines": {k: v for k, v in stack.refs.items() if k.endswith("StateMachine")},
            "environment": stack.environment(),
            "pid": os.getpid(),
        }
        STATE_DIR.mkdir(exist_ok=True)
        STACK_FILE.write_text(json.dumps(self.info, indent=2))
        return self.info

    def _serve_api(self) -> None:
        from urllib.parse import unquote

        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, create_local_server

        from chalicelib.domain.masking import mask_pii

        # The access log prints request lines, whose paths may hold phone numbers
        # (/customers/13800138000/tickets): the one masking rule applies there too.
        def log_message(handler: Any, fmt: str, *args: Any) -> None:
            line = mask_pii(unquote(fmt % args))
            sys.stderr.write(
                f"{handler.address_string()} - [{handler.log_date_time_string()}] {line}\n"
            )

        ChaliceRequestHandler.log_message = log_message  # type: ignore[method-assign]

        import app as app_module

        config = Config.create(
            chalice_stage="dev",
            app_name="complaint-tickets",
            environment_variables={},
        )
        self.http = create_local_server(app_module.app, config, "127.0.0.1", self.port)
        t = threading.Thread(target=self.http.serve_forever, name="api", daemon=True)
        t.start()
        self.threads.append(t)

    def _schedule_sweeps(self) -> None:
        """chalice local does not run @app.schedule: invoke each scheduled function on its rate."""
        from chalice.test import Client

        import app as app_module

        def loop() -> None:
            with Client(app_module.app) as client:
                while not self.stopping.wait(self.sweep_seconds):
                    try:
                        client.lambda_.invoke(
                            "sweep",
                            client.events.generate_cw_event(
                                source="aws.events",
                                detail_type="Scheduled Event",
                                detail={},
                                resources=["local-schedule"],
                            ),
                        )
                    except Exception as err:
                        print(f"sweep failed: {err}", file=sys.stderr)

        t = threading.Thread(target=loop, name="sweep", daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self) -> None:
        self.stopping.set()
        if self.http is not None:
            self.http.shutdown()
        for t in self.threads:
            t.join(timeout=5)
        if self.moto is not None:
            self.moto.stop()
        STACK_FILE.unlink(missing_ok=True)


def run(port: int, sweep_seconds: float) -> None:
    stack = LocalStack(port, sweep_seconds)
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        info = stack.start()
        api = info["apiUrl"]
        print(f"complaint-tickets local stack ready\n  API:          {api}", flush=True)
        print(f"  AWS endpoint: {info['awsEndpointUrl']}\n  state file:   {STACK_FILE}")
        print("  token:        TOKEN=$(.venv/bin/python -m infra.local token --role agent)")
        print(f'  try:          curl -s {api}/tickets -H "Authorization: Bearer $TOKEN"')
        print("Ctrl-C stops everything.", flush=True)
        done.wait()
    finally:
        stack.stop()
        print("local stack stopped", flush=True)


def inbox_names(queues: dict[str, str]) -> dict[str, str]:
    """Inbox name (as departments.json spells it: `billing_support`, `crc`, `leaders`) → queue
    URL. `BillingSupport` and `billing-support` are accepted too (see `inbox_url`)."""
    out: dict[str, str] = {}
    for logical, url in queues.items():
        if logical.endswith("Inbox"):
            camel = logical.removesuffix("Inbox")
            out["".join(f"_{c.lower()}" if c.isupper() else c for c in camel).lstrip("_")] = url
    return out


def inbox_url(queues: dict[str, str], name: str) -> str:
    names = inbox_names(queues)
    wanted = name.replace("-", "").replace("_", "").lower().removesuffix("inbox")
    for known, url in names.items():
        if known.replace("_", "") == wanted:
            return url
    raise SystemExit(f"no inbox {name!r}; the inboxes are: {', '.join(sorted(names))}")


def read_inbox(department: str, peek: bool = False) -> int:
    """What the SNS subscription of a department (filter policy on `department`, or `level` for
    leaders) delivered to its queue on the running local stack; removed as read unless `peek`.
    Returns how many messages were printed."""
    if not STACK_FILE.exists():
        raise SystemExit("no local stack is running (start it with `make run`)")
    info = json.loads(STACK_FILE.read_text())
    url = inbox_url(info["queues"], department)
    fake_credentials()
    import boto3

    sqs = boto3.client("sqs", endpoint_url=info["awsEndpointUrl"], region_name=info["region"])
    seen: set[str] = set()
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0 if peek else 30
        ).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            break
        for m in fresh:
            seen.add(m["MessageId"])
            print(m["Body"])
            if not peek:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    if not seen:
        print(f"(the {department} inbox is empty)", file=sys.stderr)
    return len(seen)


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command")
    tok = sub.add_parser("token", help="print a bearer token the local stack accepts")
    tok.add_argument(
        "--role", required=True, action="append", help="a Cognito group; repeat for several"
    )
    tok.add_argument("--department")
    tok.add_argument("--user")
    inbox = sub.add_parser("inbox", help="print (and remove) what a department's inbox received")
    inbox.add_argument("department", help="e.g. network, crc, billing_support, operators, leaders")
    inbox.add_argument("--peek", action="store_true", help="print without removing")
    args = parser.parse_args(argv)
    if args.command == "token":
        print(token(args.role, args.department, args.user))
        return
    if args.command == "inbox":
        read_inbox(args.department, peek=args.peek)
        return
    port = int(os.environ.get("PORT", "8000"))
    if port_taken(port):  # before anything starts: a running stack's files stay untouched
        raise SystemExit(
            f"port {port} is taken (another `make run`?): stop it, or run on another port, "
            f"e.g. PORT={port + 1} make run"
        )
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")  # sweep runs, notices, failures
    # EMF metric lines on every request would drown the logs; POWERTOOLS_METRICS_DISABLED=false
    # make run prints them as CloudWatch would read them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sweep = float(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))
    sys.path.insert(0, str(ROOT))
    run(port, sweep)


if __name__ == "__main__":
    main()
