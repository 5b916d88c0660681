"""Intake assessment: what a new ticket gets before it is stored.

Classification (from the agent, or suggested from the text), the required dispatch fields still
missing, the route (department) of its phenomenon, its SLA level and deadlines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.catalog import Catalog
from chalicelib.domain.classify import classify, missing_required_fields, validate_field_values
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lifecycle import first_step
from chalicelib.domain.shapes import NewTicketBody
from chalicelib.domain.tickets import Classification, Complainant, Location, Ticket
from chalicelib.domain.values import iso

from . import agenda, escalation, steps
from .context import Deps
from .rules import known_fields

SUGGESTIONS_KEPT = 3


def classification(
    new: NewTicketBody, catalog: Catalog
) -> tuple[str | None, str | None, Classification]:
    """(category, phenomenon, record): the agent's choice, or the classifier's best guess."""
    if new.category or new.phenomenon:
        record: Classification = {"source": "agent", "confirmed": True, "suggestions": []}
        owner = catalog.phenomenon(new.phenomenon) if new.phenomenon else None
        return (owner.category if owner else new.category), new.phenomenon, record
    text = " ".join(x for x in (new.description, new.expected_result) if x)
    suggestions = classify(text, catalog, limit=SUGGESTIONS_KEPT)
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


def assess(
    new: NewTicketBody,
    ticket_id: str,
    actor: str,
    role: str,
    now: datetime,
    deps: Deps,
    blacklisted: bool = False,
    *,
    prepare: Callable[[Ticket], Ticket] | None = None,
) -> Ticket:
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
    ticket = Ticket(
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
        route=route,
        missing_fields=tuple(missing),
        sla_level=deadlines.sla_level,
        due_at=deadlines.due_at,
        progress_due_at=deadlines.progress_due_at,
        final_due_at=deadlines.final_due_at,
        sla_rule=deadlines.rule,
        answer=new.answer,
        status="answered" if new.answer else "accepted",
        customer_deadline=new.customer_deadline.record() if new.customer_deadline else None,
    )
    if prepare is not None:  # e.g. an appeal (services/actions.py): link, level, limit
        ticket = prepare(ticket)
    ticket, _ = escalation.reassess(ticket.with_changes(blacklisted=blacklisted), now, rules)
    step = first_step(ticket, role)
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
