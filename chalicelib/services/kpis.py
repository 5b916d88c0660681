"""Issue 12 (KPIs): the aggregator of ticket events, and the report that reads its counters.

The aggregator consumes the ticket-events topic through an SQS queue (raw delivery): each
message carries `eventId`, `ticketId`, `version` and `kpi` (the ticket's facts, or null for what
is not a complaint). Each message is applied on its own (decision 0018); the ones that fail are
returned for SQS to redeliver (partial batch response), and a message failing 5 times goes to
the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib import telemetry
from chalicelib.domain import kpis
from chalicelib.domain.auth import require_role
from chalicelib.logs import logger

from .context import Caller, Deps

REPORT_ROLES = ("complaint_manager", "leader")


class BadEvent(ValueError):
    """A message that can never be applied (it still goes to the dead-letter queue, for a
    person to look at, after its retries)."""


def _event(body: str) -> tuple[str, str, int, dict[str, Any] | None] | None:
    """(eventId, ticketId, version, facts) of a ticket event; None for an event without KPI
    facts (published before events carried them): nothing to count."""
    try:
        data = json.loads(body)
    except ValueError:
        raise BadEvent("not JSON") from None
    if not isinstance(data, dict):
        raise BadEvent("not an object")
    if "kpi" not in data and "eventId" not in data:
        return None
    event_id, ticket_id, version = data.get("eventId"), data.get("ticketId"), data.get("version")
    facts = data.get("kpi")
    if not isinstance(event_id, str) or not isinstance(ticket_id, str):
        raise BadEvent("eventId and ticketId must be text")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise BadEvent("version must be a whole number")
    if facts is not None:
        _check_facts(facts)
    return event_id, ticket_id, version, facts


def _check_facts(facts: Any) -> None:
    if not isinstance(facts, dict):
        raise BadEvent("kpi must be an object")
    for key in ("day", "department", "category", "channel"):
        value = facts.get(key)
        if not isinstance(value, str) or not value or any(c in value for c in "|#*"):
            raise BadEvent(f"kpi.{key} must be a code")
    counters = facts.get("counters")
    if not isinstance(counters, dict) or not all(
        k in kpis.COUNTERS and isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**9
        for k, v in counters.items()
    ):
        raise BadEvent("kpi.counters must map known counters to whole numbers")


def aggregate(records: Iterable[tuple[str, str]], deps: Deps) -> list[str]:
    """Apply each (messageId, body) on its own; the ids of those that failed (SQS retries them,
    then sends them to the dead-letter queue). One bad message never stops the others."""
    failed: list[str] = []
    outcomes: dict[str, int] = {}
    for message_id, body in records:
        try:
            event = _event(body)
            if event is None:
                outcome = "skipped"
            else:
                event_id, ticket_id, version, facts = event
                outcome = deps.kpis.apply(event_id, ticket_id, version, facts, deps.clock()).outcome
        except Exception as err:
            logger.warning(
                "a ticket event was not counted",
                extra={"messageId": message_id, "error": type(err).__name__, "detail": str(err)},
            )
            failed.append(message_id)
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    logger.info("ticket events counted", extra=outcomes)
    if failed:
        telemetry.count("KpiEventsFailed", len(failed))
    return failed


# -- the report --------------------------------------------------------------------------------


def query(caller: Caller, params: dict[str, str], deps: Deps) -> Any:
    """The checked query of a report: the role first (403), then the fields (400)."""
    from chalicelib.domain.shapes import parse
    from chalicelib.domain.shapes.reports import KpiQuery

    require_role(caller.principal, REPORT_ROLES)
    return parse(KpiQuery, params, catalog=deps.rules.catalog)


def report(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    """`{from, to, kpis: [...], departments: [{department, kpis}]}` from the counters of the
    period: one Query per month touched, O(days × departments) items."""
    q = query(caller, params, deps)
    return build(q, deps)


def build(q: Any, deps: Deps) -> dict[str, Any]:
    read = deps.kpis.read(q.start, q.end, kpis.scope(q.category, q.channel), q.department)
    by_department: dict[str, list[dict[str, Any]]] = {}
    for item in read.items:
        by_department.setdefault(str(item.get("department")), []).append(item)
    result: dict[str, Any] = {
        "from": q.from_,
        "to": q.to,
        "kpis": kpis.report(kpis.totals(read.items)),
        "departments": [
            {
                "department": dept,
                "kpis": kpis.report(kpis.totals(items)),
            }
            for dept, items in sorted(by_department.items())
        ],
        "itemsRead": read.items_read,
    }
    for key in ("department", "category", "channel"):
        if getattr(q, key) is not None:
            result[key] = getattr(q, key)
    return result


# -- recovery: the counters recomputed from the tickets (infra/rebuild_kpis.py) -----------------


def rebuild(tickets: Iterable[Any], deps: Deps) -> dict[str, int]:
    """Replace every counter and applied snapshot by those of `tickets` (all of them, read by
    pages by the caller): the counters the aggregator would have reached had it seen each
    ticket's last event. Run with the aggregator's event source paused (decision 0018)."""
    now = deps.clock()
    cells: dict[tuple[str, str, str], dict[str, int]] = {}
    states: list[dict[str, Any]] = []
    seen_incidents: set[str] = set()
    count = 0
    for ticket in tickets:
        facts = kpis.facts(ticket)
        event_id = f"{ticket.id}:{ticket.version}"
        states.append(deps.kpis.state_item(ticket.id, event_id, ticket.version, facts, now))
        if facts is None:
            continue
        count += 1
        for cell, adds in kpis.delta(None, facts).items():
            target = cells.setdefault(cell, {})
            for attr, n in adds.items():
                target[attr] = target.get(attr, 0) + n
        incident = facts.get("incidentId")
        if incident and incident not in seen_incidents:
            seen_incidents.add(str(incident))
            for where in kpis.scopes(facts["category"], facts["channel"]):
                counts = cells.setdefault((where, facts["day"], facts["department"]), {})
                counts[kpis.INCIDENTS] = counts.get(kpis.INCIDENTS, 0) + 1
    deleted = deps.kpis.delete_all()
    items = [deps.kpis.counter_item(*cell, attrs) for cell, attrs in cells.items()]
    items += states
    items += [deps.kpis.incident_item(i, now) for i in sorted(seen_incidents)]
    written = deps.kpis.put_all(items)
    return {"complaints": count, "deleted": deleted, "written": written, "cells": len(cells)}
