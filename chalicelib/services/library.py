"""Issue 12 items 4-5 (cases): the case library and seniors' ratings of juniors.

- `effects`: what an action adds to its own ticket transaction — the case an archive with
  `addToCaseLibrary` stores, the mistakes a review marks and the mis-transfers a return or
  transfer reveals, counted per agent and day with ADD. No extra AWS call, except one `GetItem`
  of the original when an appeal's review blames the original's dispatcher.
- `list_cases` / `get_case` / `add_case`: GET /cases (Query on the library index, never a scan),
  GET /cases/{id}, POST /cases (the knowledge base of seed 002).
- `ticket_cases`: GET /tickets/{id}/cases, the top cases for the ticket's phenomenon that the
  dispatch and appeal desks are offered (GET /tickets/{id} itself stays as it was).
- `agents_report`: GET /reports/agents, per agent mistakes by kind and mis-transfers, read from
  the counters by one Query per month of the period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.adapters.library_repo import count_item, put_case_item
from chalicelib.domain import lifecycle, ratings, shapes
from chalicelib.domain.auth import require_role
from chalicelib.domain.classify import classify
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.library import (
    TOP_CASES,
    Case,
    case_of_ticket,
    known_values,
    matches,
    scrub,
    terms,
)
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.vocabulary import ROLES

from .context import Caller, Deps
from .tickets import READ_ROLES, _visible

READ_CASE_ROLES = ROLES  # any signed-in role: a case holds no personal data
CASE_WRITERS = ("senior_agent", "complaint_manager")
REPORT_ROLES = ratings.REPORT_ROLES
# A search without a phenomenon looks in the phenomena the classifier ranks first for `q`.
SEARCH_PHENOMENA = 3
# Items one search request may examine (matching is done on the phenomenon's cases, newest
# first): past it, the page ends early with a cursor to go on from.
MAX_EXAMINED = 300
PAGE = 100
_CASE_ID = re.compile(r"^[A-Za-z0-9]{2,64}$")


# -- what actions add to their ticket's transaction ----------------------------------------------


@dataclass(frozen=True)
class Effects:
    ticket: Ticket
    details: dict[str, Any]
    items: tuple[Any, ...]


def effects(
    caller: Caller,
    before: Ticket,
    after: Ticket,
    decision: lifecycle.Decision,
    deps: Deps,
    now: datetime,
) -> Effects:
    p = caller.principal
    action = decision.action
    after = after.with_changes(**ratings.dispatch_memory(action, after))
    details: dict[str, Any] = {}
    items: list[Any] = []
    if action == "archive" and decision.details.get("caseLibrary"):
        closing = dict(after.closing or {})
        analysis = str(closing.get("analysis") or "")
        case = case_of_ticket(after, analysis, new_id("C", now), p.username, now)
        if case is None:
            details["caseNotAdded"] = "the ticket has no phenomenon to file the case under"
        else:
            details["caseId"] = case.id
            items.append(put_case_item(case))
    blames: list[ratings.Blame] = []
    mistakes = decision.extra.get("mistakes") or ()
    if mistakes:
        dispatcher = _dispatcher(before, mistakes, deps)
        blames = lifecycle.blame(mistakes, before.created_by, dispatcher, p.username)
        details["mistakes"] = [b.to_api() for b in blames]
    mistransfer = ratings.mistransferred(action, before)
    if mistransfer:
        details["misTransferOf"] = mistransfer
    day = ratings.local_day(now)
    for agent, adds in ratings.increments(blames, mistransfer).items():
        items.append(count_item(day, agent, adds))
    return Effects(after, details, tuple(items))


def _dispatcher(ticket: Ticket, mistakes: Any, deps: Deps) -> str | None:
    """Who dispatched the ticket; for an appeal under verification never dispatched itself, the
    original's dispatcher (the dispatch the appeal is about)."""
    if ticket.dispatched_by or not ticket.appeal_of:
        return ticket.dispatched_by
    if not any(m.of == "dispatch" for m in mistakes):
        return None
    original = deps.repo.get(ticket.appeal_of)
    return original.dispatched_by if original is not None else None


# -- the library ---------------------------------------------------------------------------------


def _phenomena_for(text: str, deps: Deps) -> list[str]:
    """The phenomena the classifier (POST /catalog/classify's) ranks first for the words."""
    found: list[str] = []
    for s in classify(text, deps.rules.catalog, limit=SEARCH_PHENOMENA * 2):
        if s.phenomenon and s.phenomenon not in found:
            found.append(s.phenomenon)
    return found[:SEARCH_PHENOMENA]


def list_cases(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, READ_CASE_ROLES)
    q = shapes.parse(shapes.CasesQuery, params, catalog=deps.rules.catalog)
    words = terms(q.q) if q.q else []
    phenomena = [q.phenomenon] if q.phenomenon else _phenomena_for(q.q or "", deps)
    index: int = 0
    before: str | None = None
    if q.cursor is not None:
        state = deps.cursors.decode(q.cursor)
        at, position = state.get("i"), state.get("b")
        if (
            state.get("p") != phenomena
            or not isinstance(at, int)
            or not 0 <= at < len(phenomena)
            or not (position is None or isinstance(position, str))
        ):
            raise ValidationFailed([FieldError("cursor", "belongs to another search")])
        index, before = at, position
    items: list[Case] = []
    examined = 0
    cursor: dict[str, Any] | None = None
    while index < len(phenomena) and cursor is None:
        for position, case in deps.library.cases(phenomena[index], before, PAGE):
            examined += 1
            before = position
            if matches(case, words):
                items.append(case)
            if len(items) >= q.limit or examined >= MAX_EXAMINED:
                cursor = {"p": phenomena, "i": index, "b": position}
                break
        else:
            index, before = index + 1, None
    return {
        "items": [c.to_api() for c in items],
        "nextCursor": deps.cursors.encode(cursor) if cursor else None,
        "phenomena": phenomena,
    }


def get_case(caller: Caller, case_id: str, deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, READ_CASE_ROLES)
    case = deps.library.get_case(case_id) if _CASE_ID.fullmatch(case_id) else None
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case.to_api()


def add_case(caller: Caller, body: Any, deps: Deps) -> dict[str, Any]:
    """A solved difficult case for the knowledge base; scrubbed, audited, one transaction."""
    p = caller.principal
    require_role(p, CASE_WRITERS)
    catalog = deps.rules.catalog
    parsed = shapes.parse(shapes.CaseBody, body, catalog=catalog)
    known: list[tuple[str, str]] = []
    if parsed.ticket_id is not None:
        ticket = _visible(caller, parsed.ticket_id, deps)  # out of scope: 404, as missing
        known = known_values(ticket)
    now = deps.clock()

    def clean(text: str | None) -> str | None:
        return scrub(text, known) if text else None

    phenomenon = catalog.phenomenon(parsed.phenomenon)
    assert phenomenon is not None  # the body's model checked it against the catalog
    case = Case(
        id=new_id("C", now),
        phenomenon=parsed.phenomenon,
        category=phenomenon.category,
        title=clean(parsed.title) or "",
        solution=clean(parsed.solution) or "",
        cause=clean(parsed.cause),
        script=clean(parsed.script),
        analysis=clean(parsed.analysis),
        source_ticket_id=parsed.ticket_id,
        created_by=p.username,
        created_at=now,
        source="knowledge_base",
    )
    audit = deps.audit.model(caller.audit("add_case", parsed.ticket_id, now))
    deps.library.put_case(case, also=(lambda tx: tx.save(audit),))
    return case.to_api()


def ticket_cases(caller: Caller, ticket_id: str, deps: Deps) -> dict[str, Any]:
    """The top cases for the ticket's phenomenon (newest first): one read of the ticket (scope:
    out of it, 404), one Query of at most TOP_CASES items, the read audited."""
    require_role(caller.principal, READ_ROLES)
    ticket = _visible(caller, ticket_id, deps)
    deps.audit.record([caller.audit("read_cases", ticket.id, deps.clock())])
    items: list[dict[str, Any]] = []
    if ticket.phenomenon:
        for _, case in deps.library.cases(ticket.phenomenon, None, TOP_CASES):
            if case.source_ticket_id == ticket.id:
                continue
            items.append(case.to_api())
            if len(items) >= TOP_CASES:
                break
    return {"ticketId": ticket.id, "phenomenon": ticket.phenomenon, "items": items}


# -- seniors rate juniors ----------------------------------------------------------------------


def agents_report(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    require_role(caller.principal, REPORT_ROLES)
    q = shapes.parse(shapes.AgentReportQuery, params)
    first, last = q.from_.isoformat(), q.to.isoformat()
    rows: list[dict[str, Any]] = []
    for month in ratings.months(q.from_, q.to):
        rows.extend(deps.library.counters(month, first, last, q.agent))
    out: dict[str, Any] = {"from": first, "to": last, "items": ratings.report(rows)}
    if q.agent is not None:
        out["agent"] = q.agent
    return out
