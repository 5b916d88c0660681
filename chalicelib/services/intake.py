"""Intake assessment: what a new ticket gets before it is stored.

Classification (from the agent, or suggested from the text), the required dispatch fields still
missing, the route (department) of its phenomenon, its SLA level and deadlines; whether it
repeats an earlier complaint of the customer and what seed 002's decision table makes of it;
a suggestion's short path (matched, counted, recorded, closed); a complaint closed on the spot
at a business hall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from chalicelib.adapters import incidents_repo
from chalicelib.adapters.profile_repo import (
    IntakeView,
    ProfileRepository,
    entry_of,
    suggestion_area_id,
    suggestion_text_id,
)
from chalicelib.adapters.tickets_repo import IntakeWrites
from chalicelib.catalog import Catalog
from chalicelib.domain import incidents, repeats
from chalicelib.domain.bulletins import ticket_services
from chalicelib.domain.classify import (
    Suggestion,
    classify,
    missing_required_fields,
    validate_field_values,
)
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lifecycle import Notice, first_step
from chalicelib.domain.records import HistoryEvent
from chalicelib.domain.shapes import NewTicketBody
from chalicelib.domain.tickets import Classification, Complainant, Location, Ticket
from chalicelib.domain.values import iso

from . import agenda, bulletins, escalation, steps
from .context import Deps
from .escalation import COMPLAINT_MANAGER_LEVEL
from .rules import known_fields

SUGGESTIONS_KEPT = 3


@lru_cache(maxsize=32)
def _suggestions(text: str, catalog: Catalog) -> tuple[Suggestion, ...]:
    """The classifier's ranking, once per text: intake asks for it several times per create
    (the counters' key, the repeat check, the assessment)."""
    return tuple(classify(text, catalog, limit=SUGGESTIONS_KEPT))


def classification(
    new: NewTicketBody, catalog: Catalog
) -> tuple[str | None, str | None, Classification]:
    """(category, phenomenon, record): the agent's choice, or the classifier's best guess."""
    if new.category or new.phenomenon:
        record: Classification = {"source": "agent", "confirmed": True, "suggestions": []}
        owner = catalog.phenomenon(new.phenomenon) if new.phenomenon else None
        return (owner.category if owner else new.category), new.phenomenon, record
    text = " ".join(x for x in (new.description, new.expected_result) if x)
    suggestions = _suggestions(text, catalog)
    record = {
        "source": "classifier",
        "confirmed": False,
        "suggestions": [
            {"category": s.category, "phenomenon": s.phenomenon, "score": round(s.score, 3)}
            for s in suggestions
        ],
    }
    if not suggestions:
        return None, None, record
    return suggestions[0].category, suggestions[0].phenomenon, record


def required_fields_state(
    phenomenon_code: str | None, fields: dict[str, Any], catalog: Catalog
) -> tuple[list[str], list[FieldError]]:
    """(missing required fields, badly typed field values) for a phenomenon."""
    phenomenon = catalog.phenomenon(phenomenon_code) if phenomenon_code else None
    if phenomenon is None:
        return [], []
    missing = [f.name for f in missing_required_fields(phenomenon, fields)]
    bad = [
        FieldError(f"fields.{name}", msg) for name, msg in validate_field_values(phenomenon, fields)
    ]
    return missing, bad


def intake_fields(new: NewTicketBody) -> dict[str, Any]:
    location = None
    if new.location:
        location = " ".join(v for v in (new.location.area, new.location.landmark) if v)
    return known_fields(
        dict(new.fields or {}),
        occurredAt=iso(new.occurred_at),
        location=location,
        contactNumber=new.complainant.contact_number,
        serviceNumber=new.service_number,
    )


def _location(new: NewTicketBody) -> Location | None:
    if new.location is None:
        return None
    location: Location = {"area": new.location.area}
    if new.location.landmark:
        location["landmark"] = new.location.landmark
    return location


_DESK: Any = object()  # `assess`'s default answer: the one the desk gave


@dataclass(frozen=True)
class Plan:
    """A new ticket ready to store: the ticket, intake's other writes of the create transaction,
    and what the create event records about repeats and suggestions."""

    ticket: Ticket
    writes: IntakeWrites
    details: dict[str, Any] = field(default_factory=dict)


def suggestion_ids(new: NewTicketBody, phenomenon: str | None) -> tuple[str, ...]:
    """The suggestion-index items a suggestion is matched against (read with the profile)."""
    if new.kind != "suggestion":
        return ()
    ids = [suggestion_text_id(repeats.text_key(new.description))]
    area = repeats.area_key(phenomenon, new.location.area if new.location else None)
    if area is not None:
        ids.append(suggestion_area_id(area))
    return tuple(ids)


def read_view(
    new: NewTicketBody, deps: Deps, now: datetime | None = None
) -> tuple[IntakeView, tuple[str, ...]]:
    """The one read intake makes (profile, blacklist, suggestion indexes; with `now`, the
    mass-complaint counters of the complaint's interface and phenomenon too)."""
    _, phenomenon, _ = classification(new, deps.rules.catalog)
    ids = suggestion_ids(new, phenomenon)
    counted = mass_counter(new, phenomenon, now, deps) if now is not None else None
    extra = counted.item_ids if counted is not None else ()
    return profiles(deps).read(new.service_number, ids, extra), ids


def profiles(deps: Deps) -> ProfileRepository:
    return deps.profiles


def plan(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    role: str,
    now: datetime,
    deps: Deps,
    view: IntakeView,
    ids: tuple[str, ...] = (),
    *,
    prepare: Callable[[Ticket], Ticket] | None = None,
) -> Plan:
    """The new ticket and intake's writes, from what `read_view` read. `prepare` adjusts the
    assessed ticket before its first step is chosen (an appeal's link, level and limit:
    services/actions.py); such a ticket is linked by its caller, never matched as a repeat."""
    if new.kind == "suggestion":
        return _suggestion(new, ticket_id, actor, role, now, deps, view, ids)
    return _complaint(new, ticket_id, actor, role, now, deps, view, prepare)


def _complaint(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    role: str,
    now: datetime,
    deps: Deps,
    view: IntakeView,
    prepare: Callable[[Ticket], Ticket] | None = None,
) -> Plan:
    catalog = deps.rules.catalog
    category, phenomenon, _ = classification(new, catalog)
    found = None if prepare else repeats.find_original(view.entries, phenomenon, category, now)
    details: dict[str, Any] = {}
    events: list[tuple[str, HistoryEvent]] = []
    repeat: dict[str, Any] = {}
    forced_step: str | None = None
    answer: str | None = new.answer
    if "repeat_of" in new.model_fields_set:  # the agent overrides the match
        details["repeatOverride"] = {
            "reason": new.repeat_override_reason,
            "matched": found[0].id if found else None,
        }
        repeat["repeat_override_reason"] = new.repeat_override_reason
        found = None
    if found is not None:
        original, rule = found
        decision = repeats.decide(original, new.prior_outcome, now)
        repeat.update(
            repeat_of=original.id,
            repeat=True,
            repeat_rule=rule,
            prior_outcome=new.prior_outcome,
            priority="high",
        )
        details.update(
            repeatOf=original.id,
            repeatRule=rule,
            priorOutcome=new.prior_outcome,
            originalStatus=original.status,
        )
        if new.close_on_spot is None:  # solved at the counter: the table has nothing to add
            repeat["repeat_decision"] = decision.code
            details["repeatDecision"] = decision.code
            if decision.answered:
                answer = answer or repeats.standard_answer(decision, original)
            if decision.review:
                forced_step = "review"
            if decision.escalate:
                repeat.update(escalated=True, escalation_level=COMPLAINT_MANAGER_LEVEL)
            if decision.supplement:  # recorded on the open original, not a new dispatch
                events.append(
                    (
                        original.id,
                        HistoryEvent(
                            at=now,
                            actor=actor,
                            role=role,
                            action="supplement",
                            from_status=original.status,
                            to_status=original.status,
                            details={"repeatTicket": ticket_id, "channel": new.channel},
                        ),
                    )
                )
            elif (decision.review or decision.escalate) and answer:
                details["deskAnswer"] = answer  # a senior or the complaint manager answers
                answer = None
    # issue 11: an active bulletin answers it on the spot (a repeat keeps the repeat table)
    linked = found is not None or prepare
    from_bulletin = bulletin_answer(new, phenomenon, linked, now, deps, category=category)
    details.update(from_bulletin.details)
    if from_bulletin.changes:
        answer = from_bulletin.changes["answer_script"]
        repeat.update(from_bulletin.changes)
    # -- issue 13 (catalog): the coverage decision (answered at intake when occasional)
    if answer is None and found is None and prepare is None and not view.blacklisted:
        ruled = intake_rule_answer(new, catalog, phenomenon)
        if ruled is not None:
            answer, details["answeredAtIntake"] = ruled
    # issue 11 (incidents): the mass-complaint count, read with the profile
    counted = None if prepare else mass_counter(new, phenomenon, now, deps)
    detection = counted.detect(view, now, deps) if counted is not None else None
    if detection is not None and detection.incident_id is not None:
        repeat.update(incident_id=detection.incident_id, priority="urgent")
        details["incidentId"] = detection.incident_id
        if detection.action == "open":
            details["incidentOpened"] = True
    ticket = assess(
        new,
        ticket_id,
        actor,
        role,
        now,
        deps,
        blacklisted=view.blacklisted,
        repeat=repeat,
        answer=answer,
        forced_step=forced_step,
        prepare=prepare,
    )
    kept = repeats.prune(view.entries, now)
    drop = [e.id for e in view.entries if e not in kept]
    update = profiles(deps).profile_update(new.service_number, view, entry_of(ticket), drop)
    updates: tuple[dict[str, Any], ...] = (update,)
    if counted is not None and detection is not None:
        ticket, more = counted.writes(ticket, detection, now, deps)
        updates += more
    return Plan(ticket, IntakeWrites(events=tuple(events), updates=updates), details)


# -- issue 11 (incidents): mass-complaint counting at intake ----------------------------------


@dataclass(frozen=True)
class MassCounter:
    """The (interface, phenomenon) a complaint counts at, and the counter items of its window."""

    key: str
    channel: str
    area: str | None
    phenomenon: str
    indexes: tuple[int, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return incidents_repo.incident_item_ids(self.key, self.indexes)

    def detect(self, view: IntakeView, now: datetime, deps: Deps) -> incidents.Detection:
        buckets = {}
        for index in self.indexes:
            bucket = incidents_repo.parse_bucket(
                index, view.extras.get(incidents_repo.bucket_item_id(self.key, index))
            )
            if bucket is not None:
                buckets[index] = bucket
        pointer = incidents_repo.parse_pointer(
            view.extras.get(incidents_repo.pointer_item_id(self.key))
        )
        return incidents.detect(self.key, buckets, pointer, now, deps.rules.mass_complaint)

    def writes(
        self, ticket: Ticket, detection: incidents.Detection, now: datetime, deps: Deps
    ) -> tuple[Ticket, tuple[dict[str, Any], ...]]:
        """The ticket (an opening one asks its execution to take the incident up) and the
        transaction items: the bucket's count, and the incident opened or joined."""
        repo = incidents_repo.IncidentRepository(deps.rules.mass_complaint)
        out = [
            repo.bucket_update(
                self.key,
                self.indexes[-1],
                ticket.id,
                keep_id=detection.keep_id,
                cap=detection.count_cap,
                expires=now + deps.rules.mass_complaint.window,
            )
        ]
        if detection.action == "join" and detection.incident_id is not None:
            out.append(repo.incident_join(detection.incident_id, ticket.id, now))
        elif detection.action == "open" and detection.incident_id is not None:
            opening = incidents_repo.Opening(
                incident_id=detection.incident_id,
                counter_key=self.key,
                generation=detection.generation,
                channel=self.channel,
                area=self.area,
                phenomenon=self.phenomenon,
                category=ticket.category,
                route=ticket.route,
                ticket_ids=(*detection.linked, ticket.id),
            )
            out.append(repo.pointer_open(opening, now))
            out.append(repo.incident_open(opening, now))
            ticket = ticket.with_changes(
                workflow_input=steps.with_incident_opened(
                    ticket.workflow_input, detection.incident_id
                )
            )
        return ticket, tuple(out)


def mass_counter(
    new: NewTicketBody, phenomenon: str | None, now: datetime | None, deps: Deps
) -> MassCounter | None:
    """Where a complaint counts toward a mass complaint; None for suggestions, appeals' callers
    decide apart, and complaints without a phenomenon."""
    if new.kind != "complaint" or phenomenon is None or now is None:
        return None
    policy = deps.rules.mass_complaint
    channel, area = incidents.interface(
        new.channel, new.location.area if new.location else None, policy
    )
    key = incidents.counter_key(channel, area, phenomenon)
    return MassCounter(key, channel, area, phenomenon, incidents.window_buckets(now, policy))


# -- issue 13 (catalog): the coverage decision [000 ch.5 pt.1 §1; DOMAIN.md §11] ---------------


def intake_rule_answer(
    new: NewTicketBody, catalog: Catalog, phenomenon_code: str | None
) -> tuple[str, dict[str, Any]] | None:
    """(answer, create-event record) when the phenomenon's intake rule answers the complaint at
    once: coverage trouble that is occasional (or a first time) is explained with the script and
    the customer asked to observe; frequent or constant trouble goes on to dispatch (None). A
    complaint that is urgent, flagged or has a customer deadline is never answered so; the
    caller also leaves out repeats, appeals and blacklisted customers."""
    if new.urgent or new.flags or new.customer_deadline is not None:
        return None
    phenomenon = catalog.phenomenon(phenomenon_code) if phenomenon_code else None
    ruled = phenomenon.intake_answer(intake_fields(new)) if phenomenon is not None else None
    if phenomenon is None or ruled is None:
        return None
    cause, script = ruled
    return script, {"phenomenon": phenomenon.code, "cause": cause}


def _suggestion(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    role: str,
    now: datetime,
    deps: Deps,
    view: IntakeView,
    ids: tuple[str, ...],
) -> Plan:
    """Recorded, matched, counted, handed to the records keeper, closed: never dispatched."""
    seen = [view.suggestions.get(i) for i in ids]
    by_text = seen[0] if seen else None
    by_area = seen[1] if len(seen) > 1 else None
    match = repeats.match_suggestion(by_text, by_area, now)
    repo = profiles(deps)
    events: list[tuple[str, HistoryEvent]] = []
    updates: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    if match is not None:
        first, rule = match
        changes: dict[str, Any] = {"repeat_of": first, "repeat_rule": rule}
        details.update(repeatOf=first, repeatRule=rule)
        updates.append(repo.count_update(first, now))
        events.append(
            (
                first,
                HistoryEvent(
                    at=now,
                    actor=actor,
                    role=role,
                    action="suggestion_counted",
                    from_status="archived",
                    to_status="archived",
                    details={"repeatTicket": ticket_id, "rule": rule},
                ),
            )
        )
    else:
        first = ticket_id
        changes = {"count": 1}
    # each index points at the live first suggestion; a missing or expired one is (re)pointed
    puts = tuple(
        repo.suggestion_index_put(sid, first, now, s)
        for sid, s in zip(ids, seen, strict=True)
        if s is None or now - s.at > repeats.POLICY.suggestion_window
    )
    ticket = _recorded_suggestion(new, ticket_id, actor, now, deps, view.blacklisted, changes)
    return Plan(
        ticket, IntakeWrites(events=tuple(events), puts=puts, updates=tuple(updates)), details
    )


def _recorded_suggestion(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    now: datetime,
    deps: Deps,
    blacklisted: bool,
    changes: dict[str, Any],
) -> Ticket:
    category, phenomenon_code, record = classification(new, deps.rules.catalog)
    closing = {
        "kind": "archived",
        "analysis": "suggestion recorded for the records keeper",
        "caseLibrary": False,
        "noRevisitReason": "a suggestion is recorded, not revisited",
        "by": actor,
        "role": "system",
        "at": iso(now),
    }
    ticket = _base(new, ticket_id, actor, now, category, phenomenon_code, record).with_changes(
        status="archived",
        closing=closing,
        blacklisted=blacklisted,
        **changes,
    )
    notice = Notice("suggestion_recorded", "crc", 0)
    workflow_input = steps.execution_input(ticket, steps.CLOSED_STEP, 1, None, notice=notice)
    return ticket.with_changes(workflow_input=workflow_input)


def _base(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    now: datetime,
    category: str | None,
    phenomenon_code: str | None,
    record: Classification,
) -> Ticket:
    return Ticket(
        id=ticket_id,
        version=1,
        kind=new.kind,
        channel=new.channel,
        complainant=Complainant(
            name=new.complainant.name,
            type=new.complainant.type,
            contact_number=new.complainant.contact_number,
            reply_method=new.complainant.reply_method,
            address=new.complainant.address,
        ),
        service_number=new.service_number,
        description=new.description,
        created_at=now,
        updated_at=now,
        created_by=actor,
        source=new.source,
        category=category,
        phenomenon=phenomenon_code,
        occurred_at=new.occurred_at,
        location=_location(new),
        expected_result=new.expected_result,
        fields=dict(new.fields or {}),
        urgent=new.urgent,
        flags=tuple(new.flags or ()),
        classification=record,
        status="accepted",
    )


def assess(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    role: str,
    now: datetime,
    deps: Deps,
    blacklisted: bool = False,
    repeat: dict[str, Any] | None = None,
    answer: Any = _DESK,
    forced_step: str | None = None,
    prepare: Callable[[Ticket], Ticket] | None = None,
) -> Ticket:
    """The new complaint, assessed; `answer` (default: the desk's) is what it was answered
    with at intake, `forced_step` a first step the repeat table chose."""
    rules = deps.rules
    catalog = rules.catalog
    category, phenomenon_code, record = classification(new, catalog)
    missing, bad = required_fields_state(phenomenon_code, intake_fields(new), catalog)
    if bad and record["confirmed"]:
        raise ValidationFailed(bad)
    phenomenon = catalog.phenomenon(phenomenon_code) if phenomenon_code else None
    cat = catalog.category(category) if category else None
    route = phenomenon.route if phenomenon else (cat.route if cat else None)
    policy = rules.policy
    level = policy.level_for(
        phenomenon.sla_level if phenomenon else None, new.channel, new.source, category
    )
    deadlines = policy.deadlines(now, level, new.channel, new.source, rules.calendar, category)
    if answer is _DESK:
        answer = new.answer
    ticket = _base(new, ticket_id, actor, now, category, phenomenon_code, record).with_changes(
        route=route,
        missing_fields=tuple(missing),
        sla_level=deadlines.sla_level,
        due_at=deadlines.due_at,
        progress_due_at=deadlines.progress_due_at,
        final_due_at=deadlines.final_due_at,
        sla_rule=deadlines.rule,
        answer=answer,
        status="answered" if answer else "accepted",
        customer_deadline=new.customer_deadline.record() if new.customer_deadline else None,
        **(repeat or {}),
    )
    # -- issue 13 (calendar): say when a deadline was counted without official holiday data
    ends = (deadlines.due_at, deadlines.progress_due_at, deadlines.final_due_at)
    ticket = ticket.with_changes(deadline_calendar=rules.calendar.official_note(now, *ends))
    if prepare is not None:  # e.g. an appeal (services/actions.py): link, level, limit
        ticket = prepare(ticket)
    ticket, _ = escalation.reassess(ticket.with_changes(blacklisted=blacklisted), now, rules)
    if new.close_on_spot is not None:
        return _closed_on_spot(ticket, new, actor, role, now)
    step = forced_step or first_step(ticket, role)
    step_due = steps.step_deadline(ticket, step, now, rules)
    timeout = steps.seconds_until(step_due, now)
    ticket = ticket.with_changes(step=step, step_seq=1, step_due_at=step_due, step_started_at=now)
    started = ticket.with_changes(workflow_status="started")
    due_after_start = agenda.next_due_of(started, rules)
    notices = escalation.intake_notices(ticket)  # escalated on arrival: the CRC is told at once
    workflow_input = steps.execution_input(
        ticket, step, timeout, due_after_start, notice=notices[0] if notices else None
    )
    return ticket.with_changes(workflow_input=workflow_input)


def _closed_on_spot(
    ticket: Ticket, new: NewTicketBody, actor: str, role: str, now: datetime
) -> Ticket:
    """当场办结: the answer, the reply given in person and the customer's satisfaction, closed
    in one step; the duty manager quality-checks it afterwards."""
    assert new.close_on_spot is not None and new.answer is not None
    who = {"by": actor, "role": role, "at": iso(now)}
    closed = ticket.with_changes(
        status="archived",
        step=None,
        reply={"content": new.answer, "method": "in_person", **who},
        revisit={"satisfaction": new.close_on_spot.satisfaction, "comment": None, **who},
        closing={
            "kind": "archived",
            "analysis": "closed on the spot at the business hall",
            "caseLibrary": False,
            "noRevisitReason": None,
            **who,
        },
    )
    notices = escalation.intake_notices(closed)
    workflow_input = steps.execution_input(
        closed, steps.CLOSED_STEP, 1, None, notice=notices[0] if notices else None
    )
    return closed.with_changes(workflow_input=workflow_input)


# -- issue 11: answering from a bulletin ------------------------------------------------------


@dataclass(frozen=True)
class FromBulletin:
    """What a matching bulletin changes on a new complaint, and what its create event records."""

    changes: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def bulletin_answer(
    new: NewTicketBody,
    phenomenon: str | None,
    linked: Any,
    now: datetime,
    deps: Deps,
    category: str | None = None,
) -> FromBulletin:
    """A complaint whose phenomenon (or a service it names) and area match a bulletin in effect
    is answered with the bulletin's script and goes to the reply step. A service label matches
    only a bulletin whose phenomena are of the complaint's category, and only when the agent
    chose the classification: the classifier's unconfirmed guess answers from a bulletin only
    when its phenomenon itself matches, never by a service label. Not matched: repeats and
    appeals (`linked`: their own rules decide), complaints the desk answered or closed itself,
    and those without an area. `dispatchDespiteBulletin` keeps it on the dispatch path, with
    the reason and the bulletin it overrode recorded. The active bulletins come from the
    container's cache (services/bulletins.py): no AWS call per intake."""
    override = new.dispatch_despite_bulletin
    skip = (
        linked
        or new.kind != "complaint"
        or new.close_on_spot is not None
        or new.answer
        or new.location is None
    )
    match = None
    if not skip:
        assert new.location is not None
        index = bulletins.active_index(deps)
        confirmed = bool(new.category or new.phenomenon)  # the agent's (intake.classification)
        services = ticket_services(dict(new.fields or {})) if confirmed else ()
        match = index.match(phenomenon, new.location.area, services, now, category=category)
    if override is not None:
        matched = match.id if match is not None else None
        return FromBulletin(
            details={"bulletinOverride": {"reason": override.reason, "matched": matched}}
        )
    if match is None:
        return FromBulletin()
    return FromBulletin(
        changes={"bulletin_id": match.id, "answer_script": match.script, "answered_at": now},
        details={"bulletinId": match.id, "answeredFrom": "bulletin"},
    )
