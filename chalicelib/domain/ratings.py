"""Seniors rate juniors (seed 002 高级座席 二: 对其他话务员转来投诉和派单/追单/退单对其业务能力进行考评，
若是其业务范围内转接或失误给予统计). Pure: who is blamed for a mistake, what a mis-transfer is, and
the per-agent counters a report reads.

- A senior's `review` may list `mistakes: [{kind, of, note?}]`. The agent blamed is never named
  by the client: `of: intake` blames the ticket's intake agent (`createdBy`), `of: dispatch` its
  last dispatcher (`dispatchedBy`; for an appeal under verification, the original ticket's).
- A *mis-transfer* is counted for the dispatcher when the department a dispatch named hands the
  ticket off before resolving it: it returns it (退单, "not ours") or it is transferred away from
  that department (转派). Counted once per dispatch: the ticket remembers the department the last
  dispatch named (`dispatched_to`) until that department resolves it or hands it off.
- Counters: one item per day (Asia/Shanghai) × agent, each count a number attribute raised with
  `ADD` in the same transaction as the ticket's change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .tickets import Ticket
from .values import LOCAL_ZONE

MISTAKE_KINDS = ("wrong_category", "missing_information", "wrong_department")
MISTAKE_STAGES = ("intake", "dispatch")
MISTRANSFERS = "misTransfers"
MAX_MISTAKES = len(MISTAKE_KINDS) * len(MISTAKE_STAGES)
# Who reads the per-agent report: the CRC's managers and seniors (the desk is one team: the
# identity model has no teams) and leaders.
REPORT_ROLES = ("complaint_manager", "senior_agent", "leader")
MAX_REPORT_DAYS = 366
HANDOFF_ACTIONS = ("return", "transfer")


@dataclass(frozen=True)
class Blame:
    agent: str
    kind: str
    of: str
    note: str | None = None

    def to_api(self) -> dict[str, Any]:
        out = {"agent": self.agent, "kind": self.kind, "of": self.of}
        return {**out, "note": self.note} if self.note else out


def counter(of: str, kind: str) -> str:
    """The counter attribute of a mistake: `m_<of>_<kind>`."""
    return f"m_{of}_{kind}"


COUNTERS = (*(counter(o, k) for o in MISTAKE_STAGES for k in MISTAKE_KINDS), MISTRANSFERS)


def mistransferred(action: str, ticket: Ticket) -> str | None:
    """The dispatcher a `return` or `transfer` of `ticket` counts a mis-transfer for, if any."""
    if action not in HANDOFF_ACTIONS or not ticket.dispatched_by or not ticket.dispatched_to:
        return None
    return ticket.dispatched_by if ticket.department == ticket.dispatched_to else None


def dispatch_memory(action: str, after: Ticket) -> dict[str, Any]:
    """The change to `dispatched_to` an action makes: a dispatch names it; the department
    keeping the ticket (resolve) or handing it off (return, transfer) ends it."""
    if action == "dispatch":
        return {"dispatched_to": after.department}
    if action in (*HANDOFF_ACTIONS, "resolve"):
        return {"dispatched_to": None}
    return {}


def increments(blames: Iterable[Blame], mistransfer_of: str | None) -> dict[str, dict[str, int]]:
    """agent → counter → how much to add (one counter item per agent and day: a transaction may
    touch an item once)."""
    out: dict[str, dict[str, int]] = {}
    for b in blames:
        row = out.setdefault(b.agent, {})
        name = counter(b.of, b.kind)
        row[name] = row.get(name, 0) + 1
    if mistransfer_of:
        row = out.setdefault(mistransfer_of, {})
        row[MISTRANSFERS] = row.get(MISTRANSFERS, 0) + 1
    return out


def local_day(at: datetime) -> str:
    return at.astimezone(LOCAL_ZONE).date().isoformat()


def months(start: date, end: date) -> list[str]:
    """The months (`YYYY-MM`) a date range touches, in order."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def report(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per agent, over the counter rows read (`agent` plus counters): mistakes by kind and by
    stage, their total, and mis-transfers; agents sorted by name."""
    agents: dict[str, dict[str, int]] = {}
    for row in rows:
        totals = agents.setdefault(str(row["agent"]), dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            totals[name] += int(row.get(name) or 0)
    out = []
    for agent in sorted(agents):
        t = agents[agent]
        by_kind = {k: sum(t[counter(o, k)] for o in MISTAKE_STAGES) for k in MISTAKE_KINDS}
        by_stage = {o: sum(t[counter(o, k)] for k in MISTAKE_KINDS) for o in MISTAKE_STAGES}
        out.append(
            {
                "agent": agent,
                "mistakes": {**by_kind, "total": sum(by_kind.values())},
                "mistakesBy": by_stage,
                "misTransfers": t[MISTRANSFERS],
            }
        )
    return out
