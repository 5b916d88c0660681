"""Mass-complaint counters, pointers and incidents: items of the tickets table.

- `mass#<key>#b<bucket>`: complaints of one (interface, phenomenon) in one 5-minute bucket —
  `n` (count), `ids` (ticket ids, capped), `expiresAt` (TTL: gone a day after the window).
- `mass#<key>#pointer`: `gen` (incidents opened so far) and `incidentId` (the open one).
- `incident#<incident id>`: the incident — interface, phenomenon, route, `status`
  (open | resolving | resolved), `ticketIds` (string set), `ticketCount`, `timeline`, the
  resolution asked for and its run number; `incidentKey` + `openedAt` place it on the
  `incident-index` (GET /incidents, newest first).

Intake reads the window's counters and the pointer in the BatchGetItem it already makes
(adapters/profile_repo.py) and writes them in the create transaction (decision 0017). None of
these items carries the attributes of the ticket indexes, and their ids (with `#`) are refused
by `GET /tickets/{id}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import config
from chalicelib.domain.incidents import Bucket, MassComplaintPolicy, Pointer
from chalicelib.domain.values import iso, parse_storage_time, storage_time

from . import aws

INCIDENT_KEY = "incident"
INDEX = "incident-index"
COUNTER_KEEP = timedelta(days=1)


def bucket_item_id(key: str, index: int) -> str:
    return f"mass#{key}#b{index}"


def pointer_item_id(key: str) -> str:
    return f"mass#{key}#pointer"


def incident_item_id(incident_id: str) -> str:
    return f"incident#{incident_id}"


def parse_bucket(index: int, item: dict[str, Any] | None) -> Bucket | None:
    if item is None:
        return None
    count = int(item.get("n", {}).get("N", "0"))
    ids = frozenset(item.get("ids", {}).get("SS", []))
    return Bucket(index, count, ids)


def parse_pointer(item: dict[str, Any] | None) -> Pointer:
    if item is None:
        return Pointer()
    generation = int(item.get("gen", {}).get("N", "0"))
    open_id = item.get("incidentId", {}).get("S")
    since = item.get("countFrom", {}).get("S")
    return Pointer(generation, open_id, parse_storage_time(since) if since else None)


@dataclass(frozen=True)
class Incident:
    id: str
    status: str
    channel: str
    area: str | None
    phenomenon: str
    category: str | None
    route: str | None
    opened_at: datetime
    generation: int
    ticket_ids: tuple[str, ...]
    ticket_count: int
    escalation_level: int = 0
    taken_up_at: datetime | None = None
    resolution: dict[str, Any] | None = None
    run: int = 0
    resolved_at: datetime | None = None
    counter_key: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "interface": {"channel": self.channel, **({"area": self.area} if self.area else {})},
            "phenomenon": self.phenomenon,
            "category": self.category,
            "department": self.route,
            "openedAt": iso(self.opened_at),
            "ticketCount": self.ticket_count,
            "escalationLevel": self.escalation_level,
            "priority": "urgent",
            "emergency": True,
        }
        if self.resolution is not None:
            out["resolution"] = self.resolution
        if self.resolved_at is not None:
            out["resolvedAt"] = iso(self.resolved_at)
        out["links"] = {"self": f"/incidents/{self.id}"}
        return out


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return value if isinstance(value, str) else None


def _n(item: dict[str, Any], name: str, default: int = 0) -> int:
    value = item.get(name, {}).get("N")
    return int(value) if isinstance(value, str) else default


def _json(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON (maps, lists, strings, numbers, booleans)."""
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = float(value["N"])
        return int(number) if number.is_integer() else number
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    if "M" in value:
        return {k: _json(v) for k, v in value["M"].items()}
    if "L" in value:
        return [_json(v) for v in value["L"]]
    if "SS" in value:
        return sorted(value["SS"])
    return None


def _attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: _attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attr(v) for v in value]}
    return {"S": str(value)}


def parse_incident(item: dict[str, Any]) -> Incident:
    opened = _s(item, "openedAt") or "2000-01-01T00:00:00.000000Z"
    taken = _s(item, "takenUpAt")
    resolved = _s(item, "resolvedAt")
    resolution = item.get("resolution")
    timeline = item.get("timeline")
    return Incident(
        id=_s(item, "incidentId") or "",
        status=_s(item, "status") or "open",
        channel=_s(item, "channel") or "",
        area=_s(item, "area"),
        phenomenon=_s(item, "phenomenon") or "",
        category=_s(item, "category"),
        route=_s(item, "route"),
        opened_at=parse_storage_time(opened),
        generation=_n(item, "generation"),
        ticket_ids=tuple(sorted(item.get("ticketIds", {}).get("SS", []))),
        ticket_count=_n(item, "ticketCount"),
        escalation_level=_n(item, "escalationLevel"),
        taken_up_at=parse_storage_time(taken) if taken else None,
        resolution=_json(resolution) if resolution else None,
        run=_n(item, "run"),
        resolved_at=parse_storage_time(resolved) if resolved else None,
        counter_key=_s(item, "counterKey") or "",
        timeline=_json(timeline) if timeline else [],
    )


@dataclass(frozen=True)
class Opening:
    """What intake knows of a new incident."""

    incident_id: str
    counter_key: str
    generation: int  # the pointer's generation as read; the incident is generation + 1
    channel: str
    area: str | None
    phenomenon: str
    category: str | None
    route: str | None
    ticket_ids: tuple[str, ...]  # the window's earlier tickets and the opening one


class IncidentRepository:
    """Transaction items for intake, and the incident's own reads and writes."""

    def __init__(self, policy: MassComplaintPolicy | None = None) -> None:
        self.policy = policy or MassComplaintPolicy()

    # -- intake: items of the create transaction ------------------------------------------

    def bucket_update(
        self,
        key: str,
        index: int,
        ticket_id: str,
        *,
        keep_id: bool,
        cap: int | None,
        expires: datetime,
    ) -> dict[str, Any]:
        """Count one more in the bucket (and keep the id); with `cap`, only while the count
        read still holds at the threshold (else intake reads again)."""
        expression = "ADD n :one" + (", ids :ids" if keep_id else "")
        expression += " SET expiresAt = if_not_exists(expiresAt, :exp)"
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":exp": {"N": str(int((expires + COUNTER_KEEP).timestamp()))},
        }
        if keep_id:
            values[":ids"] = {"SS": [ticket_id]}
        item: dict[str, Any] = {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": bucket_item_id(key, index)}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if cap is not None:
            item["ConditionExpression"] = "attribute_not_exists(n) OR n <= :cap"
            values[":cap"] = {"N": str(cap)}
        return item

    def pointer_open(self, opening: Opening, now: datetime) -> dict[str, Any]:
        """Point (interface, phenomenon) at the new incident — only if no other intake opened
        one since the pointer was read (its generation)."""
        values: dict[str, Any] = {
            ":g": {"N": str(opening.generation + 1)},
            ":i": {"S": opening.incident_id},
            ":at": {"S": storage_time(now)},
        }
        if opening.generation:
            condition = "gen = :read"
            values[":read"] = {"N": str(opening.generation)}
        else:
            condition = "attribute_not_exists(gen)"
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": pointer_item_id(opening.counter_key)}},
            "UpdateExpression": "SET gen = :g, incidentId = :i, openedAt = :at",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }

    def incident_open(self, opening: Opening, now: datetime) -> dict[str, Any]:
        """The incident, created (an upsert: its id is deterministic, and only the intake that
        moved the pointer writes it)."""
        at = storage_time(now)
        values: dict[str, Any] = {
            ":ik": {"S": INCIDENT_KEY},
            ":id": {"S": opening.incident_id},
            ":at": {"S": at},
            ":open": {"S": "open"},
            ":ch": {"S": opening.channel},
            ":ph": {"S": opening.phenomenon},
            ":gen": {"N": str(opening.generation + 1)},
            ":key": {"S": opening.counter_key},
            ":ids": {"SS": list(opening.ticket_ids)},
            ":k": {"N": str(len(opening.ticket_ids))},
            ":tl": _attr([{"at": at, "event": "opened", "count": len(opening.ticket_ids)}]),
        }
        sets = [
            "incidentKey = if_not_exists(incidentKey, :ik)",
            "incidentId = if_not_exists(incidentId, :id)",
            "openedAt = if_not_exists(openedAt, :at)",
            "#s = if_not_exists(#s, :open)",
            "channel = if_not_exists(channel, :ch)",
            "phenomenon = if_not_exists(phenomenon, :ph)",
            "generation = if_not_exists(generation, :gen)",
            "counterKey = if_not_exists(counterKey, :key)",
            "timeline = if_not_exists(timeline, :tl)",
            "lastAt = :at",
        ]
        for name, value in (
            ("area", opening.area),
            ("category", opening.category),
            ("route", opening.route),
        ):
            if value is not None:
                values[f":{name}"] = {"S": value}
                sets.append(f"{name} = if_not_exists({name}, :{name})")
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": incident_item_id(opening.incident_id)}},
            "UpdateExpression": "SET " + ", ".join(sets) + " ADD ticketIds :ids, ticketCount :k",
            "ConditionExpression": "attribute_not_exists(id) OR #s = :open",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values,
        }

    def incident_join(self, incident_id: str, ticket_id: str, now: datetime) -> dict[str, Any]:
        """One more ticket on the open incident (a resolving or resolved one takes no more:
        intake reads again and counts afresh)."""
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": incident_item_id(incident_id)}},
            "UpdateExpression": "ADD ticketIds :ids, ticketCount :one SET lastAt = :at",
            "ConditionExpression": "#s = :open",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":ids": {"SS": [ticket_id]},
                ":one": {"N": "1"},
                ":at": {"S": storage_time(now)},
                ":open": {"S": "open"},
            },
        }

    # -- the incident -----------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident | None:
        r = aws.dynamodb().get_item(
            TableName=config.tickets_table(),
            Key={"id": {"S": incident_item_id(incident_id)}},
            ConsistentRead=True,
        )
        item = r.get("Item")
        return parse_incident(item) if item else None

    def page(
        self, limit: int, cursor: dict[str, Any] | None, route: str | None = None
    ) -> tuple[list[Incident], dict[str, Any] | None]:
        """Newest first from the incident-index; `route`: only that department's."""
        args: dict[str, Any] = {
            "TableName": config.tickets_table(),
            "IndexName": INDEX,
            "KeyConditionExpression": "incidentKey = :k",
            "ExpressionAttributeValues": {":k": {"S": INCIDENT_KEY}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if route is not None:
            args["FilterExpression"] = "route = :r"
            args["ExpressionAttributeValues"][":r"] = {"S": route}
        if cursor:
            args["ExclusiveStartKey"] = cursor
        r = aws.dynamodb().query(**args)
        return [parse_incident(i) for i in r.get("Items", [])], r.get("LastEvaluatedKey")

    def note(self, incident_id: str, event: dict[str, Any], **sets: Any) -> None:
        """Append to the incident's timeline and set plain attributes."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":e": _attr([event]), ":empty": {"L": []}}
        parts = ["timeline = list_append(if_not_exists(timeline, :empty), :e)"]
        for i, (name, value) in enumerate(sets.items()):
            names[f"#a{i}"] = name
            values[f":v{i}"] = _attr(value)
            parts.append(f"#a{i} = :v{i}")
        args: dict[str, Any] = {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": incident_item_id(incident_id)}},
            "UpdateExpression": "SET " + ", ".join(parts),
            "ConditionExpression": "attribute_exists(id)",
            "ExpressionAttributeValues": values,
        }
        if names:
            args["ExpressionAttributeNames"] = names
        aws.dynamodb().update_item(**args)

    def take_up(self, incident_id: str, level: int, now: datetime) -> bool:
        """Mark the incident taken up (escalated to `level`), once: False when it was already."""
        at = storage_time(now)
        try:
            aws.dynamodb().update_item(
                TableName=config.tickets_table(),
                Key={"id": {"S": incident_item_id(incident_id)}},
                UpdateExpression="SET takenUpAt = :at, escalationLevel = :l, "
                "timeline = list_append(if_not_exists(timeline, :empty), :e)",
                ConditionExpression="attribute_exists(id) AND attribute_not_exists(takenUpAt)",
                ExpressionAttributeValues={
                    ":at": {"S": at},
                    ":l": {"N": str(level)},
                    ":empty": {"L": []},
                    ":e": _attr([{"at": at, "event": "escalated", "level": level}]),
                },
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        return True

    def begin_resolution(
        self, incident: Incident, resolution: dict[str, Any], now: datetime
    ) -> int | None:
        """Record the resolution asked for and take the next run number, if the incident is
        still as read (not resolved, same run); None when another request got there first.
        Then the pointer stops naming it: later complaints count afresh."""
        run = incident.run + 1
        at = storage_time(now)
        values: dict[str, Any] = {
            ":resolving": {"S": "resolving"},
            ":r": _attr(resolution),
            ":run": {"N": str(run)},
            ":empty": {"L": []},
            ":e": _attr([{"at": at, "event": "resolution_started", "run": run}]),
            ":resolved": {"S": "resolved"},
        }
        if incident.run:
            condition = "#s <> :resolved AND run = :read"
            values[":read"] = {"N": str(incident.run)}
        else:
            condition = "#s <> :resolved AND attribute_not_exists(run)"
        try:
            aws.dynamodb().update_item(
                TableName=config.tickets_table(),
                Key={"id": {"S": incident_item_id(incident.id)}},
                UpdateExpression="SET #s = :resolving, resolution = :r, run = :run, "
                "timeline = list_append(if_not_exists(timeline, :empty), :e)",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return None
        try:  # the pointer may name a newer incident by now: then it is left alone
            aws.dynamodb().update_item(
                TableName=config.tickets_table(),
                Key={"id": {"S": pointer_item_id(incident.counter_key)}},
                UpdateExpression="REMOVE incidentId SET countFrom = :at",
                ConditionExpression="incidentId = :i",
                ExpressionAttributeValues={":i": {"S": incident.id}, ":at": {"S": at}},
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            pass
        return run

    def finish(self, incident_id: str, run: int, summary: dict[str, Any], now: datetime) -> bool:
        at = storage_time(now)
        try:
            aws.dynamodb().update_item(
                TableName=config.tickets_table(),
                Key={"id": {"S": incident_item_id(incident_id)}},
                UpdateExpression="SET #s = :resolved, resolvedAt = :at, "
                "timeline = list_append(if_not_exists(timeline, :empty), :e)",
                ConditionExpression="run = :run AND #s = :resolving",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":resolved": {"S": "resolved"},
                    ":resolving": {"S": "resolving"},
                    ":at": {"S": at},
                    ":run": {"N": str(run)},
                    ":empty": {"L": []},
                    ":e": _attr([{"at": at, "event": "resolved", "run": run, **summary}]),
                },
            )
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        return True

    def ticket_facets(self, ticket_ids: list[str]) -> list[dict[str, Any]]:
        """A few attributes of many tickets (BatchGetItem, 100 keys a call): what the incident's
        counts and summaries need."""
        out: list[dict[str, Any]] = []
        table = config.tickets_table()
        client = aws.dynamodb()
        for start in range(0, len(ticket_ids), 100):
            keys = [{"id": {"S": t}} for t in ticket_ids[start : start + 100]]
            request: dict[str, Any] = {
                table: {
                    "Keys": keys,
                    "ProjectionExpression": "id, channel, #l, #s, createdAt, incidentId, "
                    "priority, step, serviceNumber, category, phenomenon",
                    "ExpressionAttributeNames": {"#l": "location", "#s": "status"},
                }
            }
            while request:
                r = client.batch_get_item(RequestItems=request)
                out.extend(r.get("Responses", {}).get(table, []))
                request = r.get("UnprocessedKeys") or {}
        return out


def incident_item_ids(key: str, indexes: tuple[int, ...]) -> tuple[str, ...]:
    """What intake reads for (interface, phenomenon): the window's buckets and the pointer."""
    return (*(bucket_item_id(key, i) for i in indexes), pointer_item_id(key))
