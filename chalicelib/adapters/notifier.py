"""SNS: ticket events for integrations and notices addressed to departments.

Every message carries the attributes departments filter on (API.md); bodies never carry the
complainant record and phone numbers are masked.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.masking import mask_value

from . import aws


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
            Message=json.dumps(mask_value(body), ensure_ascii=False, sort_keys=True),
            MessageAttributes=_attributes(attributes),
        )

    def ticket_event(self, body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self._publish(self.ticket_events_arn, body, attributes)

    def department(self, body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self._publish(self.department_arn, body, attributes)
