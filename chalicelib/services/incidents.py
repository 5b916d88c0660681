"""Mass-complaint incidents (issue 11): reading them, taking one up when it opens, and resolving
all of its tickets at once.

An incident is opened by intake (services/intake.py: the complaint that reaches the threshold)
and taken up by that complaint's own execution (`take_up`): the window's earlier tickets are
linked (`incidentId`, priority `urgent`), the route department and the CRC are told once
(`mass_complaint`) and the incident is escalated to the complaint manager. `POST
/incidents/{id}/resolve` records the resolution and starts the incident-resolution state machine,
whose batches resolve each open ticket through the same path as the `resolve` action
(services/actions.py `perform`): a ticket already past the department step is skipped, so a
failed run is resumed by the next one and no step is completed twice (decision 0017).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from chalicelib.adapters.incidents_repo import Incident, IncidentRepository, incident_item_id
from chalicelib.domain import shapes
from chalicelib.domain.auth import Principal, require_role
from chalicelib.domain.duties import lateness
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.incidents import ID_PREFIX, id_instant
from chalicelib.domain.masking import mask_pii
from chalicelib.domain.records import HistoryEvent
from chalicelib.domain.retry import until_settled
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.values import iso
from chalicelib.logs import logger

from . import actions, agenda, notifications
from .context import Caller, Deps

READ_ROLES = (
    "complaint_manager",
    "senior_agent",
    "department",
    "complaint_admin",
    "operator",
    "leader",
)
RESOLVE_ROLES = ("complaint_manager", "department", "complaint_admin")
BATCH = 25  # tickets per Lambda invocation of the resolution's Map
MAX_TICKETS_SHOWN = 200
OPEN_STEPS = ("review", "dispatch", "accept", "handle")
CRC = "crc"
ATTEMPTS = 4


def _repo(deps: Deps) -> IncidentRepository:
    return deps.incidents


def _plausible(incident_id: str) -> bool:
    return (
        2 <= len(incident_id) <= 64
        and incident_id.isascii()
        and incident_id.isalnum()
        and incident_id.startswith(ID_PREFIX)
    )


def _visible(principal: Principal, incident: Incident | None, incident_id: str) -> Incident:
    """Scope before role: a department user sees only its own department's incidents, and
    anything else is answered as missing."""
    if incident is None or (principal.department_scoped and principal.department != incident.route):
        raise NotFound(f"no incident {incident_id}")
    return incident


def _load(caller: Caller, incident_id: str, deps: Deps, roles: tuple[str, ...]) -> Incident:
    require_role(caller.principal, roles)
    incident = _repo(deps).get(incident_id) if _plausible(incident_id) else None
    return _visible(caller.principal, incident, incident_id)


# -- reading ----------------------------------------------------------------------------------


def list_incidents(caller: Caller, params: dict[str, str], deps: Deps) -> dict[str, Any]:
    p = caller.principal
    require_role(p, READ_ROLES)
    q = shapes.parse(shapes.PageQuery, params)
    cursor = deps.cursors.decode(q.cursor) if q.cursor else None
    route = (p.department or "-") if p.department_scoped else None
    items, lek = _repo(deps).page(q.limit, cursor, route)
    return {
        "items": [i.to_api() for i in items],
        "nextCursor": deps.cursors.encode(lek) if lek else None,
    }


def get_incident(caller: Caller, incident_id: str, deps: Deps) -> dict[str, Any]:
    """The incident, its tickets (masked summaries), counts by area and channel, a timeline."""
    incident = _load(caller, incident_id, deps, READ_ROLES)
    facets = _repo(deps).ticket_facets(list(incident.ticket_ids))
    by_area: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    summaries: list[dict[str, Any]] = []
    for item in sorted(facets, key=lambda i: _s(i, "id") or ""):
        area = _area(item)
        by_area[area or "-"] += 1
        by_channel[_s(item, "channel") or "-"] += 1
        by_status[_s(item, "status") or "-"] += 1
        summaries.append(
            {
                "id": _s(item, "id"),
                "status": _s(item, "status"),
                "step": _s(item, "step"),
                "channel": _s(item, "channel"),
                "area": area,
                "createdAt": _created(item),
                "serviceNumber": mask_pii(_s(item, "serviceNumber") or ""),
                "priority": _s(item, "priority"),
                "linked": _s(item, "incidentId") == incident.id,
            }
        )
    shown = summaries[-MAX_TICKETS_SHOWN:]
    now = deps.clock()
    deps.audit.record([caller.audit("read_incident", str(s["id"]), now) for s in shown if s["id"]])
    return {
        **incident.to_api(),
        "tickets": shown,
        "ticketsShown": len(shown),
        "counts": {
            "byArea": dict(by_area),
            "byChannel": dict(by_channel),
            "byStatus": dict(by_status),
        },
        "timeline": _timeline(incident),
    }


def _timeline(incident: Incident) -> list[dict[str, Any]]:
    entries = list(incident.timeline)
    instants = [at for at in (id_instant(t) for t in incident.ticket_ids) if at is not None]
    if instants:
        entries.append({"at": iso(min(instants)), "event": "first_complaint"})
        entries.append({"at": iso(max(instants)), "event": "last_complaint"})
    for entry in entries:  # stored instants are UTC storage strings: shown as ISO 8601
        at = entry.get("at")
        if isinstance(at, str) and at.endswith("Z"):
            entry["at"] = iso(datetime.fromisoformat(at.replace("Z", "+00:00")))
    return sorted(entries, key=lambda e: str(e.get("at")))


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return value if isinstance(value, str) else None


def _area(item: dict[str, Any]) -> str | None:
    raw = item.get("location")
    if not raw:
        return None
    if "S" in raw:
        try:
            value = json.loads(raw["S"])
        except ValueError:
            return None
        area = value.get("area") if isinstance(value, dict) else None
        return area if isinstance(area, str) else None
    if "M" in raw:
        found = raw["M"].get("area", {}).get("S")
        return found if isinstance(found, str) else None
    return None


def _created(item: dict[str, Any]) -> str | None:
    at = _s(item, "createdAt")
    if at is None:
        return None
    return iso(datetime.fromisoformat(at.replace("Z", "+00:00")))


# -- resolving --------------------------------------------------------------------------------


def request_resolution(caller: Caller, incident_id: str, body: Any, deps: Deps) -> dict[str, Any]:
    """Record the resolution and start (or resume) the run that applies it to every open
    ticket; 409 while a run is under way or once resolved."""
    p = caller.principal
    require_role(p, RESOLVE_ROLES)
    parsed = shapes.parse(shapes.ResolveIncidentBody, body)
    incident = _load(caller, incident_id, deps, RESOLVE_ROLES)
    _known_cause(incident, parsed.cause, deps)
    if incident.status == "resolved":
        raise Conflict("the incident is resolved already", code="incident_resolved")
    if incident.run and _running(incident, deps):
        raise Conflict(
            "the incident's resolution is under way; wait for it to finish",
            code="resolution_running",
        )
    now = deps.clock()
    resolution = {
        "cause": parsed.cause,
        "result": parsed.result,
        "script": parsed.script,
        "by": p.username,
        "role": p.role,
        "at": iso(now),
    }
    run = _repo(deps).begin_resolution(incident, resolution, now)
    if run is None:
        raise Conflict(
            "another resolution of this incident started meanwhile", code="resolution_running"
        )
    name = run_name(incident.id, run)
    try:
        deps.incident_workflows.start(
            incident.id, json.dumps({"incidentId": incident.id, "run": run}), name=name
        )
    except Exception:  # the incident says `resolving`; POST again starts the next run
        logger.exception("starting the incident's resolution failed", extra={"incident": name})
    deps.audit.record([caller.audit("resolve_incident", None, now)])
    after = _repo(deps).get(incident.id) or incident
    return {**after.to_api(), "run": run, "execution": name}


def _known_cause(incident: Incident, cause: str, deps: Deps) -> None:
    """Each ticket's `resolve` takes only a cause of its phenomenon (issue 13): the incident's
    cause is checked once, here, so no ticket is skipped for it. 400 naming `cause`."""
    phenomenon = deps.rules.catalog.phenomenon(incident.phenomenon)
    allowed = [c.code for c in phenomenon.causes] if phenomenon is not None else []
    if allowed and cause not in allowed:
        message = (
            f"{cause!r} is not a cause of {incident.phenomenon}; allowed: {', '.join(allowed)}"
        )
        raise ValidationFailed([FieldError("cause", message)])


def run_name(incident_id: str, run: int) -> str:
    return f"{incident_id}-r{run}"


def _running(incident: Incident, deps: Deps) -> bool:
    from chalicelib.adapters.workflow import execution_arn

    workflows = deps.incident_workflows
    arn = execution_arn(workflows.state_machine_arn, run_name(incident.id, incident.run))
    described = workflows.describe_arn(arn)
    return described is not None and described.get("status") == "RUNNING"


# -- the incident's own tasks (Lambda `incident_tasks`) ----------------------------------------


def task(event: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """What the state machines ask: `take_up` (the lifecycle of the complaint that opened the
    incident), `batches`, `resolve_batch`, `finish` (the incident resolution)."""
    kind = event.get("task")
    incident_id = str(event.get("incidentId") or "")
    if kind == "take_up":
        return take_up(incident_id, deps)
    run = int(event.get("run") or 0)
    if kind == "batches":
        return batches(incident_id, run, deps)
    if kind == "resolve_batch":
        return resolve_batch(incident_id, run, list(event.get("ticketIds") or []), deps)
    if kind == "finish":
        return finish(incident_id, run, list(event.get("results") or []), deps)
    raise ValueError(f"unknown incident task {kind!r}")


def take_up(incident_id: str, deps: Deps) -> dict[str, Any]:
    """Link the window's tickets, tell the department and the CRC once, escalate: each part
    idempotent, so a retried invocation finishes what the last one left."""
    incident = _repo(deps).get(incident_id)
    if incident is None:
        return {"linked": 0}
    policy = deps.rules.mass_complaint
    now = deps.clock()
    tell(incident, deps, now)
    linked = sum(link(incident, ticket_id, deps) for ticket_id in incident.ticket_ids)
    if _repo(deps).take_up(incident.id, policy.escalation_level, now):
        _repo(deps).note(incident.id, {"at": iso(now), "event": "linked", "linked": linked})
    return {"linked": linked}


def tell(incident: Incident, deps: Deps, now: datetime) -> list[str]:
    """`mass_complaint` to the route department and to the CRC (at the escalation level),
    each once whatever the retries (a claim per department on the incident)."""
    level = deps.rules.mass_complaint.escalation_level
    told: list[str] = []
    owner = incident_item_id(incident.id)
    for department in dict.fromkeys(d for d in (incident.route, CRC) if d):
        key = f"mass_complaint:{department}"
        if not deps.notices.claim_once(owner, key, now):
            continue
        try:
            deps.notifier.department(*mass_complaint_notice(incident, department, level, now))
        except Exception:
            deps.notices.release(owner, key)
            raise
        deps.notices.sent(owner, key)
        told.append(department)
    if told:
        _repo(deps).note(incident.id, {"at": iso(now), "event": "told", "departments": told})
    return told


def mass_complaint_notice(
    incident: Incident, department: str, level: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    where = incident.channel + (f" {incident.area}" if incident.area else "")
    body = {
        "eventType": "mass_complaint",
        "incidentId": incident.id,
        "at": iso(now),
        "department": department,
        "level": level,
        "status": incident.status,
        "summary": f"[{incident.category or 'unclassified'}/{incident.phenomenon}] "
        f"{incident.ticket_count} complaints at {where}",
        "links": {"self": f"/incidents/{incident.id}"},
    }
    attributes = {
        "eventType": "mass_complaint",
        "department": department,
        "level": level,
        "severity": "high",
        "incidentId": incident.id,
    }
    return body, attributes


def link(incident: Incident, ticket_id: str, deps: Deps) -> bool:
    """Put one of the window's tickets on the incident (`incidentId`, priority `urgent` if still
    open), recorded in its history; False when it is already (or on another incident)."""

    def attempt() -> bool | None:
        ticket = deps.repo.get(ticket_id, consistent=True)
        if ticket is None or ticket.incident_id is not None:
            return False
        now = deps.clock()
        after = ticket.with_changes(
            incident_id=incident.id,
            priority=ticket.priority if ticket.closed else "urgent",
            updated_at=now,
        )
        event = HistoryEvent(
            at=now,
            actor="incident",
            role="system",
            action="incident_linked",
            from_status=ticket.status,
            to_status=ticket.status,
            details={"incidentId": incident.id},
            version=ticket.version + 1,
        )
        due_at = agenda.next_due_of(after, deps.rules)
        stored = deps.repo.save_change(ticket, after, event, None, due_at=due_at)
        if stored is None:
            return None
        notifications.state_changed(stored, "incident_linked", deps)
        return True

    return until_settled(attempt, attempts=ATTEMPTS, sleep=deps.sleep, give_up=lambda: False)


def batches(incident_id: str, run: int, deps: Deps) -> dict[str, Any]:
    incident = _repo(deps).get(incident_id)
    ids = list(incident.ticket_ids) if incident is not None else []
    return {
        "incidentId": incident_id,
        "run": run,
        "batches": [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)],
    }


def resolve_batch(incident_id: str, run: int, ticket_ids: list[str], deps: Deps) -> dict[str, Any]:
    """Resolve each ticket of the batch; what happened to each, counted."""
    incident = _repo(deps).get(incident_id)
    if incident is None or incident.resolution is None:
        raise ValueError(f"incident {incident_id} has no resolution to apply")
    outcomes: Counter[str] = Counter()
    for ticket_id in ticket_ids:
        outcomes[resolve_one(incident, ticket_id, deps)] += 1
    return dict(outcomes)


def resolve_one(incident: Incident, ticket_id: str, deps: Deps) -> str:
    """Bring one ticket to the reply step with the incident's resolution, through the actions'
    own path: reviewed and dispatched to the route department first if it had not reached a
    department, then resolved. `done` when it is past the department step already."""
    resolution = incident.resolution or {}
    by = str(resolution.get("by") or "incident")
    request = f"incident-{incident.id}"
    note = f"mass complaint {incident.id}"
    for _ in range(len(OPEN_STEPS) * 2):
        ticket = deps.repo.get(ticket_id, consistent=True)
        if ticket is None:
            return "missing"
        if ticket.closed or ticket.step not in OPEN_STEPS:
            return "done"
        action, body, principal = _next_action(ticket, incident, resolution, by, note, deps)
        try:
            actions.perform(Caller(principal, request), ticket_id, action, body, None, deps)
        except Conflict as err:
            if err.code in ("action_not_allowed", "stale_version"):
                continue  # it moved meanwhile: read again and decide
            return f"skipped_{err.code}"  # e.g. fields a dispatch needs: left to a person
        except ValidationFailed:
            return "skipped_validation"
        if action == "resolve":
            return "resolved"
    raise RuntimeError(f"ticket {ticket_id} did not settle")


def _next_action(
    ticket: Ticket,
    incident: Incident,
    resolution: dict[str, Any],
    by: str,
    note: str,
    deps: Deps,
) -> tuple[str, dict[str, Any], Principal]:
    manager = Principal(f"incident:{incident.id}", by, ("complaint_manager",))
    if ticket.step == "review":
        return "review", {"valid": True, "opinion": note}, manager
    if ticket.step == "dispatch":
        department = incident.route or ticket.route or CRC
        return "dispatch", {"department": department, "note": note}, manager
    body: dict[str, Any] = {
        "cause": str(resolution.get("cause")),
        "result": str(resolution.get("result")),
    }
    if resolution.get("script"):  # what the desk tells each customer at the reply
        body["answerScript"] = str(resolution["script"])
    if lateness(ticket, deps.clock()) is not None:
        body["overdueReason"] = f"resolved with {note}"
    holder = Principal(f"incident:{incident.id}", by, ("complaint_admin",), ticket.department)
    return "resolve", body, holder


def finish(incident_id: str, run: int, results: list[Any], deps: Deps) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for result in results:
        if isinstance(result, dict):
            totals.update({k: int(v) for k, v in result.items() if isinstance(v, int)})
    summary = dict(totals)
    _repo(deps).finish(incident_id, run, summary, deps.clock())
    return {"incidentId": incident_id, "run": run, **summary}


# -- publishing a bulletin from an incident ---------------------------------------------------


def publish_bulletin(
    caller: Caller, incident_id: str, body: Any, idempotency_key: str | None, deps: Deps
) -> tuple[Any, bool]:
    """POST /incidents/{id}/bulletin: a bulletin about the incident's fault, so intake answers
    the next such complaints on the spot. The body is `POST /bulletins`'s; what it leaves out
    comes from the incident — `type` fault, `phenomena` the incident's, `areas` its counter's
    area (a hotline incident has none: the body names them), `startsAt` now. The bulletin
    belongs to the incident's route department (which may then amend and close it), whoever
    publishes it. The incident's timeline records the bulletin. Only the publishers' roles (403); then the body (400); then
    the incident in the caller's scope (404)."""
    from chalicelib.domain.shapes.bulletins import IncidentBulletinBody

    from . import bulletins

    require_role(caller.principal, bulletins.WRITE_ROLES)
    shapes.parse(IncidentBulletinBody, body, catalog=deps.rules.catalog)
    incident = _load(caller, incident_id, deps, READ_ROLES)
    given = {k: v for k, v in body.items() if v is not None}  # a JSON object: parsed above
    defaults: dict[str, Any] = {
        "type": "fault",
        "phenomena": [incident.phenomenon],
        "startsAt": iso(deps.clock()),
    }
    if incident.area:
        defaults["areas"] = [incident.area]
    bulletin, replayed = bulletins.publish_once(
        {**defaults, **given}, caller, idempotency_key, deps, department=incident.route
    )
    if not replayed:
        event = {"at": iso(bulletin.created_at), "event": "bulletin", "bulletinId": bulletin.id}
        try:
            _repo(deps).note(incident.id, event)
        except Exception:  # the bulletin stands; the timeline only misses its line
            logger.exception("recording a bulletin on its incident failed")
    return bulletin, replayed
