"""The sweep (every 5 minutes on AWS): chase exactly what is due, repair what is stranded.

It queries only the sparse due-index (`nextDueAt <= now`), a page at a time, never a scan. For
each due ticket it handles every duty whose instant has passed (agenda.py): pre-breach warnings,
follow-up and promised-time reminders, progress/final/approval duties, breaches, and a check that
the ticket's execution is alive (started again if it never started or died).

Each ticket is a bulkhead. Its due notices are claimed together in one transaction that also
checks the ticket version they were computed from (a stale index copy is re-read instead of
acted on); its notices join a PublishBatch of up to ten, shared with the next tickets; then one
transaction marks them sent and moves the ticket to its next due instant. Tickets are claimed
just before their batch goes out, so a sweep killed mid-page leaves at most one batch claimed
(sent again only if the kill fell between SNS accepting it and the settling write, once the
claims' lease has run out); the remaining tickets stay due for the next sweep.

A ticket whose duties fail (a decode, a StartExecution, a publish, a write) does not stop the
run: its claims not sent are released, the failure is counted on the ticket (`sweepAttempts`) and
it comes back on the due-index after an exponential backoff; after `MAX_ATTEMPTS` it is set
aside (off the due-index) and the operators are told once (`ticket_set_aside`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.notices_repo import Claimed
from chalicelib.adapters.notifier import BATCH
from chalicelib.domain.duties import Duty
from chalicelib.domain.records import HistoryEvent, TicketUnreadableError, UnreadableTicket
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.logs import logger

from . import agenda, notifications, repair
from .context import Deps

PAGE = 100
MAX_ATTEMPTS = 5  # failed attempts at a ticket's duties before it is set aside
RETRY_BASE = timedelta(minutes=1)  # then 2, 4, 8 minutes
RETRY_CAP = timedelta(hours=1)
STALE_TRIES = 3
OUTCOMES = ("read", "sent", "breached", "repaired", "stale", "failed", "set_aside")


def retry_delay(attempts: int) -> timedelta:
    """How long a ticket waits after its `attempts`-th failed attempt (1 → RETRY_BASE)."""
    return min(RETRY_BASE * (1 << max(attempts - 1, 0)), RETRY_CAP)


@dataclass
class _Work:
    """One ticket's due duties in this run."""

    ticket: Ticket  # the copy acted on (fresher once the sweep recorded a breach)
    attempts: int  # failed attempts before this run
    claimed: list[str] = field(default_factory=list)  # notice keys ours to handle
    done: list[str] = field(default_factory=list)  # claimed keys handled (sent or nothing to send)
    messages: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    error: str | None = None  # why it failed (a stage and an exception type, never data)
    held_until: datetime | None = None  # another sweep holds some due notices until then


def run(deps: Deps, max_pages: int = 100, page_size: int = PAGE) -> dict[str, Any]:
    now = deps.clock()
    stats: Counter[str] = Counter()
    cursor: dict[str, Any] | None = None
    for _ in range(max_pages):
        page = deps.repo.due_tickets(now, page_size, cursor)
        stats["read"] += len(page.tickets)
        unreadable = list(page.unreadable)
        pending: list[_Work] = []
        for ticket in page.tickets:
            work = _prepare(ticket, page.attempts.get(ticket.id, 0), now, deps, stats, unreadable)
            if work is None:
                continue
            queued = sum(len(w.messages) for w in pending)
            if pending and queued + len(work.messages) > BATCH:
                _flush(pending, now, deps, stats)
                pending = []
            pending.append(work)
        _flush(pending, now, deps, stats)
        set_aside(unreadable, deps, stats)
        cursor = page.cursor
        if cursor is None:
            break
    return {k: stats[k] for k in OUTCOMES}  # the scheduled handler logs them (app.py)


def set_aside(unreadable: list[UnreadableTicket], deps: Deps, stats: Counter[str]) -> None:
    """Take tickets that do not decode off the due-index (so no sweep reads them again until
    someone rewrites them) and tell the operators once."""
    for item in unreadable:
        try:
            deps.repo.take_off_due(item, deps.clock())
        except Exception:
            logger.exception(
                "taking a ticket off the due-index failed", extra={"ticketId": item.ticket_id}
            )
        stats["set_aside"] += 1
    notifications.set_aside(unreadable, deps)


# -- one ticket ------------------------------------------------------------------------------


def _prepare(
    ticket: Ticket,
    attempts: int,
    now: datetime,
    deps: Deps,
    stats: Counter[str],
    unreadable: list[UnreadableTicket],
) -> _Work | None:
    """Claim the ticket's due notices and do their side effects (start an execution, record a
    breach); the notices themselves are queued for the batch. None: nothing to do now."""
    try:
        for n in range(STALE_TRIES):
            due = [d for d in agenda.of(ticket, deps.rules) if d.at <= now]
            claimed = (
                deps.notices.claim_all(ticket.id, [d.key for d in due], now, ticket.version)
                if due
                else Claimed(set())
            )
            if claimed is not None:
                break
            stats["stale"] += 1  # the index copy was behind: go again from the table's copy
            fresher = deps.repo.get(ticket.id, consistent=True)
            if fresher is None:
                return None
            ticket = fresher
            deps.sleep(0.01 * 2**n)
        else:
            return None  # it keeps changing: whoever changes it places it on the index
    except TicketUnreadableError as err:  # it went bad since the index copy was read
        unreadable.append(err.item)
        return None
    except Exception as err:
        _failed(ticket, attempts, f"claim: {type(err).__name__}", now, deps, stats)
        return None
    work = _Work(
        ticket,
        attempts,
        claimed=[d.key for d in due if d.key in claimed.keys],
        held_until=claimed.held_until,
    )
    for duty in due:
        if duty.key not in claimed.keys:
            continue
        try:
            _perform(work, duty, now, deps, stats)
        except Exception as err:
            logger.exception(
                "a sweep duty failed", extra={"ticketId": ticket.id, "notice": duty.key}
            )
            work.error = f"{duty.event_type}: {type(err).__name__}"
            break  # what is queued still goes out; the rest is released and retried
    return work


def _flush(works: list[_Work], now: datetime, deps: Deps, stats: Counter[str]) -> None:
    """Publish the queued notices of a few tickets together, then settle each ticket."""
    queue = [(work, key, body, attrs) for work in works for key, body, attrs in work.messages]
    if queue:
        try:
            accepted = deps.notifier.departments([(body, attrs) for _, _, body, attrs in queue])
        except Exception:
            logger.exception("publishing a batch of notices failed")
            accepted = [False] * len(queue)
        for (work, key, _, _), ok in zip(queue, accepted, strict=True):
            if ok:
                work.done.append(key)
                stats["sent"] += 1
            elif work.error is None:
                work.error = "publish: refused"
    for work in works:
        _settle(work, now, deps, stats)


def _settle(work: _Work, now: datetime, deps: Deps, stats: Counter[str]) -> None:
    ticket = work.ticket
    try:
        if work.error is None:
            next_due = None if ticket.closed else agenda.next_due_of(ticket, deps.rules, after=now)
            if work.held_until is not None:  # come back when their lease has run out
                back = work.held_until + timedelta(seconds=1)
                next_due = min(next_due or back, back)
            deps.notices.settle(
                ticket.id, work.done, now, version=ticket.version, next_due=next_due
            )
            return
        if work.done:
            deps.notices.settle(ticket.id, work.done, now, version=ticket.version, place=False)
        deps.notices.release_all(ticket.id, [k for k in work.claimed if k not in work.done])
    except Exception as err:
        logger.exception("settling a ticket's notices failed", extra={"ticketId": ticket.id})
        work.error = work.error or f"settle: {type(err).__name__}"
    _failed(ticket, work.attempts, work.error or "settle", now, deps, stats)


def _failed(
    ticket: Ticket, attempts: int, reason: str, now: datetime, deps: Deps, stats: Counter[str]
) -> None:
    """Count the failure on the ticket and put it back on the due-index after a backoff; past
    the bound, set it aside and tell the operators once."""
    stats["failed"] += 1
    attempts += 1
    logger.warning(
        "the sweep failed at a ticket",
        extra={"ticketId": ticket.id, "attempts": attempts, "reason": reason},
    )
    try:
        if attempts < MAX_ATTEMPTS:
            deps.repo.record_failure(
                ticket.id, ticket.version, attempts, now + retry_delay(attempts), reason, now
            )
            return
        if not deps.repo.set_next_due(ticket.id, None, ticket.version):
            return  # it changed meanwhile: whoever changed it placed it again
    except Exception:
        logger.exception("recording a sweep failure failed", extra={"ticketId": ticket.id})
        return
    stats["set_aside"] += 1
    told = notifications.set_aside(
        [
            UnreadableTicket(
                ticket_id=ticket.id,
                version=str(ticket.version),
                reason=f"the sweep failed {attempts} times ({reason})",
                stored_version={"N": str(ticket.version)},
            )
        ],
        deps,
    )
    if ticket.id not in told:  # nobody would hear of it: back on the index, to try again
        try:
            deps.repo.record_failure(
                ticket.id, ticket.version, attempts, now + RETRY_CAP, reason, now
            )
        except Exception:
            logger.exception("recording a sweep failure failed", extra={"ticketId": ticket.id})


def _perform(work: _Work, duty: Duty, now: datetime, deps: Deps, stats: Counter[str]) -> None:
    ticket = work.ticket
    if duty.event_type == "workflow_check":
        name = _repair(ticket, duty, now, deps)
        if name is None:
            work.done.append(duty.key)  # the execution is running: nothing to say
            return
        stats["repaired"] += 1
        work.messages.append(
            (
                duty.key,
                *notifications.department_notice(
                    ticket,
                    "workflow_repaired",
                    "operators",
                    extra={"execution": name, "notice": duty.key},
                ),
            )
        )
        return
    if duty.marks_breach:
        fresher = _mark_breached(ticket, duty, now, deps)
        stats["breached"] += 1
        if fresher is not None:
            work.ticket = fresher
    work.messages.append(
        (
            duty.key,
            *notifications.department_notice(
                work.ticket,
                duty.event_type,
                duty.department,
                level=ticket.escalation_level,
                extra={**duty.details, "notice": duty.key},
            ),
        )
    )


def _mark_breached(ticket: Ticket, duty: Duty, now: datetime, deps: Deps) -> Ticket | None:
    """Record the breach for reporting: `breached`, and which duty was missed."""
    name = str(duty.details.get("duty", "reply"))
    current: list[Ticket | None] = [ticket]

    def attempt() -> Ticket | bool | None:
        seen = current[0]
        if seen is None:
            return False  # the ticket is gone
        event = HistoryEvent(
            now,
            "sweep",
            "system",
            "breached",
            seen.status,
            seen.status,
            {"duty": name, "dueAt": duty.at.isoformat()},
            seen.version + 1,
        )
        overdue = tuple(sorted({*seen.overdue_duties, name}))
        after = seen.with_changes(breached=True, updated_at=now, overdue_duties=overdue)
        stored = deps.repo.save_change(
            seen, after, event, due_at=agenda.next_due_of(after, deps.rules)
        )
        if stored is None:  # changed meanwhile: decide again from the table's copy
            current[0] = deps.repo.get(seen.id, consistent=True)
        return stored

    result = until_settled(attempt, attempts=3, sleep=deps.sleep, give_up=lambda: False)
    return result if isinstance(result, Ticket) else None


def _repair(ticket: Ticket, duty: Duty, now: datetime, deps: Deps) -> str | None:
    """Start the lifecycle of a ticket that has none running; the execution's name, or None
    when it was running."""
    first = duty.details.get("check") == "start"
    if not first:
        execution = (
            deps.workflows.describe_arn(ticket.execution_arn) if ticket.execution_arn else None
        )
        if execution is not None and execution["status"] == "RUNNING":
            return None
    return repair.resume(ticket, now, deps, first=first)
