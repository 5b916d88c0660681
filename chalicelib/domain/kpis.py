"""Service KPIs (seed 004 ch.4 §1; DOMAIN.md §10–11): what one ticket contributes to the counters,
and the manual's formulas over summed counters. Pure: no AWS, no I/O. Intake computes `facts` on every create: what only reports need (csv,
fractions) is imported where it is used.

The period of a report is a cohort: the complaints created in it (Asia/Shanghai days), with what
has happened to them so far. Each ticket contributes a *snapshot* of small integers (`facts`) to
the counters of its creation day × responsible department × category × channel; every event on
the ticket-events topic carries the ticket's current snapshot and version, and the aggregator
applies the difference from the snapshot it applied before (decision 0018).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypedDict

from .calendar import SHANGHAI
from .values import parse_instant

# Counters a ticket contributes (0 or 1 each, except `transfers` and `reply_seconds`).
COUNTERS = (
    "complaints",
    "replied",
    "replied_on_time",
    "reply_seconds",
    "repeats",
    "satisfied",
    "cross_province",
    "cross_province_satisfied",
    "big_customer",
    "big_customer_satisfied",
    "invalid",
    "breaches",
    "escalated_1",
    "escalated_2",
    "escalated_3",
    "escalated_4",
    "transfers",
    "transferred",
    "bulletin_answered",
    "incident_tickets",
)
# Counted by the aggregator, not by one ticket: the first ticket seen of each incident.
INCIDENTS = "incidents"
ALL_COUNTERS = (*COUNTERS, INCIDENTS)
# Revisit answers that count as satisfied (the lifecycle archives both).
SATISFIED = ("satisfied", "basically_satisfied")
# SLA level E: "needs another province" (seed 000 levels; seed 004 3级 跨省协调).
CROSS_PROVINCE_SLA = "E"
CROSS_PROVINCE_SOURCE = "other_province"
UNASSIGNED = "unassigned"
UNCLASSIFIED = "unclassified"
SEPARATOR = "|"
# Counters are also kept rolled up over categories, channels or both (`*`), in items of their
# own: a report reads only the rollup it needs.
ANY = "*"
MAX_DAYS = 366


class Facts(TypedDict):
    """One ticket's contribution: where it is counted and what it adds there."""

    day: str  # its creation day, Asia/Shanghai, YYYY-MM-DD
    department: str
    category: str
    channel: str
    counters: dict[str, int]
    incidentId: str | None


def creation_day(created_at: datetime) -> str:
    return created_at.astimezone(SHANGHAI).date().isoformat()


def responsible_department(ticket: Any) -> str:
    """The department a ticket's figures belong to: the one that resolved it, else the one
    holding it now, else the one its phenomenon routes to."""
    resolved = (ticket.resolution or {}).get("department")
    return str(resolved or ticket.department or ticket.route or UNASSIGNED)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return None
    return None


def facts(ticket: Any) -> Facts | None:
    """What `ticket` contributes now; None for what is not a complaint (suggestions are counted
    elsewhere and not in these KPIs)."""
    if ticket.kind != "complaint":
        return None
    c: dict[str, int] = {"complaints": 1}
    reply = ticket.reply or {}
    replied_at = _instant(reply.get("at"))
    if replied_at is not None:
        c["replied"] = 1
        c["reply_seconds"] = max(0, int((replied_at - ticket.created_at).total_seconds()))
        limit = ticket.due_at
        if ticket.final_due_at is not None and "reply" not in ticket.overdue_duties:
            limit = max(limit, ticket.final_due_at) if limit else ticket.final_due_at
        if limit is None or replied_at <= limit:
            c["replied_on_time"] = 1
    satisfied = (ticket.revisit or {}).get("satisfaction") in SATISFIED
    if satisfied:
        c["satisfied"] = 1
    if ticket.repeat:
        c["repeats"] = 1
    if ticket.sla_level == CROSS_PROVINCE_SLA or ticket.source == CROSS_PROVINCE_SOURCE:
        c["cross_province"] = 1
        if satisfied:
            c["cross_province_satisfied"] = 1
    if ticket.complainant.type == "big_customer":
        c["big_customer"] = 1
        if satisfied:
            c["big_customer_satisfied"] = 1
    if ticket.review is not None and ticket.review.get("valid") is False:
        c["invalid"] = 1
    if ticket.breached:
        c["breaches"] = 1
    level = min(int(ticket.escalation_level or 0), 4)
    if level > 0:
        c[f"escalated_{level}"] = 1
    if ticket.transfers:
        c["transfers"] = int(ticket.transfers)
        c["transferred"] = 1
    if ticket.bulletin_id:
        c["bulletin_answered"] = 1
    incident = getattr(ticket, "incident_id", None)  # set by the incidents part, when present
    if incident:
        c["incident_tickets"] = 1
    return {
        "day": creation_day(ticket.created_at),
        "department": responsible_department(ticket),
        "category": ticket.category or UNCLASSIFIED,
        "channel": ticket.channel,
        "counters": c,
        "incidentId": str(incident) if incident else None,
    }


def scope(category: str | None = None, channel: str | None = None) -> str:
    """A counter partition: one category (or all, `*`) × one channel (or all)."""
    return f"{category or ANY}{SEPARATOR}{channel or ANY}"


# (scope, day, department): one counter item
CellKey = tuple[str, str, str]


def scopes(category: str, channel: str) -> tuple[str, ...]:
    """Where one complaint of `category` × `channel` counts: its own cell and the rollups over
    categories, channels and both — each a small item of its own, so that a write pays for a
    small item and a report reads only the rollup it asks for."""
    return (
        scope(category, channel),
        scope(category, None),
        scope(None, channel),
        scope(None, None),
    )


def delta(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> dict[CellKey, dict[str, int]]:
    """The ADDs that replace `old`'s contribution by `new`'s, per counter item; no zeros."""
    out: dict[CellKey, dict[str, int]] = {}

    def add(f: Mapping[str, Any] | None, sign: int) -> None:
        if not f:
            return
        day, department = str(f["day"]), str(f["department"])
        for where in scopes(str(f["category"]), str(f["channel"])):
            cell = out.setdefault((where, day, department), {})
            for counter, n in (f.get("counters") or {}).items():
                cell[str(counter)] = cell.get(str(counter), 0) + sign * int(n)

    add(old, -1)
    add(new, +1)
    return {k: nz for k, v in out.items() if (nz := {a: n for a, n in v.items() if n})}


def new_incident(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    """The incident `new` links the ticket to, when `old` did not."""
    incident = (new or {}).get("incidentId")
    if incident and incident != (old or {}).get("incidentId"):
        return str(incident)
    return None


# -- summing counter items ---------------------------------------------------------------------


def totals(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Sum the counters of counter items (of one scope)."""
    out = dict.fromkeys(ALL_COUNTERS, 0)
    for item in items:
        for counter in ALL_COUNTERS:
            value = item.get(counter)
            if isinstance(value, int) and not isinstance(value, bool):
                out[counter] += value
    return out


# -- the formulas ------------------------------------------------------------------------------

Direction = Literal["at_least", "at_most"]
Unit = Literal["fraction", "per_ticket", "seconds", "count"]


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str
    numerator: str | tuple[str, ...]  # counter(s) summed
    denominator: str | tuple[str, ...] | None  # None: a count, no ratio
    target: str | None = None  # a decimal, as the manual states it
    direction: Direction = "at_least"
    unit: Unit = "fraction"
    minus: str | None = None  # subtracted from the denominator (repeat rate)


KPIS: tuple[Kpi, ...] = (
    Kpi("reply_rate", "Complaint reply rate", "replied", "complaints", "1"),
    Kpi("on_time_reply_rate", "On-time reply rate", "replied_on_time", "complaints", "1"),
    Kpi(
        "repeat_rate",
        "Repeat-complaint rate",
        "repeats",
        "complaints",
        "0.01",
        "at_most",
        minus="repeats",
    ),
    Kpi("satisfaction", "Complaint satisfaction", "satisfied", "complaints", "0.90"),
    Kpi(
        "cross_province_satisfaction",
        "Cross-province complaint satisfaction",
        "cross_province_satisfied",
        "cross_province",
        "0.85",
    ),
    Kpi(
        "big_customer_satisfaction",
        "Big-customer complaint satisfaction",
        "big_customer_satisfied",
        "big_customer",
        "0.95",
    ),
    Kpi("invalid_ticket_ratio", "Invalid-ticket ratio", "invalid", "complaints", "0.03", "at_most"),
    Kpi("breaches", "Complaints past their time limit", "breaches", "complaints"),
    Kpi(
        "escalations",
        "Escalated complaints (any level)",
        ("escalated_1", "escalated_2", "escalated_3", "escalated_4"),
        "complaints",
    ),
    Kpi(
        "escalations_level_1",
        "Escalated to level 1 (department admin)",
        "escalated_1",
        "complaints",
    ),
    Kpi("escalations_level_2", "Escalated to level 2 (CRC manager)", "escalated_2", "complaints"),
    Kpi("escalations_level_3", "Escalated to level 3 (leader)", "escalated_3", "complaints"),
    Kpi(
        "escalations_level_4", "Escalated to level 4 (vice-president)", "escalated_4", "complaints"
    ),
    Kpi(
        "ticket_transfer_rate",
        "Tickets transferred (转派) at least once — a ticket analogue, not the call-centre "
        "transfer rate",
        "transferred",
        "complaints",
    ),
    Kpi(
        "transfers_per_ticket",
        "Transfers per complaint",
        "transfers",
        "complaints",
        unit="per_ticket",
    ),
    Kpi(
        "mean_time_to_reply",
        "Mean time from intake to reply (seconds)",
        "reply_seconds",
        "replied",
        unit="seconds",
    ),
    Kpi(
        "bulletin_answered",
        "Complaints answered from a bulletin",
        "bulletin_answered",
        "complaints",
    ),
    Kpi(
        "tickets_per_incident",
        "Complaints per mass-complaint incident",
        "incident_tickets",
        INCIDENTS,
        unit="per_ticket",
    ),
)
CHARTED = (
    "reply_rate",
    "on_time_reply_rate",
    "satisfaction",
    "cross_province_satisfaction",
    "big_customer_satisfaction",
    "repeat_rate",
    "invalid_ticket_ratio",
)


def _sum(counters: Mapping[str, int], names: str | tuple[str, ...]) -> int:
    keys = (names,) if isinstance(names, str) else names
    return sum(int(counters.get(k, 0)) for k in keys)


def met(numerator: int, denominator: int, target: str | None, direction: Direction) -> bool | None:
    """Whether the value meets its target, computed exactly (no float rounding); None when there
    is no target or no value (an empty period)."""
    if target is None or denominator <= 0:
        return None
    from fractions import Fraction  # here: intake computes facts, never this

    value = Fraction(numerator, denominator)
    goal = Fraction(target)
    return value >= goal if direction == "at_least" else value <= goal


def evaluate(kpi: Kpi, counters: Mapping[str, int]) -> dict[str, Any]:
    from fractions import Fraction

    numerator = _sum(counters, kpi.numerator)
    denominator = _sum(counters, kpi.denominator) if kpi.denominator else 0
    if kpi.minus:
        denominator -= _sum(counters, kpi.minus)
    value = round(numerator / denominator, 6) if denominator > 0 else None
    return {
        "code": kpi.code,
        "name": kpi.name,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "target": float(Fraction(kpi.target)) if kpi.target is not None else None,
        "direction": kpi.direction if kpi.target is not None else None,
        "met": met(numerator, denominator, kpi.target, kpi.direction),
        "unit": kpi.unit,
    }


def report(counters: Mapping[str, int]) -> list[dict[str, Any]]:
    return [evaluate(k, counters) for k in KPIS]


# -- periods -----------------------------------------------------------------------------------


def days(start: date, end: date) -> list[str]:
    return [date.fromordinal(n).isoformat() for n in range(start.toordinal(), end.toordinal() + 1)]


def months(start: date, end: date) -> list[str]:
    """The `YYYY-MM` partitions a period touches."""
    out: list[str] = []
    for day in days(start, end):
        if not out or out[-1] != day[:7]:
            out.append(day[:7])
    return out


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "from",
    "to",
    "department",
    "code",
    "name",
    "numerator",
    "denominator",
    "value",
    "target",
    "met",
    "unit",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # a spreadsheet must not take a cell for a formula (CSV injection)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(result: Mapping[str, Any]) -> str:
    """The report as CSV: one row per KPI (and per department when the report has them)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    scope = result.get("department") or ""
    rows: list[tuple[str, Mapping[str, Any]]] = [(scope, k) for k in result["kpis"]]
    for dept in result.get("departments") or []:
        rows += [(dept["department"], k) for k in dept["kpis"]]
    for department, k in rows:
        values = {"from": result["from"], "to": result["to"], "department": department, **k}
        writer.writerow([_cell(values.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue()
