"""The route table: one declaration per HTTP operation of app.py, from which ``openapi.py`` builds
the OpenAPI document.

Each ``Operation`` names its view (the Chalice view function's name in app.py, the operationId),
the roles the service enforces (its own constant, never retyped), the request models of
``chalicelib.domain.shapes`` it validates with, the response model of ``views`` (or the ticket's,
``tickets.ticket_view_model``), response headers and the 409 codes it can answer. The lifecycle
actions are generated from ``lifecycle.RULES`` and ``shapes.ACTION_BODIES``.
tests/unit/test_openapi.py checks the table against app.routes, the services and the deciders.

Adding a route: declare it in app.py, then add an ``Operation`` to ``operations()`` below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel

from chalicelib.domain import shapes
from chalicelib.domain.bulletins import MAX_AMENDMENTS
from chalicelib.domain.lifecycle import (
    ACTIONS,
    DUTY_ROLES,
    FIELD_ROLES,
    FLAG_ROLES,
    MAX_PENDING_REQUESTS,
    MAX_TRANSFERS,
    RULES,
    STEP_STATUS,
)
from chalicelib.domain.tickets import ticket_view_model
from chalicelib.domain.vocabulary import ROLES
from chalicelib.services import blacklist, bulletins, incidents, tickets, workflow_view
from chalicelib.services.kpis import REPORT_ROLES
from chalicelib.services.operations import OPERATIONS_ROLES

from . import views

PUBLIC = None  # roles of an operation that needs no token


@dataclass(frozen=True)
class Operation:
    """One HTTP operation as the document shows it."""

    method: str  # lower case: get, post, put, delete
    path: str  # as app.py declares it: /tickets/{ticket_id}
    operation_id: str  # the Chalice view function's name
    tag: str
    summary: str
    description: str
    roles: tuple[str, ...] | None  # None: public, no token
    response: type[BaseModel] | None  # None: no body (status 204) or `response_schema`
    status: int = 200
    response_description: str = "OK."
    response_schema: dict[str, Any] | None = None  # a plain schema instead of a model
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()  # names of PATH_PARAMETERS, in path order
    request_headers: tuple[str, ...] = ()  # names of REQUEST_HEADERS
    headers: tuple[str, ...] = ()  # response headers, names of RESPONSE_HEADERS
    errors: tuple[int, ...] = ()  # more problem statuses than the defaults (see openapi.py)
    conflicts: tuple[str, ...] = ()  # the 409 codes, keys of CONFLICTS
    extensions: dict[str, Any] = field(default_factory=dict)
    # issue 12 (KPIs): other types the 200 answers with, by `Accept` ((media type, schema), ...)
    other_media: tuple[tuple[str, dict[str, Any]], ...] = ()


# Every 409 code, explained once; operations list the ones they can answer.
CONFLICTS: dict[str, str] = {
    "action_not_allowed": "The ticket is closed or not at a step this action is allowed at; "
    "`detail` names the actions allowed now. Right after a change the workflow may not have "
    "reached the next step yet: retry shortly.",
    "stale_version": "`If-Match` is not the ticket's current version, or the ticket kept "
    "changing: reload it and decide again.",
    "not_your_department": "The only roles of the user that allow this action are department-scoped "
    "(`department`, `complaint_admin`), and another department holds the ticket now: those roles "
    "count only inside the user's department, whatever other roles the user has.",
    "returned_to_dispatcher": "A returned ticket goes back to whoever dispatched it: only they, "
    "or a complaint manager, re-dispatch it.",
    "missing_required_fields": "The phenomenon's required dispatch fields are not all answered; "
    "`errors` lists each as `fields.<name>`. Add them with `note` (`fields`).",
    "same_department": "The ticket is already with that department.",
    "too_many_transfers": f"A ticket is transferred at most {MAX_TRANSFERS} times.",
    "no_backward_flow": "Tickets never go back to a department they left, unless a complaint "
    "manager sends them.",
    "nothing_to_reply": "A reply needs a resolution, or an answer given at intake.",
    "no_department": "An unsatisfied revisit re-dispatches to the department that resolved the "
    "ticket, and there is none.",
    "no_reply": "A ticket is archived only after its reply.",
    "no_revisit": "Archiving without a revisit needs a `noRevisitReason`.",
    "idempotency_key_reused": "This `Idempotency-Key` was already used (by the same user) with "
    "another body.",
    "workflow_running": "The ticket's execution is running: there is nothing to restart.",
    "ticket_closed": "The ticket is closed: its lifecycle has no step left to wait at.",
    "retry": "The earlier record of this `Idempotency-Key` expired while the request was checked: "
    "send it again.",
    # issue 10 part B (flows)
    "too_late_to_withdraw": "A withdrawal is possible only while the ticket waits at review, "
    "dispatch or the department (before it is resolved).",
    "too_many_requests": f"The ticket already has {MAX_PENDING_REQUESTS} requests waiting for a "
    "senior's decision.",
    "request_not_pending": "No pending request with that `requestId` on the ticket: it was "
    "already decided, or never made.",
    "not_replied": "An appeal is accepted only on a replied, revisited or archived ticket.",
    # part C (issue 10)
    "not_emergency": "The ticket is not an emergency (never was, or was downgraded): there is no "
    "emergency to re-judge and no pre-authorised action to record.",
    # issue 11: bulletins
    "bulletin_closed": "The bulletin is closed: closing is final; publish a new bulletin.",
    "too_many_amendments": f"A bulletin keeps at most {MAX_AMENDMENTS} amendments in its "
    "history (fewer when its item nears DynamoDB's 400 KB): publish a new bulletin.",
    # issue 12 items 4-5 (cases)
    "nothing_to_rate": "A review's `mistakes` name a stage nobody did on this ticket (`of: "
    "dispatch` before any dispatch); `errors` names `mistakes[i].of`.",
    "own_work": "A reviewer does not rate their own intake or dispatch; `errors` names "
    "`mistakes[i].of`.",
    # issue 11: incidents
    "incident_resolved": "The incident is resolved already: its tickets went to the reply step.",
    "resolution_running": "The incident's resolution is under way (or another request started "
    "it a moment ago): wait for it; after a failed run, POST again resumes it.",
}
# Every action can meet these (actions.perform and lifecycle.decide).
COMMON_CONFLICTS = ("action_not_allowed", "stale_version")
# Actions that create a ticket (issue 10 part B): 201, Location, Idempotency-Key.
CREATING_ACTIONS = ("appeal",)


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"`{r}`" for r in roles)


# Who may do each part of a note (lifecycle.DUTY_ROLES, FIELD_ROLES, FLAG_ROLES): a refused part
# is a 403, never dropped silently.
_NOTE_PARTS = (
    "Each part of a note needs its own role, besides `note`'s (a 403 names the part refused; "
    "`department` and `complaint_admin` count only on a ticket their department holds now, and "
    "note only those, else 409 `not_your_department`): "
    f"`fields` {_roles(FIELD_ROLES)}; "
    + "; ".join(f"`duty: {d}` {_roles(r)}" for d, r in DUTY_ROLES.items())
    + f"; `flags` (escalation criteria) {_roles(FLAG_ROLES)}."
)


class ActionDoc(NamedTuple):
    summary: str
    effect: str
    conflicts: tuple[str, ...] = ()  # besides COMMON_CONFLICTS


ACTION_DOCS: dict[str, ActionDoc] = {
    "review": ActionDoc(
        "Review a ticket",
        "The senior's second review. `valid: true` sends it to dispatch, optionally correcting "
        "its category or phenomenon (which re-routes it) and adding required fields; "
        "`valid: false` (with a `reason`) cancels it, and with `unreasonable: true` rejects it.",
    ),
    "dispatch": ActionDoc(
        "Dispatch a ticket",
        "Sends the ticket to a department (its `accept` step), optionally at another SLA "
        "level, which moves its deadlines. The department is notified (`dispatched`).",
        ("returned_to_dispatcher", "missing_required_fields"),
    ),
    "accept": ActionDoc(
        "Accept a dispatched ticket",
        "The department takes the ticket on; it moves to `handle`. No body is needed.",
        ("not_your_department",),
    ),
    "resolve": ActionDoc(
        "Resolve a ticket",
        "The department records the cause and what was done (`resolution`); the ticket goes to "
        "the desk's `reply` step.",
        ("not_your_department",),
    ),
    "return": ActionDoc(
        "Return a ticket to its dispatcher",
        "The department gives the ticket back to the dispatcher who sent it (never further "
        "back); it waits at `dispatch` again and the CRC is notified (`returned`).",
        ("not_your_department",),
    ),
    "transfer": ActionDoc(
        "Transfer a ticket",
        f"Sends the ticket to another department (at most {MAX_TRANSFERS} transfers, never "
        "back to one it left unless a complaint manager sends it), optionally with its own time "
        "limit for the `accept` step. The new department is notified (`transferred`).",
        ("not_your_department", "same_department", "too_many_transfers", "no_backward_flow"),
    ),
    "reply": ActionDoc(
        "Reply to the customer",
        "Records the answer given to the customer (`reply`); the ticket goes to `revisit`.",
        ("nothing_to_reply",),
    ),
    "revisit": ActionDoc(
        "Record the revisit",
        "Records the customer's satisfaction (`revisit`). Satisfied (or basically) → `archive`; "
        "unsatisfied → back to the department that resolved it (`accept`, `rounds` + 1, "
        "resolution and reply cleared).",
        ("no_department",),
    ),
    "archive": ActionDoc(
        "Archive a ticket",
        "Closes the ticket with its analysis (`closing`); at the `revisit` step only with a "
        "`noRevisitReason`.",
        ("not_your_department", "no_reply", "no_revisit"),
    ),
    "cancel": ActionDoc(
        "Cancel a ticket",
        "Closes a ticket that has not been dispatched yet (`closing`, status `cancelled`).",
    ),
    "note": ActionDoc(
        "Add a note",
        "Supplementary information at any open step; the step does not move. `fields` fills "
        "the phenomenon's required fields (bad values are a 400 naming `fields.<name>`), `duty` "
        "records a duty done (a progress report, the emergency approval form, the leader's "
        "approval) and `flags` adds sensitivity flags, which may escalate the ticket. On an "
        "archived ticket a note is the duty manager's quality check: complaint_manager, text "
        "only.\n\n"
        f"{_NOTE_PARTS}",
        ("not_your_department",),
    ),
    "escalate": ActionDoc(
        "Escalate a ticket",
        "Escalates by hand on the criteria given, at any open step; the step does not move. "
        "The ticket becomes `escalated` (priority at least `high`, `urgent` if it is an "
        "emergency) and the CRC complaint manager is notified.",
    ),
    # issue 10 part B (flows)
    "supplement": ActionDoc(
        "Add a supplementary complaint",
        "Records what the customer adds (补充申诉) on an open ticket; the step does not move. "
        "`fields` fills the phenomenon's required fields as `note` does. With `request: chase` "
        "(追单) or `request: withdraw` (撤单) the request waits for a senior's `decide`: it is "
        "listed in `pendingRequests` under its `requestId` (withdrawals only before the ticket "
        f"is resolved; at most {MAX_PENDING_REQUESTS} waiting).",
        ("too_late_to_withdraw", "too_many_requests"),
    ),
    "decide": ActionDoc(
        "Decide a pending request",
        "A senior approves or refuses a chase or withdrawal request. An approved chase reminds "
        "the holder at once (notification `chase` to the department holding the ticket, else "
        "the CRC); an approved withdrawal cancels the ticket (`closing`, status `cancelled`) "
        "and its workflow ends. Deciding a request twice answers 409.",
        ("request_not_pending", "too_late_to_withdraw"),
    ),
    "appeal": ActionDoc(
        "Appeal a ticket",
        "Creates a new ticket linked to this one (`appealOf`), answered 201 with its Location; "
        "`Idempotency-Key` works as for POST /tickets. Also allowed on an archived ticket. The "
        "appeal is verified at `review` (`valid: false` withdraws it: the customer is replied "
        "the verification result, and it is reported), dispatched with its limit (from "
        "`level`: `major_urgent` 2 h, `ordinary` 2, `complex` 5 business days, or a stricter "
        "rule of its source), replied, reported to management (`appeal_report`) unless the "
        "customer brought it, and archived. Appeals from media, the consumer association, "
        "group HQ, the provincial company and the regulator are escalated.",
        ("not_replied", "idempotency_key_reused", "retry"),
    ),
    # -- part C (issue 10): emergencies
    "judge_emergency": ActionDoc(
        "Re-judge an emergency",
        "The department complaint administrator (or the CRC's complaint manager) confirms the "
        "emergency judged at intake (`confirm: true`) or downgrades it (`confirm: false`): a "
        "downgraded ticket loses `emergency`, its approval-form duties and priority `urgent` "
        "(it stays escalated, priority `high`) and is never made an emergency again. Recorded "
        "as `emergencyJudgement`; the step does not move.",
        ("not_your_department", "not_emergency"),
    ),
    "emergency_action": ActionDoc(
        "Record the pre-authorised emergency action taken",
        "Records which of the six pre-authorised actions was taken on an emergency, with its "
        "`amount` (at most 100000) and a `note`: `points_or_m_value_return`, "
        "`cash_refund_of_charges` and `brand_switch` only where the company is at fault "
        "(`companyAtFault: true`, else 400 naming `companyAtFault`); `credit_limit_change`, "
        "`roaming_or_international_rights`, `topup_card_adjustment` either way. Kept as "
        "`emergencyAction` (the last) and in the history (every one); the approval-form duties "
        "still follow. The step does not move.",
        ("not_your_department", "not_emergency"),
    ),
}

# issue 12 items 4-5 (cases): review rates the junior's work; archive files a case
ACTION_DOCS["review"] = ActionDoc(
    ACTION_DOCS["review"].summary,
    ACTION_DOCS["review"].effect
    + " `mistakes: [{kind, of, note?}]` rates the junior's work (`kind`: `wrong_category`, "
    "`missing_information`, `wrong_department`; `of`: `intake` or `dispatch`): the agent counted "
    "is the ticket's intake agent or its last dispatcher (for an appeal, the original's), never "
    "one the client names; recorded in the history (`mistakes`) and counted per agent and day "
    "(GET /reports/agents).",
    (*ACTION_DOCS["review"].conflicts, "nothing_to_rate", "own_work"),
)
ACTION_DOCS["archive"] = ACTION_DOCS["archive"]._replace(
    effect=ACTION_DOCS["archive"].effect
    + " With `addToCaseLibrary: true` the ticket becomes a case of the library (GET /cases) in "
    "the same write, its personal data removed; the history's `caseId` names it."
)
ACTION_DOCS["return"] = ACTION_DOCS["return"]._replace(
    effect=ACTION_DOCS["return"].effect
    + " A return by the department the last dispatch named counts a mis-transfer for the "
    "dispatcher (GET /reports/agents; history `misTransferOf`)."
)
ACTION_DOCS["transfer"] = ACTION_DOCS["transfer"]._replace(
    effect=ACTION_DOCS["transfer"].effect
    + " A transfer away from the department the last dispatch named, before it resolved the "
    "ticket, counts a mis-transfer for the dispatcher (GET /reports/agents)."
)

_SCOPED = (
    " `department` and `complaint_admin` users see only tickets their department holds or held;"
    " others are answered 404, not 403."
)
_AUDITED = " Each ticket returned is recorded in the audit log."
_LISTED = " New tickets of a listed number are flagged `blacklisted` and escalated."


def _action(action: str, ticket: type[BaseModel]) -> Operation:
    roles, steps = RULES[action]
    doc = ACTION_DOCS[action]
    at = ", ".join(f"`{s}` (status `{STEP_STATUS[s]}`)" for s in steps)
    creates = action in CREATING_ACTIONS  # issue 10 part B: an appeal is a new ticket (201)
    return Operation(
        "post",
        f"/tickets/{{ticket_id}}/{action}",
        f"{action}_ticket",
        "lifecycle",
        doc.summary,
        f"Allowed while the ticket waits at: {at}.\n\n{doc.effect}\n\nAppends to the ticket's "
        "history and the audit log; an action that moves the step completes the workflow's "
        f"callback for it.{_SCOPED}",
        roles,
        ticket,
        status=201 if creates else 200,
        response_description="The new ticket (or, replayed, the one created first)."
        if creates
        else "The ticket as written; the workflow's own changes land a moment later.",
        body=shapes.ACTION_BODIES[action],
        body_required=bool(shapes.ACTION_BODIES[action].model_fields),
        path_params=("ticket_id",),
        request_headers=("If-Match", "Idempotency-Key") if creates else ("If-Match",),
        headers=("Location", "ETag", "Idempotent-Replayed") if creates else ("ETag",),
        errors=(404,),
        conflicts=(*COMMON_CONFLICTS, *doc.conflicts),
        extensions={"x-steps": list(steps)},
    )


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the API, in the document's order."""
    ticket = ticket_view_model()
    ticket_page = views.page_of(ticket, "TicketPage")
    return (
        Operation(
            "get",
            "/health",
            "health",
            "meta",
            "Liveness",
            "No token needed.",
            PUBLIC,
            views.Health,
            response_description="The API is up.",
        ),
        Operation(
            "get",
            "/openapi.json",
            "openapi",
            "meta",
            "This document",
            "The OpenAPI 3.1 document of the API, generated from the route table and the models "
            "that validate requests. No token needed. `servers` names the URL it was fetched "
            "from.",
            PUBLIC,
            None,
            response_description="The document.",
            response_schema={"type": "object"},
        ),
        Operation(
            "post",
            "/tickets",
            "create_ticket",
            "tickets",
            "Create a ticket",
            "Validates the body, classifies it when neither category nor phenomenon is given, "
            "sets its SLA and starts its lifecycle workflow. Recorded in the ticket's history "
            "and the audit log. With an `Idempotency-Key`, a repeat of the same body answers "
            "the first ticket again.",
            tickets.CREATE_ROLES,
            ticket,
            status=201,
            response_description="The created ticket (or, replayed, the one created first).",
            body=shapes.NewTicketBody,
            request_headers=("Idempotency-Key",),
            headers=("Location", "ETag", "Idempotent-Replayed"),
            conflicts=("idempotency_key_reused", "retry"),
        ),
        Operation(
            "get",
            "/tickets",
            "list_tickets",
            "tickets",
            "List tickets",
            "Newest first; filters combine. The range `from`..`to` spans at most 24 months "
            f"(default: the 24 months before `to`, or now).{_SCOPED} Such a user filtering on "
            f"another department gets 404.{_AUDITED}",
            tickets.READ_ROLES,
            ticket_page,
            response_description="A page of tickets.",
            query=shapes.TicketQuery,
            errors=(404,),
        ),
        Operation(
            "get",
            "/tickets/{ticket_id}",
            "get_ticket",
            "tickets",
            "Get a ticket",
            f"The ticket with its version as ETag.{_SCOPED} The read is recorded in the audit log.",
            tickets.READ_ROLES,
            ticket,
            response_description="The ticket.",
            path_params=("ticket_id",),
            headers=("ETag",),
            errors=(404,),
        ),
        Operation(
            "get",
            "/tickets/{ticket_id}/history",
            "ticket_history",
            "tickets",
            "A ticket's history",
            f"Every event of the ticket, oldest first.{_SCOPED} The read is recorded in the "
            "audit log.",
            tickets.READ_ROLES,
            views.History,
            response_description="The events.",
            path_params=("ticket_id",),
            errors=(404,),
        ),
        Operation(
            "get",
            "/customers/{service_number}/tickets",
            "customer_tickets",
            "tickets",
            "A customer's tickets",
            "The customer's tickets, newest first (the intake screen: repeats and open "
            f"tickets); ranges as for GET /tickets.{_SCOPED}{_AUDITED}",
            tickets.READ_ROLES,
            ticket_page,
            response_description="A page of tickets.",
            query=shapes.CustomerTicketsQuery,
            path_params=("service_number",),
        ),
        *(_action(a, ticket) for a in ACTIONS),
        Operation(
            "get",
            "/tickets/{ticket_id}/workflow",
            "ticket_workflow",
            "lifecycle",
            "A ticket's workflow execution",
            "The lifecycle execution's ARN and status, the state it is in, the states entered "
            "in order with their times, and failures with their causes (`NOT_STARTED` while it "
            "has none). The read is recorded in the audit log.",
            workflow_view.WORKFLOW_ROLES,
            views.WorkflowView,
            response_description="The execution.",
            path_params=("ticket_id",),
            errors=(404,),
        ),
        Operation(
            "post",
            "/tickets/{ticket_id}/workflow/restart",
            "restart_workflow",
            "operations",
            "Restart a ticket's lifecycle",
            "Starts a fresh execution at the ticket's current step, as the sweep's repair does, "
            "puts the ticket back on the sweep's due-index and clears its sweep failures "
            "(history `workflow_restarted`; the operators' inbox gets `workflow_repaired`). "
            "The restart is recorded in the audit log.",
            OPERATIONS_ROLES,
            views.WorkflowRestarted,
            status=202,
            response_description="Started.",
            body=None,
            path_params=("ticket_id",),
            errors=(404,),
            conflicts=("workflow_running", "ticket_closed", "stale_version"),
        ),
        Operation(
            "get",
            "/operations/executions",
            "list_executions",
            "operations",
            "Executions that need an operator",
            "`FAILED`, `TIMED_OUT` or `ABORTED`: lifecycle executions that ended so, newest "
            "first. `stuck`: tickets the sweep failed at and has not settled since, oldest "
            "first — still retrying (`retryAt`) or set aside after repeated failures "
            "(`setAside`), unreadable ones included. Each links to the ticket's workflow and "
            "its restart. The read is recorded in the audit log.",
            OPERATIONS_ROLES,
            views.ExecutionPage,
            response_description="A page of executions or stuck tickets.",
            query=shapes.ExecutionsQuery,
        ),
        Operation(
            "get",
            "/catalog",
            "get_catalog",
            "catalog",
            "The complaint catalog",
            "Categories with their phenomena (keywords, causes, checks, required fields, route, "
            "SLA level, scripts), departments and the escalation ladder.",
            ROLES,
            views.Catalog,
            response_description="The catalog.",
        ),
        Operation(
            "post",
            "/catalog/classify",
            "classify",
            "catalog",
            "Suggest a category",
            "Ranks the catalog's categories and phenomena against a customer's words, best first.",
            ROLES,
            views.ClassifyResult,
            response_description="Ranked suggestions.",
            body=shapes.ClassifyBody,
        ),
        Operation(
            "get",
            "/sla/preview",
            "sla_preview",
            "sla",
            "Preview a deadline",
            "The deadlines a ticket accepted at `at` (default now) would get under the deployed "
            "SLA policy and business calendar (what the desk promises the customer). The "
            "strictest applicable rule wins; `rule` names it.",
            ROLES,
            views.SlaPreview,
            response_description="The deadlines.",
            query=shapes.SlaPreviewQuery,
        ),
        Operation(
            "get",
            "/blacklist",
            "list_blacklist",
            "blacklist",
            "The complaint blacklist",
            f"Every listed service number, a page at a time.{_LISTED}",
            blacklist.ROLES,
            views.BlacklistPage,
            response_description="A page of entries.",
            query=shapes.PageQuery,
        ),
        Operation(
            "put",
            "/blacklist/{service_number}",
            "put_blacklist",
            "blacklist",
            "List a service number",
            f"Adds the number (normalised), or replaces the reason of its entry.{_LISTED}",
            blacklist.ROLES,
            views.BlacklistEntry,
            response_description="The entry.",
            body=shapes.BlacklistBody,
            path_params=("service_number",),
        ),
        Operation(
            "delete",
            "/blacklist/{service_number}",
            "delete_blacklist",
            "blacklist",
            "Unlist a service number",
            "Removes the number; 404 when it is not listed.",
            blacklist.ROLES,
            None,
            status=204,
            response_description="Removed.",
            path_params=("service_number",),
            errors=(400, 404),
        ),
        *_bulletin_operations(),
        Operation(
            "get",
            "/audit",
            "audit",
            "audit",
            "Query the audit log",
            "Who read or wrote which ticket, newest first: by `ticketId` or `actor` (any range), "
            "or by day (default the last 7 days, at most 31).",
            tickets.AUDIT_ROLES,
            views.AuditPage,
            response_description="A page of audit entries.",
            query=shapes.AuditQuery,
        ),
        *_library_operations(),  # issue 12 items 4-5 (cases)
        # -- issue 12 (KPIs) --
        *_kpi_operations(),
        # -- issue 11: incidents (mass complaints) --
        Operation(
            "get",
            "/incidents",
            "list_incidents",
            "incidents",
            "Mass-complaint incidents",
            "Incidents detected at intake (ten or more complaints of one phenomenon at one "
            "intake interface within 30 minutes: policy data), newest first. A department user "
            "sees only its own department's (the phenomenon's route).",
            incidents.READ_ROLES,
            None,
            response_description="A page of incidents.",
            response_schema={"type": "object"},
            query=shapes.PageQuery,
        ),
        Operation(
            "get",
            "/incidents/{incident_id}",
            "get_incident",
            "incidents",
            "One incident",
            "The incident, its tickets (masked summaries: all of the window's, those before the "
            "threshold included, and later ones that joined), counts by area, channel and "
            "status, and a timeline.",
            incidents.READ_ROLES,
            None,
            response_description="The incident.",
            response_schema={"type": "object"},
            path_params=("incident_id",),
            errors=(404,),
        ),
        Operation(
            "post",
            "/incidents/{incident_id}/resolve",
            "resolve_incident",
            "incidents",
            "Resolve every open ticket of an incident",
            "Records the resolution and starts the incident-resolution workflow: every linked "
            "ticket still at review, dispatch or the department is resolved with it (reviewed "
            "and dispatched to the route department first where needed) and goes to the reply "
            "step, so each customer is still replied to and revisited. A failed run is resumed "
            "by posting again: tickets already resolved are skipped.",
            incidents.RESOLVE_ROLES,
            None,
            status=202,
            response_description="The incident, with the run started.",
            response_schema={"type": "object"},
            body=shapes.ResolveIncidentBody,
            path_params=("incident_id",),
            errors=(404,),
            conflicts=("incident_resolved", "resolution_running"),
        ),
        Operation(
            "post",
            "/incidents/{incident_id}/bulletin",
            "publish_incident_bulletin",
            "incidents",
            "Publish a bulletin from an incident",
            "`POST /bulletins` for the incident's fault: the body is the same, and what it leaves "
            "out comes from the incident (`type` fault, `phenomena` the incident's, `areas` its "
            "counter area, `startsAt` now; a hotline incident has no area: name `areas`). Intake "
            "then answers the next such complaints on the spot; the incident's timeline records "
            "the bulletin. An incident out of the caller's scope is a 404.",
            bulletins.WRITE_ROLES,
            views.Bulletin,
            status=201,
            response_description="The bulletin.",
            body=shapes_bulletins().IncidentBulletinBody,
            path_params=("incident_id",),
            errors=(404,),
            request_headers=("Idempotency-Key",),
            headers=("Location", "ETag", "Idempotent-Replayed"),
            conflicts=("idempotency_key_reused", "retry"),
        ),
    )


def _kpi_operations() -> tuple[Operation, ...]:
    from chalicelib.domain.shapes.reports import KpiQuery

    cohort = (
        "The period is a cohort: the complaints created from `from` to `to` (Asia/Shanghai days, "
        "inclusive, at most 366), with what has happened to them so far. Read from counters "
        "per day × department that an aggregator of the ticket-events topic keeps (each event "
        "counted once): O(days × departments) items, whatever the number of tickets."
    )
    return (
        Operation(
            "get",
            "/reports/kpis",
            "kpi_report",
            "reports",
            "Service KPIs of a period",
            "The training manual's KPIs with their targets (reply rate, on-time reply rate, "
            "repeat rate, satisfaction over all complaints, cross-province and big-customer "
            "satisfaction, invalid-ticket ratio, breaches, escalations by level, transfers, mean "
            "time to reply, bulletin-answered, tickets per incident), overall and per "
            f"department. `Accept: text/csv` gives the same report as CSV. {cohort}",
            REPORT_ROLES,
            views.KpiReport,
            response_description="The report (JSON, or CSV by `Accept`).",
            query=KpiQuery,
            errors=(406,),
            other_media=(("text/csv", {"type": "string"}),),
        ),
        Operation(
            "get",
            "/reports/kpis.svg",
            "kpi_chart",
            "reports",
            "Chart of the service KPIs per department",
            "The period's rates per department (percent) against dashed target lines, as an SVG "
            f"picture drawn with pygal. {cohort}",
            REPORT_ROLES,
            None,
            response_description="An SVG picture.",
            query=KpiQuery,
            errors=(406,),
            other_media=(("image/svg+xml", {"type": "string"}),),
        ),
    )


def _library_operations() -> tuple[Operation, ...]:
    """Issue 12 items 4-5 (cases): the case library and the per-agent report."""
    from chalicelib.services import library

    return (
        Operation(
            "get",
            "/cases",
            "list_cases",
            "cases",
            "Search the case library",
            "Cases newest first. `phenomenon`: that phenomenon's cases (a Query on the library "
            "index, never a scan). `q`: only cases whose title, solution or analysis hold every "
            "word (Chinese matched by its characters: at least half of a word's character pairs). "
            f"`q` without `phenomenon`: the {library.SEARCH_PHENOMENA} phenomena the classifier "
            "(POST /catalog/classify) ranks first for `q` are searched, in that order "
            "(`phenomena` says which). One request examines at most "
            f"{library.MAX_EXAMINED} cases; a page may end early with a `nextCursor`. Cases "
            "hold no personal data.",
            library.READ_CASE_ROLES,
            views.CasePage,
            response_description="A page of cases.",
            query=shapes.CasesQuery,
        ),
        Operation(
            "post",
            "/cases",
            "add_case",
            "cases",
            "Add a solved difficult case",
            "The knowledge base (seed 002): a senior agent or complaint manager adds a solved "
            "case. Numbers, e-mails, a `ticketId`'s customer name and address are removed from "
            "every text before it is stored. A `ticketId` must be a ticket the caller can see "
            "(else 404). Recorded in the audit log (`add_case`).",
            library.CASE_WRITERS,
            views.CaseView,
            status=201,
            response_description="The case as stored.",
            body=shapes.CaseBody,
            headers=("Location",),
            errors=(404,),
        ),
        Operation(
            "get",
            "/cases/{case_id}",
            "get_case",
            "cases",
            "Get a case",
            "One case of the library.",
            library.READ_CASE_ROLES,
            views.CaseView,
            response_description="The case.",
            path_params=("case_id",),
            errors=(404,),
        ),
        Operation(
            "get",
            "/tickets/{ticket_id}/cases",
            "ticket_cases",
            "cases",
            "Top cases for a ticket",
            "What the dispatch and appeal desks consult (seed 004 §5.5): the newest "
            "cases of the ticket's phenomenon, at most 3 (none without a phenomenon). A route of "
            "its own so that GET /tickets/{id} costs what it did: one read of the ticket, one "
            f"Query of 3 items.{_SCOPED} The read is recorded in the audit log.",
            tickets.READ_ROLES,
            views.TicketCases,
            response_description="The top cases.",
            path_params=("ticket_id",),
            errors=(404,),
        ),
        Operation(
            "get",
            "/reports/agents",
            "agents_report",
            "reports",
            "Mistakes and mis-transfers per agent",
            "Per agent over the days `from`..`to` (inclusive, Asia/Shanghai; at most 366): the "
            "mistakes seniors marked at review, by kind and by stage, and mis-transfers (a "
            "dispatch whose department returned the ticket or had it transferred away before "
            "resolving it). `agent` narrows to one agent. Read from per-day counters, one Query "
            "per month: the cost does not grow with the number of tickets.",
            library.REPORT_ROLES,
            views.AgentReport,
            response_description="The report.",
            query=shapes.AgentReportQuery,
        ),
    )


# -- issue 11: bulletins ------------------------------------------------------------------------

_BULLETIN_WRITERS = (
    " A `department` user acts for its own department (another department's bulletin: 403);"
    " the write is recorded in the bulletin's history and the audit log."
)


def _bulletin_operations() -> tuple[Operation, ...]:
    page = views.page_of(views.Bulletin, "BulletinPage")
    return (
        Operation(
            "post",
            "/bulletins",
            "publish_bulletin",
            "bulletins",
            "Publish a bulletin",
            "A fault or planned-work bulletin for the front desk: complaints whose phenomenon (or "
            "a service they name) and `location.area` match it while it is in effect are "
            "answered at intake with its `script` (every intake container within 60 s). Every "
            "intake desk is told at once (`bulletin` notice to `department: intake`; delivered "
            f"by the sweep if the publish fails).{_BULLETIN_WRITERS}",
            bulletins.WRITE_ROLES,
            views.Bulletin,
            status=201,
            response_description="The bulletin.",
            body=shapes_bulletins().NewBulletinBody,
            request_headers=("Idempotency-Key",),
            headers=("Location", "ETag", "Idempotent-Replayed"),
            conflicts=("idempotency_key_reused", "retry"),
        ),
        Operation(
            "get",
            "/bulletins",
            "list_bulletins",
            "bulletins",
            "List bulletins",
            "`active=true`: in effect now, soonest ending first; `active=false`: ended (closed or "
            "expired), latest ended first; absent: all. `area` keeps those covering it. A page "
            "may hold fewer than `limit` items while `nextCursor` is set. Each bulletin "
            "returned is recorded in the audit log.",
            bulletins.READ_ROLES,
            page,
            response_description="A page of bulletins.",
            query=shapes_bulletins().BulletinQuery,
        ),
        Operation(
            "get",
            "/bulletins/{bulletin_id}",
            "get_bulletin",
            "bulletins",
            "Get a bulletin",
            "The bulletin with its history, its version as ETag. The read is recorded in the "
            "audit log.",
            bulletins.READ_ROLES,
            views.Bulletin,
            response_description="The bulletin.",
            path_params=("bulletin_id",),
            headers=("ETag",),
            errors=(404,),
        ),
        Operation(
            "patch",
            "/bulletins/{bulletin_id}",
            "amend_bulletin",
            "bulletins",
            "Amend a bulletin",
            "Extend or shorten its window, amend its title, script or contact; each change is "
            "recorded in its history with before and after. With `If-Match` it applies only to "
            "that version (else 409 `stale_version`); without, to the current one (a "
            f"concurrent amendment is read again, never lost).{_BULLETIN_WRITERS}",
            bulletins.WRITE_ROLES,
            views.Bulletin,
            response_description="The bulletin as written.",
            body=shapes_bulletins().PatchBulletinBody,
            path_params=("bulletin_id",),
            request_headers=("If-Match",),
            headers=("ETag",),
            errors=(404,),
            conflicts=("stale_version", "bulletin_closed", "too_many_amendments"),
        ),
        Operation(
            "post",
            "/bulletins/{bulletin_id}/close",
            "close_bulletin",
            "bulletins",
            "Close a bulletin",
            "It stops answering complaints (at every intake container within 60 s); closing is "
            f"final.{_BULLETIN_WRITERS}",
            bulletins.WRITE_ROLES,
            views.Bulletin,
            response_description="The closed bulletin.",
            body=shapes_bulletins().CloseBulletinBody,
            body_required=False,
            path_params=("bulletin_id",),
            request_headers=("If-Match",),
            headers=("ETag",),
            errors=(404,),
            conflicts=("stale_version", "bulletin_closed"),
        ),
    )


def shapes_bulletins() -> Any:
    from chalicelib.domain.shapes import bulletins as module

    return module
