"""Reading the departments' inbox queues that infra subscribes to the notifications topic."""

from __future__ import annotations

import json
from typing import Any

import boto3


def drain(aws: Any, inbox: str) -> list[dict[str, Any]]:
    """Every message waiting in an inbox (e.g. "NetworkInbox"), removed as read."""
    sqs = boto3.client("sqs")
    url = aws.refs[inbox]
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return out
        for m in got:
            body = json.loads(m["Body"])
            body["_attributes"] = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
            out.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
