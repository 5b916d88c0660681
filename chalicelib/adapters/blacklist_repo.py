"""The complaint blacklist (投诉黑名单): flagged on every ticket of a listed service number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.domain.values import iso, parse_storage_time, storage_time

from .models import BlacklistModel
from .query import connection


def _to_api(m: BlacklistModel) -> dict[str, Any]:
    return {
        "serviceNumber": m.serviceNumber,
        "reason": m.reason,
        "addedBy": m.addedBy,
        "addedAt": iso(parse_storage_time(m.addedAt)),
    }


class BlacklistRepository:
    def contains(self, service_number: str) -> bool:
        """Asked at every intake: a plain GetItem on the connection intake already holds."""
        client: Any = connection().client
        item = client.get_item(
            TableName=config.blacklist_table(),
            Key={"serviceNumber": {"S": service_number}},
            ProjectionExpression="serviceNumber",
        )
        return "Item" in item

    def put(self, service_number: str, reason: str, by: str, at: datetime) -> dict[str, Any]:
        m = BlacklistModel(service_number, reason=reason, addedBy=by, addedAt=storage_time(at))
        m.save()
        return _to_api(m)

    def delete(self, service_number: str) -> bool:
        try:
            BlacklistModel.get(service_number).delete()
        except DoesNotExist:
            return False
        return True

    def page(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        """The whole list, a page at a time: a small, bounded table read only by managers."""
        results = BlacklistModel.scan(limit=limit, last_evaluated_key=cursor)
        return [_to_api(m) for m in results], results.last_evaluated_key
