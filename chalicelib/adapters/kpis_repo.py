"""The KPI counters table: pre-aggregated counters per day × department × category × channel,
and what each ticket has contributed to them (decision 0018).

Items (one table, key `pk` + `sk`):

- counters: `pk` = `YYYY-MM|<category>|<channel>` (a scope; `*` for all categories or all
  channels: the rollups), `sk` = `YYYY-MM-DD#<department>`; one number attribute per counter
  (`complaints`, `replied` …), updated with `ADD` only. Small items: a write pays for a small
  item, and a report reads one scope's items, one per day × department;
- a ticket's applied snapshot: `pk` = `ticket#<id>`, `sk` = `applied`; the version and event id
  last applied, its facts (JSON), `expiresAt` (TTL);
- an incident seen: `pk` = `incident#<id>`, `sk` = `seen` (TTL), so each counts once.

An event is applied in ONE TransactWriteItems: the snapshot's conditional Put (on the version
read before) with the counters' ADDs; a redelivered or older event fails the condition and
changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from chalicelib import config
from chalicelib.domain import kpis

from . import aws

# A ticket's snapshot is kept this long after its last event: far longer than any ticket stays
# open, so a late event never finds it gone (and counted twice).
KEEP = timedelta(days=3 * 366)
ATTEMPTS = 4
STATE_SK = "applied"

Outcome = Literal["applied", "duplicate", "stale"]


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    items_written: int = 0


@dataclass(frozen=True)
class Read:
    items: list[dict[str, Any]]  # counter items, attribute → int (plus day, department)
    items_read: int
    calls: int


def _state_key(ticket_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ticket#{ticket_id}"}, "sk": {"S": STATE_SK}}


def _partition(month: str, where: str) -> str:
    return f"{month}{kpis.SEPARATOR}{where}"


def _cell_key(where: str, day: str, department: str) -> dict[str, Any]:
    return {"pk": {"S": _partition(day[:7], where)}, "sk": {"S": f"{day}#{department}"}}


def _counter_update(
    table: str, where: str, day: str, department: str, adds: Mapping[str, int]
) -> Any:
    names = {"#d": "day", "#p": "department"}
    values: dict[str, Any] = {":d": {"S": day}, ":p": {"S": department}}
    parts = []
    for n, (attr, amount) in enumerate(sorted(adds.items())):
        names[f"#a{n}"] = attr
        values[f":a{n}"] = {"N": str(amount)}
        parts.append(f"#a{n} :a{n}")
    return {
        "Update": {
            "TableName": table,
            "Key": _cell_key(where, day, department),
            "UpdateExpression": "SET #d = :d, #p = :p ADD " + ", ".join(parts),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _number(value: Mapping[str, str]) -> int:
    return int(value["N"])


class KpiRepository:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self._table = table
        self._client = client

    @property
    def table(self) -> str:
        return self._table or config.kpis_table()

    @property
    def client(self) -> Any:
        return self._client or aws.dynamodb()

    # -- the aggregator's write ---------------------------------------------------------------

    def applied(self, ticket_id: str) -> tuple[int, str, dict[str, Any] | None] | None:
        """(version, event id, facts) last applied for the ticket, or None."""
        got = self.client.get_item(
            TableName=self.table, Key=_state_key(ticket_id), ConsistentRead=True
        ).get("Item")
        if not got:
            return None
        facts = json.loads(got["facts"]["S"]) if "facts" in got else None
        return _number(got["version"]), got["eventId"]["S"], facts

    def apply(
        self,
        event_id: str,
        ticket_id: str,
        version: int,
        facts: Mapping[str, Any] | None,
        now: datetime,
    ) -> Applied:
        """Replace the ticket's contribution by `facts` (its snapshot at `version`), once."""
        incident_known = False
        for _ in range(ATTEMPTS):
            before = self.applied(ticket_id)
            if before is not None and before[0] >= version:
                return Applied("duplicate" if before[1] == event_id else "stale")
            old = before[2] if before else None
            items = [self._state_put(ticket_id, event_id, version, facts, now, before)]
            changes = kpis.delta(old, facts)
            incident = None if incident_known else kpis.new_incident(old, facts)
            if incident and facts:
                day, department = str(facts["day"]), str(facts["department"])
                for where in kpis.scopes(str(facts["category"]), str(facts["channel"])):
                    adds = changes.setdefault((where, day, department), {})
                    adds[kpis.INCIDENTS] = adds.get(kpis.INCIDENTS, 0) + 1
                items.append(self._incident_put(incident, now))
            for (where, day, department), adds in sorted(changes.items()):
                items.append(_counter_update(self.table, where, day, department, adds))
            try:
                self.client.transact_write_items(TransactItems=items)
            except Exception as err:
                reasons = _cancellation_codes(err)
                if reasons is None:
                    raise
                if incident and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    incident_known = True  # another ticket of the incident counted it first
                continue  # the snapshot moved meanwhile (or the incident): read again
            return Applied("applied", len(items))
        raise RuntimeError(f"ticket {ticket_id}: its KPI snapshot kept changing")

    def _state_put(
        self,
        ticket_id: str,
        event_id: str,
        version: int,
        facts: Mapping[str, Any] | None,
        now: datetime,
        before: tuple[int, str, Any] | None,
    ) -> Any:
        item: dict[str, Any] = {
            **_state_key(ticket_id),
            "version": {"N": str(version)},
            "eventId": {"S": event_id},
            "facts": {"S": json.dumps(facts, sort_keys=True)},
            "expiresAt": {"N": str(int((now + KEEP).timestamp()))},
        }
        put: dict[str, Any] = {"TableName": self.table, "Item": item}
        if before is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :seen"
            put["ExpressionAttributeValues"] = {":seen": {"N": str(before[0])}}
        return {"Put": put}

    def _incident_put(self, incident: str, now: datetime) -> Any:
        return {
            "Put": {
                "TableName": self.table,
                "Item": {
                    "pk": {"S": f"incident#{incident}"},
                    "sk": {"S": "seen"},
                    "expiresAt": {"N": str(int((now + KEEP).timestamp()))},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    # -- the report's read --------------------------------------------------------------------

    def read(self, start: date, end: date, where: str, department: str | None = None) -> Read:
        """The counter items of one scope (`kpis.scope`) for the days `start`..`end`: one Query
        per month touched (paged), of one department or all — O(days × departments) small
        items, whatever the number of tickets."""
        items: list[dict[str, Any]] = []
        read = calls = 0
        for month in kpis.months(start, end):
            args: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :m AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {
                    ":m": {"S": _partition(month, where)},
                    ":a": {"S": f"{max(start.isoformat(), month + '-01')}#"},
                    ":b": {"S": f"{min(end.isoformat(), month + '-31')}#\uffff"},
                },
            }
            if department:
                args["FilterExpression"] = "#p = :p"
                args["ExpressionAttributeNames"] = {"#p": "department"}
                args["ExpressionAttributeValues"][":p"] = {"S": department}
            while True:
                page = self.client.query(**args)
                calls += 1
                read += int(page.get("ScannedCount", 0))
                items.extend(_plain(i) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return Read(items, read, calls)

    # -- recovery (infra/rebuild_kpis.py) -----------------------------------------------------

    def keys(self) -> Iterator[dict[str, Any]]:
        """Every item's key: recovery only (a Scan), never on a request path."""
        args: dict[str, Any] = {"TableName": self.table, "ProjectionExpression": "pk, sk"}
        while True:
            page = self.client.scan(**args)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_all(self) -> int:
        n = 0
        batch: list[dict[str, Any]] = []
        for key in self.keys():
            batch.append({"DeleteRequest": {"Key": key}})
            if len(batch) == 25:
                n += self._write(batch)
                batch = []
        if batch:
            n += self._write(batch)
        return n

    def put_all(self, items: list[dict[str, Any]]) -> int:
        n = 0
        for start in range(0, len(items), 25):
            n += self._write([{"PutRequest": {"Item": i}} for i in items[start : start + 25]])
        return n

    def _write(self, requests: list[dict[str, Any]]) -> int:
        pending = {self.table: requests}
        while pending:
            answer = self.client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
        return len(requests)

    @staticmethod
    def counter_item(
        where: str, day: str, department: str, attrs: Mapping[str, int]
    ) -> dict[str, Any]:
        item = {
            **_cell_key(where, day, department),
            "day": {"S": day},
            "department": {"S": department},
        }
        item.update({a: {"N": str(n)} for a, n in attrs.items() if n})
        return item

    def incident_item(self, incident: str, now: datetime) -> dict[str, Any]:
        item: dict[str, Any] = self._incident_put(incident, now)["Put"]["Item"]
        return item

    def state_item(
        self, ticket_id: str, event_id: str, version: int, facts: Any, now: datetime
    ) -> dict[str, Any]:
        put = self._state_put(ticket_id, event_id, version, facts, now, None)
        item: dict[str, Any] = put["Put"]["Item"]
        return item


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.items():
        if "N" in value:
            out[name] = int(value["N"])
        elif "S" in value:
            out[name] = value["S"]
    return out


def _cancellation_codes(err: Exception) -> list[str] | None:
    """The per-item codes of a cancelled transaction, or None for any other error."""
    response = getattr(err, "response", None) or {}
    if response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = response.get("CancellationReasons")
    if reasons is None:  # some endpoints only list them in the message
        message = str(response.get("Error", {}).get("Message", ""))
        inside = message[message.find("[") + 1 : message.rfind("]")]
        return [part.strip() for part in inside.split(",")]
    return [str(r.get("Code", "None")) for r in reasons]
