"""SNS: ticket events for integrations and notices addressed to departments.

Every message carries the attributes departments filter on (API.md); bodies never carry the
complainant record and phone numbers are masked.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.masking import mask_value
from chalicelib.logs import logger

from . import aws

BATCH = 10  # SNS PublishBatch takes at most 10 entries


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = {"DataType": "Number", "StringValue": str(value)}
        else:
            out[key] = {"DataType": "String", "StringValue": str(value)}
    return out


class Notifier:
    def __init__(self, ticket_events_arn: str, department_arn: str, client: Any = None) -> None:
        self.ticket_events_arn = ticket_events_arn
        self.department_arn = department_arn
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.sns()

    def _publish(self, topic: str, body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self.client.publish(
            TopicArn=topic,
            Message=_body(body),
            MessageAttributes=_attributes(attributes),
        )

    def ticket_event(self, body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self._publish(self.ticket_events_arn, body, attributes)

    def department(self, body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self._publish(self.department_arn, body, attributes)

    def departments(self, messages: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[bool]:
        """Publish many department notices, ten to a PublishBatch call; returns, per message,
        whether SNS accepted it. A batch call that fails as a whole is retried one message at a
        time, so that one bad message does not fail its neighbours."""
        accepted = [False] * len(messages)
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            entries = [
                {"Id": str(n), "Message": _body(body), "MessageAttributes": _attributes(attrs)}
                for n, (body, attrs) in enumerate(chunk)
            ]
            try:
                answer = self.client.publish_batch(
                    TopicArn=self.department_arn, PublishBatchRequestEntries=entries
                )
            except Exception:
                logger.exception("a notice batch failed; publishing its notices one by one")
                for n, (body, attrs) in enumerate(chunk):
                    try:
                        self.department(body, attrs)
                    except Exception:
                        logger.exception("publishing a notice failed")
                        continue
                    accepted[start + n] = True
                continue
            for ok in answer.get("Successful", []):
                accepted[start + int(ok["Id"])] = True
            for failed in answer.get("Failed", []):
                logger.error(
                    "SNS refused a notice",
                    extra={"code": failed.get("Code"), "senderFault": failed.get("SenderFault")},
                )
        return accepted


def _body(body: dict[str, Any]) -> str:
    return json.dumps(mask_value(body), ensure_ascii=False, sort_keys=True)
