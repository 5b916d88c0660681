"""Intake assessment: what a new ticket gets before it is stored (classification, SLA, route)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.tickets import NewTicket, Ticket

from .context import Deps


def assess(new: NewTicket, ticket_id: str, actor: str, now: datetime, deps: Deps) -> Ticket:
    return Ticket(
        id=ticket_id,
        version=1,
        kind=new.kind,
        status="accepted",
        channel=new.channel,
        complainant=new.complainant,
        service_number=new.service_number,
        description=new.description,
        created_at=now,
        updated_at=now,
        created_by=actor,
        source=new.source,
        category=new.category,
        phenomenon=new.phenomenon,
        occurred_at=new.occurred_at,
        location=new.location,
        expected_result=new.expected_result,
        fields=dict(new.fields),
        urgent=new.urgent,
        flags=new.flags,
    )
