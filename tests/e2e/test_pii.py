"""Personal data under one rule: after a run on the local stack, nothing it emitted — its log
(the access log included), the department inboxes, the Step Functions execution histories —
holds a phone number, ID-card number or e-mail address whole, however it was typed."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import boto3

from tests.e2e.conftest import Stack
from tests.e2e.test_lifecycle_e2e import FIELDS, _act

MOBILE = "13912345678"
CONTACT = "13687654321"
ID_CARD = "11010519491231002X"
EMAIL = "zhang.wei@example.com"
NAME = "张伟明"


def _digits(text: str) -> str:
    folded = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"[\s\-.()+]", "", folded)


def _aws(stack: Stack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.info["awsEndpointUrl"],
        region_name=stack.info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_nothing_the_stack_emits_holds_personal_data_whole(stack: Stack) -> None:
    # GIVEN a complaint whose every text field carries personal data, typed the ways people do
    description = (
        f"{NAME}说：我的号码 +86 139-1234-5678 信号不好，备用 １３６８７６５４３２１，"
        f"身份证 {ID_CARD}，邮箱 {EMAIL}"
    )
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {"name": NAME, "contactNumber": "136 8765 4321", "address": EMAIL},
        "serviceNumber": "139.1234.5678",
        "description": description,
        "phenomenon": "voice_coverage",
        "flags": ["media"],  # escalated at intake: the CRC is notified at once
        "fields": FIELDS,
    }
    created = stack.call("POST", "/tickets", "agent", body)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    # WHEN it moves on, is read by every kind of reader, and the sweep runs
    _act(stack, tid, "review", "senior_agent", {"valid": True})
    _act(
        stack, tid, "dispatch", "senior_agent", {"department": "network", "note": f"回电 {MOBILE}"}
    )
    _act(stack, tid, "note", "department", {"text": f"已联系 {CONTACT}"}, department="network")
    for role in ("agent", "operator", "auditor", "leader"):
        assert stack.call("GET", "/customers/139%201234%205678/tickets", role).status_code == 200
    leader_view = stack.call("GET", f"/tickets/{tid}", "leader").json()
    assert leader_view["serviceNumber"] == "139****5678"
    assert leader_view["complainant"]["contactNumber"] == "136****4321"
    assert stack.call("GET", f"/tickets/{tid}", "agent").json()["serviceNumber"] == MOBILE
    time.sleep(3)  # a few sweep runs (SWEEP_INTERVAL_SECONDS=1)

    # THEN nothing emitted holds the numbers, the ID card or the address whole
    emitted = [(stack.state_dir / "stack.log").read_text(encoding="utf-8")]
    sqs = _aws(stack, "sqs")
    for name, url in stack.info["queues"].items():
        if not name.endswith("Inbox"):
            continue
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        emitted += [m["Body"] for m in got]
    sfn = _aws(stack, "stepfunctions")
    for machine in stack.info["stateMachines"].values():
        for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
            history = sfn.get_execution_history(executionArn=execution["executionArn"])
            emitted.append(json.dumps(history["events"], default=str, ensure_ascii=False))
    assert len(emitted) > 2, "the run emitted nothing to check"
    everything = "\n".join(emitted)
    assert tid in everything  # the checks look at the right run
    for secret in (MOBILE, CONTACT, ID_CARD):
        assert secret not in _digits(everything), secret
    assert EMAIL not in everything
    assert NAME not in "".join(emitted[1:]), "the complainant's name reached a message"
