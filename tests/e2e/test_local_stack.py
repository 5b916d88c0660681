"""The README's tour, over HTTP, against the local stack started as `make run` starts it."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.e2e.conftest import ROOT, Stack, start_stack, stop_stack

BODY = {
    "kind": "complaint",
    "channel": "hotline",
    "complainant": {"name": "李四", "contactNumber": "13912345678", "replyMethod": "sms"},
    "serviceNumber": "13912345678",
    "description": "手机没信号，打不出电话，只有一格",
    "location": {"area": "思明区", "landmark": "厦门大学西门"},
}


def _wait(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_health_needs_no_token(stack: Stack) -> None:
    assert requests.get(stack.url + "/health", timeout=5).json() == {"status": "ok"}


def test_create_read_list_history_and_idempotent_repeat(stack: Stack) -> None:
    created = stack.call("POST", "/tickets", body=BODY, headers={"Idempotency-Key": "e2e-1"})
    assert created.status_code == 201, created.text
    ticket = created.json()
    # the classifier filled in what the agent left out, and the SLA gave a deadline
    assert ticket["category"] == "basic_communication" and ticket["dueAt"]
    again = stack.call("POST", "/tickets", body=BODY, headers={"Idempotency-Key": "e2e-1"})
    assert again.status_code == 201 and again.json()["id"] == ticket["id"]
    read = _wait(
        lambda: (
            (r := stack.call("GET", f"/tickets/{ticket['id']}").json())["workflow"]["status"]
            == "started"
            and r
        )
    )
    assert read["id"] == ticket["id"] and read["serviceNumber"] == "13912345678"
    listed = stack.call("GET", "/tickets?status=accepted&limit=10").json()
    assert ticket["id"] in [t["id"] for t in listed["items"]]
    mine = stack.call("GET", "/customers/13912345678/tickets").json()
    assert [t["id"] for t in mine["items"]] == [ticket["id"]]
    history = stack.call("GET", f"/tickets/{ticket['id']}/history").json()["items"]
    assert [e["action"] for e in history] == ["create", "workflow_started"]


def test_errors_are_problem_json(stack: Stack) -> None:
    bad = stack.call("POST", "/tickets", body={**BODY, "serviceNumber": "12"})
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"] == [
        {"field": "serviceNumber", "message": bad.json()["errors"][0]["message"]}
    ]
    assert stack.call("GET", "/tickets", role=None).status_code == 401
    assert stack.call("POST", "/tickets", role="auditor", body=BODY).status_code == 403
    assert stack.call("GET", "/tickets/T0000000000000000000000000").status_code == 404


def test_sigterm_stops_everything_and_removes_the_state_file(tmp_path: Path) -> None:
    s = start_stack(tmp_path)
    aws = s.info["awsEndpointUrl"]
    assert requests.get(s.url + "/health", timeout=5).ok
    assert stop_stack(s) == 0
    assert not (tmp_path / "stack.json").exists()
    for url in (s.url + "/health", aws):
        try:
            requests.get(url, timeout=2)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"{url} still answers after the stack stopped")


def test_unknown_routes_are_404_problem_json_without_echoing_the_token(stack: Stack) -> None:
    # GIVEN a bearer token sent to a path no route has, over real HTTP
    token = stack.token(["agent", "auditor"])
    resp = requests.get(
        stack.url + "/no/such/route", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    # THEN it is a 404 problem+json (not chalice's 403 echoing the header), the token nowhere
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "not_found"
    assert token not in resp.text and all(token not in v for v in resp.headers.values())
    # AND the same token, in two groups, reads both tickets and the audit
    for path in ("/tickets", "/audit"):
        ok = requests.get(stack.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert ok.status_code == 200, (path, ok.text)


def test_a_browser_preflight_from_a_local_origin_is_allowed(stack: Stack) -> None:
    # WHEN a front-end served from a local dev port asks before POSTing a ticket
    origin = "http://localhost:5173"
    resp = requests.options(
        stack.url + "/tickets",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    # THEN the local stack's default origins allow it
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert resp.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert "If-Match" in resp.headers["Access-Control-Allow-Headers"]
    # AND an error the browser then gets is readable by it
    denied = requests.get(stack.url + "/tickets", headers={"Origin": origin}, timeout=5)
    assert denied.status_code == 401
    assert denied.headers["Access-Control-Allow-Origin"] == origin
    # AND another origin is not allowed
    other = requests.options(
        stack.url + "/tickets",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_taken_port_is_one_line_naming_port_and_leaves_the_running_stack_alone(
    stack: Stack,
) -> None:
    import os
    import subprocess
    import sys
    from urllib.parse import urlparse

    port = str(urlparse(stack.url).port)
    env = {**os.environ, "PORT": port, "LOCAL_STATE_DIR": str(stack.state_dir)}
    env.pop("AWS_ENDPOINT_URL", None)
    second = subprocess.run(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    message = (second.stderr + second.stdout).strip()
    assert len(message.splitlines()) == 1 and f"port {port} is taken" in message
    assert "PORT=" in message
    # the running stack is untouched: its state file is there and it answers
    assert (stack.state_dir / "stack.json").exists()
    assert requests.get(stack.url + "/health", timeout=5).status_code == 200


def test_inbox_takes_the_names_it_lists_peeks_and_says_when_empty(stack: Stack) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOCAL_STATE_DIR": str(stack.state_dir)}

    def inbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.local", "inbox", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    unknown = inbox("nowhere")
    assert unknown.returncode != 0 and "billing_support" in unknown.stderr
    # a ticket escalated at intake: the CRC inbox gets its notice
    body = {**BODY, "flags": ["media"]}
    assert stack.call("POST", "/tickets", body=body).status_code == 201
    deadline = time.monotonic() + 20
    while not (peeked := inbox("crc", "--peek")).stdout and time.monotonic() < deadline:
        time.sleep(0.5)
    assert '"escalated"' in peeked.stdout
    assert '"escalated"' in inbox("Crc").stdout  # still there after a peek; now removed
    emptied = inbox("crc")
    assert emptied.stdout == "" and "empty" in emptied.stderr
    assert "empty" in inbox("billing_support").stderr
