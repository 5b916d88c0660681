"""What intake reads about a customer in one call, and the writes that keep it true.

One `BatchGetItem` reads, at once: the customer profile (an item of the tickets table keyed
`customer#<service number>`, holding a short summary of the customer's recent complaints, one
attribute `t_<ticket id>` per complaint), the customer's blacklist entry (the blacklist table
stays the one source of the flag: nothing to keep in step), and for a suggestion the two
suggestion-index items (`suggestion#text#<hash>`, `suggestion#area#<phenomenon>#<hash>`).

The writes are transaction items the create transaction carries (adapters/tickets_repo.py): the
profile's new entry and pruned ones, conditional on the profile's `ver` as read (two intakes for
one customer at once: the second re-reads), the suggestion-index items, and the first
suggestion's `count`. `save_change` carries `entry_update` whenever a complaint's summarised
fields change, so the summary follows status, satisfaction and deadline in the same write.

None of these items carries the attributes of the tickets table's indexes (`createdAt`,
`serviceNumber`, `month`, `dueKey` …): they never appear in a list, a report or the sweep, and
their ids (with `#`) are refused by `GET /tickets/{id}` as not plausible (404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import config
from chalicelib.domain.repeats import Entry, SuggestionSeen, recorded_satisfaction
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import parse_storage_time, storage_time
from chalicelib.logs import logger

from .query import connection

ENTRY_PREFIX = "t_"
MAX_UNPROCESSED_RETRIES = 3


def profile_id(service_number: str) -> str:
    return f"customer#{service_number}"


def suggestion_text_id(key: str) -> str:
    return f"suggestion#text#{key}"


def suggestion_area_id(key: str) -> str:
    return f"suggestion#area#{key}"


class IntakeRaced(Exception):
    """The profile or a suggestion index changed since intake read it: read and assess again."""


@dataclass(frozen=True)
class IntakeView:
    """What one BatchGetItem told intake."""

    blacklisted: bool
    entries: list[Entry]
    profile_version: int | None  # None: no profile (or one without `ver`) yet
    profile_exists: bool
    suggestions: dict[str, SuggestionSeen | None] = field(default_factory=dict)
    # issue 11 (incidents): the mass-complaint counter items read with the profile, raw, by id
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)


def entry_of(ticket: Ticket) -> Entry:
    closed_at: datetime | None = None
    if ticket.closed:
        closing: dict[str, Any] = dict(ticket.closing or {})
        at = closing.get("at")
        closed_at = datetime.fromisoformat(at) if isinstance(at, str) else ticket.updated_at
    return Entry(
        id=ticket.id,
        phenomenon=ticket.phenomenon,
        category=ticket.category,
        created_at=ticket.created_at,
        status=ticket.status,
        due_at=ticket.due_at,
        closed_at=closed_at,
        recorded=recorded_satisfaction(
            dict(ticket.revisit) if ticket.revisit else None, ticket.rounds
        ),
        repeat=ticket.repeat_of is not None,
    )


def _entry_value(entry: Entry) -> dict[str, Any]:
    return {"S": json.dumps(entry.to_json(), separators=(",", ":"), ensure_ascii=False)}


class ProfileRepository:
    def read(
        self,
        service_number: str,
        suggestion_ids: tuple[str, ...] = (),
        extra_ids: tuple[str, ...] = (),
    ) -> IntakeView:
        """The profile, the blacklist entry and the suggestion-index items: one BatchGetItem
        (a retry only for keys DynamoDB leaves unprocessed under throttling). `extra_ids`:
        more items of the tickets table read in the same call (issue 11: the mass-complaint
        counters, adapters/incidents_repo.py), returned raw in `extras`."""
        client: Any = connection().client
        tickets, blacklist = config.tickets_table(), config.blacklist_table()
        keys = [{"id": {"S": profile_id(service_number)}}]
        keys += [{"id": {"S": sid}} for sid in suggestion_ids]
        keys += [{"id": {"S": eid}} for eid in extra_ids]
        request: dict[str, Any] = {
            tickets: {"Keys": keys, "ConsistentRead": True},
            blacklist: {
                "Keys": [{"serviceNumber": {"S": service_number}}],
                "ConsistentRead": True,
                "ProjectionExpression": "serviceNumber",
            },
        }
        found: dict[str, list[dict[str, Any]]] = {tickets: [], blacklist: []}
        for _ in range(1 + MAX_UNPROCESSED_RETRIES):
            answer = client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError("the intake read kept coming back unprocessed")
        by_id = {item["id"]["S"]: item for item in found[tickets]}
        profile = by_id.get(profile_id(service_number))
        entries: list[Entry] = []
        version: int | None = None
        if profile is not None:
            if "ver" in profile:
                version = int(profile["ver"]["N"])
            for name, value in profile.items():
                if not name.startswith(ENTRY_PREFIX):
                    continue
                try:
                    entries.append(Entry.from_json(json.loads(value["S"])))
                except (KeyError, TypeError, ValueError):
                    logger.warning("a profile entry does not decode; it is left out")
        suggestions: dict[str, SuggestionSeen | None] = {}
        for sid in suggestion_ids:
            item = by_id.get(sid)
            suggestions[sid] = (
                SuggestionSeen(item["first"]["S"], parse_storage_time(item["at"]["S"]))
                if item is not None and "first" in item and "at" in item
                else None
            )
        return IntakeView(
            blacklisted=bool(found[blacklist]),
            entries=entries,
            profile_version=version,
            profile_exists=profile is not None,
            suggestions=suggestions,
            extras={eid: by_id[eid] for eid in extra_ids if eid in by_id},
        )

    # -- transaction items ---------------------------------------------------------------

    def profile_update(
        self, service_number: str, view: IntakeView, new: Entry, drop: list[str]
    ) -> dict[str, Any]:
        """Add the new complaint's entry, drop pruned ones, bump `ver` — only if the profile is
        still as read."""
        names = {"#e": ENTRY_PREFIX + new.id}
        removes = []
        for i, ticket_id in enumerate(drop):
            names[f"#d{i}"] = ENTRY_PREFIX + ticket_id
            removes.append(f"#d{i}")
        expression = "SET #e = :e, ver = if_not_exists(ver, :zero) + :one"
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        values: dict[str, Any] = {":e": _entry_value(new), ":zero": {"N": "0"}, ":one": {"N": "1"}}
        if view.profile_version is not None:
            condition = "ver = :v"
            values[":v"] = {"N": str(view.profile_version)}
        else:
            condition = "attribute_not_exists(ver)"
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": profile_id(service_number)}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def entry_update(self, ticket: Ticket) -> dict[str, Any]:
        """Keep a complaint's entry true after a change (no condition: the entry is the
        ticket's own, written in the ticket's own conditional transaction)."""
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": profile_id(ticket.service_number)}},
            "UpdateExpression": "SET #e = :e",
            "ExpressionAttributeNames": {"#e": ENTRY_PREFIX + ticket.id},
            "ExpressionAttributeValues": {":e": _entry_value(entry_of(ticket))},
        }

    def suggestion_index_put(
        self, sid: str, first: str, at: datetime, seen: SuggestionSeen | None
    ) -> dict[str, Any]:
        """Point a suggestion index at `first` — only if it still says what intake read."""
        put: dict[str, Any] = {
            "TableName": config.tickets_table(),
            "Item": {
                "id": {"S": sid},
                "first": {"S": first},
                "at": {"S": storage_time(at)},
            },
        }
        if seen is None:
            put["ConditionExpression"] = "attribute_not_exists(id)"
        else:
            put["ConditionExpression"] = "#f = :f"
            put["ExpressionAttributeNames"] = {"#f": "first"}
            put["ExpressionAttributeValues"] = {":f": {"S": seen.first}}
        return put

    def count_update(self, first: str, now: datetime) -> dict[str, Any]:
        """The first suggestion counts one more (its version moves: a writer holding the
        previous version re-reads)."""
        return {
            "TableName": config.tickets_table(),
            "Key": {"id": {"S": first}},
            "UpdateExpression": "ADD #c :one, version :one SET updatedAt = :at",
            "ConditionExpression": "attribute_exists(id)",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":at": {"S": storage_time(now)}},
        }
