"""complaint-tickets: the Chalice app. Routes only parse, authorize, call one service, render."""

from __future__ import annotations

import threading
from typing import Any

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

from chalicelib import telemetry
from chalicelib.api import edges, http
from chalicelib.api.http import ANY_CONTENT, endpoint
from chalicelib.domain.lifecycle import ACTIONS
from chalicelib.logs import logger


class _Chalice(Chalice):
    """Chalice keeps the current request on the app object; keep it per thread instead, so the
    threaded local server and concurrent tests never see another request's headers."""

    _local = threading.local()

    @property  # type: ignore[override]
    def current_request(self) -> Any:
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._local.request = value


app = _Chalice(app_name="complaint-tickets")
app.log.setLevel("WARNING")

# API Gateway validates Cognito tokens before the Lambda runs and passes their claims on; every
# route but /health and /openapi.json has the authorizer, always (locally, infra/local_auth.py
# plays API Gateway's part).
AUTH = CognitoUserPoolAuthorizer(
    "CognitoAuth", provider_arns=["arn:aws:cognito-idp:region:account:userpool/filled-by-infra"]
)
# Packaged as a CloudFormation Fn::Sub, so the stack's own queue is the event source
# (infra/template.json names it `<stack>-task-tokens`).
TASK_TOKEN_QUEUE = "${AWS::StackName}-task-tokens"


def _audited(action: str) -> Any:
    """Refused attempts (401/403/404/409) on the routes about tickets are audited as `action`."""
    return http.audited(action, lambda: app.current_request)


def _services() -> Any:
    from chalicelib.services import context

    return context.deps()


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/openapi.json", methods=["GET"])
@endpoint
def openapi() -> Response:
    """The OpenAPI document, no token needed; `servers` names the URL it was fetched from."""
    from chalicelib.api.openapi import document

    req = app.current_request
    headers = {k.lower(): v for k, v in (req.headers or {}).items()}
    ctx = req.context or {}
    host = headers.get("host") or ctx.get("domainName")
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip()
    scheme = proto or ("https" if ctx.get("domainName") else "http")
    stage = ctx.get("stage")
    url = f"{scheme}://{host}" + (f"/{stage}" if stage else "") if host else None
    return http.json_response(document(url))


@app.route("/tickets", methods=["POST"], content_types=ANY_CONTENT, authorizer=AUTH)
@endpoint
@_audited("create")
def create_ticket() -> Response:
    from chalicelib.services import tickets

    req = app.current_request
    caller = http.caller(req)
    body = http.read_json(req)
    created = tickets.create_ticket(caller, body, http.header(req, "Idempotency-Key"), _services())
    t = created.ticket
    headers = {"Location": f"/tickets/{t.id}", "ETag": http.etag(t.version)}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        telemetry.count("TicketsCreated")
    return http.json_response(t.to_api(not caller.principal.sees_contact_details), 201, headers)


@app.route("/tickets", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("list")
def list_tickets() -> Response:
    from chalicelib.services import tickets

    req = app.current_request
    return http.json_response(tickets.list_tickets(http.caller(req), http.query(req), _services()))


@app.route("/tickets/{ticket_id}", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("read")
def get_ticket(ticket_id: str) -> Response:
    from chalicelib.services import tickets

    caller = http.caller(app.current_request)
    t = tickets.get_ticket(caller, ticket_id, _services())
    view = t.to_api(not caller.principal.sees_contact_details)
    return http.json_response(view, headers={"ETag": http.etag(t.version)})


@app.route("/tickets/{ticket_id}/history", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("read_history")
def ticket_history(ticket_id: str) -> Response:
    from chalicelib.services import tickets

    items = tickets.history(http.caller(app.current_request), ticket_id, _services())
    return http.json_response({"items": items})


@app.route("/customers/{service_number}/tickets", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("list_customer")
def customer_tickets(service_number: str) -> Response:
    from chalicelib.services import tickets

    req = app.current_request
    result = tickets.customer_tickets(
        http.caller(req), http.path_value(service_number), http.query(req), _services()
    )
    return http.json_response(result)


@app.route("/audit", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("read_audit")
def audit() -> Response:
    from chalicelib.services import tickets

    req = app.current_request
    return http.json_response(tickets.query_audit(http.caller(req), http.query(req), _services()))


@app.route("/catalog", methods=["GET"], authorizer=AUTH)
@endpoint
def get_catalog() -> Response:
    from chalicelib.services import catalog

    return http.json_response(catalog.get_catalog(http.caller(app.current_request), _services()))


@app.route("/catalog/classify", methods=["POST"], content_types=ANY_CONTENT, authorizer=AUTH)
@endpoint
def classify() -> Response:
    from chalicelib.services import catalog

    req = app.current_request
    caller = http.caller(req)
    return http.json_response(catalog.classify_text(caller, http.read_json(req), _services()))


@app.route("/sla/preview", methods=["GET"], authorizer=AUTH)
@endpoint
def sla_preview() -> Response:
    from chalicelib.services import catalog

    req = app.current_request
    return http.json_response(catalog.sla_preview(http.caller(req), http.query(req), _services()))


def _action_view(action: str) -> Any:
    def view(ticket_id: str) -> Response:
        from chalicelib.services import actions

        req = app.current_request
        caller = http.caller(req)
        expected = http.if_match(req)
        body = http.read_json(req, allow_empty=True)
        masked = not caller.principal.sees_contact_details
        if action == "appeal":  # a new, linked ticket: 201 with its Location (API.md)
            key = http.header(req, "Idempotency-Key")
            created = actions.appeal(caller, ticket_id, body, key, expected, _services())
            new = created.ticket
            headers = {"Location": f"/tickets/{new.id}", "ETag": http.etag(new.version)}
            if created.replayed:
                headers["Idempotent-Replayed"] = "true"
            return http.json_response(new.to_api(masked), 201, headers)
        t = actions.perform(caller, ticket_id, action, body, expected, _services())
        if action == "escalate":
            telemetry.count("Escalations")
        view = t.to_api(masked)
        return http.json_response(view, headers={"ETag": http.etag(t.version)})

    view.__name__ = view.__qualname__ = f"{action}_ticket"
    view.__doc__ = f"POST /tickets/{{id}}/{action}: a lifecycle action (see API.md)."
    return view


for _action in ACTIONS:
    app.route(
        f"/tickets/{{ticket_id}}/{_action}",
        methods=["POST"],
        content_types=ANY_CONTENT,
        authorizer=AUTH,
    )(endpoint(_audited(_action)(_action_view(_action))))


@app.route("/tickets/{ticket_id}/workflow", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("read_workflow")
def ticket_workflow(ticket_id: str) -> Response:
    from chalicelib.services import workflow_view

    req = app.current_request
    return http.json_response(workflow_view.describe(http.caller(req), ticket_id, _services()))


@app.route(
    "/tickets/{ticket_id}/workflow/restart",
    methods=["POST"],
    content_types=ANY_CONTENT,
    authorizer=AUTH,
)
@endpoint
@_audited("restart_workflow")
def restart_workflow(ticket_id: str) -> Response:
    from chalicelib.services import operations

    req = app.current_request
    restarted = operations.restart(http.caller(req), ticket_id, _services())
    return http.json_response(restarted, 202)


@app.route("/operations/executions", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("list_executions")
def list_executions() -> Response:
    from chalicelib.services import operations

    req = app.current_request
    return http.json_response(operations.executions(http.caller(req), http.query(req), _services()))


@app.route("/blacklist", methods=["GET"], authorizer=AUTH)
@endpoint
def list_blacklist() -> Response:
    from chalicelib.services import blacklist

    req = app.current_request
    return http.json_response(blacklist.page(http.caller(req), http.query(req), _services()))


@app.route(
    "/blacklist/{service_number}", methods=["PUT"], content_types=ANY_CONTENT, authorizer=AUTH
)
@endpoint
def put_blacklist(service_number: str) -> Response:
    from chalicelib.services import blacklist

    req = app.current_request
    caller = http.caller(req)
    entry = blacklist.add(caller, http.path_value(service_number), http.read_json(req), _services())
    return http.json_response(entry)


@app.route("/blacklist/{service_number}", methods=["DELETE"], authorizer=AUTH)
@endpoint
def delete_blacklist(service_number: str) -> Response:
    from chalicelib.services import blacklist

    number = http.path_value(service_number)
    blacklist.remove(http.caller(app.current_request), number, _services())
    return Response(body="", status_code=204)


# -- issue 11: fault and planned-work bulletins (services/bulletins.py) ----------------------


def _bulletin_response(bulletin: Any, status: int = 200) -> Response:
    headers = {"ETag": http.etag(bulletin.version)}
    if status == 201:
        headers["Location"] = f"/bulletins/{bulletin.id}"
    return http.json_response(bulletin.to_api(_services().clock()), status, headers)


@app.route("/bulletins", methods=["POST"], content_types=ANY_CONTENT, authorizer=AUTH)
@endpoint
@_audited("bulletin_publish")
def publish_bulletin() -> Response:
    from chalicelib.services import bulletins

    req = app.current_request
    key = http.header(req, "Idempotency-Key")
    created, replayed = bulletins.publish_once(
        http.read_json(req), http.caller(req), key, _services()
    )
    response = _bulletin_response(created, 201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@app.route("/bulletins", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("bulletin_list")
def list_bulletins() -> Response:
    from chalicelib.services import bulletins

    req = app.current_request
    return http.json_response(bulletins.page(http.caller(req), http.query(req), _services()))


@app.route("/bulletins/{bulletin_id}", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("bulletin_read")
def get_bulletin(bulletin_id: str) -> Response:
    from chalicelib.services import bulletins

    found = bulletins.get(http.caller(app.current_request), bulletin_id, _services())
    return _bulletin_response(found)


@app.route(
    "/bulletins/{bulletin_id}", methods=["PATCH"], content_types=ANY_CONTENT, authorizer=AUTH
)
@endpoint
@_audited("bulletin_amend")
def amend_bulletin(bulletin_id: str) -> Response:
    from chalicelib.services import bulletins

    req = app.current_request
    caller, expected = http.caller(req), http.if_match(req)
    amended = bulletins.amend(caller, bulletin_id, http.read_json(req), expected, _services())
    return _bulletin_response(amended)


@app.route(
    "/bulletins/{bulletin_id}/close",
    methods=["POST"],
    content_types=ANY_CONTENT,
    authorizer=AUTH,
)
@endpoint
@_audited("bulletin_close")
def close_bulletin(bulletin_id: str) -> Response:
    from chalicelib.services import bulletins

    req = app.current_request
    caller, expected = http.caller(req), http.if_match(req)
    body = http.read_json(req, allow_empty=True)
    closed = bulletins.close(caller, bulletin_id, body, expected, _services())
    return _bulletin_response(closed)


# -- issue 12 items 4-5 (cases): the case library and the per-agent report ---------------------


@app.route("/cases", methods=["GET"], authorizer=AUTH)
@endpoint
def list_cases() -> Response:
    from chalicelib.services import library

    req = app.current_request
    return http.json_response(library.list_cases(http.caller(req), http.query(req), _services()))


@app.route("/cases", methods=["POST"], content_types=ANY_CONTENT, authorizer=AUTH)
@endpoint
def add_case() -> Response:
    from chalicelib.services import library

    req = app.current_request
    case = library.add_case(http.caller(req), http.read_json(req), _services())
    return http.json_response(case, 201, {"Location": f"/cases/{case['id']}"})


@app.route("/cases/{case_id}", methods=["GET"], authorizer=AUTH)
@endpoint
def get_case(case_id: str) -> Response:
    from chalicelib.services import library

    req = app.current_request
    return http.json_response(
        library.get_case(http.caller(req), http.path_value(case_id), _services())
    )


@app.route("/tickets/{ticket_id}/cases", methods=["GET"], authorizer=AUTH)
@endpoint
@_audited("read_cases")
def ticket_cases(ticket_id: str) -> Response:
    from chalicelib.services import library

    req = app.current_request
    return http.json_response(library.ticket_cases(http.caller(req), ticket_id, _services()))


@app.route("/reports/agents", methods=["GET"], authorizer=AUTH)
@endpoint
def agents_report() -> Response:
    from chalicelib.services import library

    req = app.current_request
    return http.json_response(library.agents_report(http.caller(req), http.query(req), _services()))


# -- issue 12 (KPIs): reports read the counters the aggregator keeps (decision 0018) ----------
REPORT_TYPES = ("application/json", "text/csv")


def _not_acceptable(offered: tuple[str, ...]) -> Response:
    return http.problem(
        406,
        "Not acceptable",
        f"this report is available as {', '.join(offered)}",
        slug="not-acceptable",
        extra={"code": "not_acceptable"},
    )


@app.route("/reports/kpis", methods=["GET"], authorizer=AUTH)
@endpoint
def kpi_report() -> Response:
    from chalicelib.api.negotiation import choose
    from chalicelib.services import kpis

    req = app.current_request
    deps = _services()
    q = kpis.query(http.caller(req), http.query(req), deps)
    media = choose(http.header(req, "Accept"), REPORT_TYPES)
    if media is None:
        return _not_acceptable(REPORT_TYPES)
    result = kpis.build(q, deps)
    if media == "text/csv":
        from chalicelib.domain.kpis import to_csv

        name = f"kpis-{result['from']}-{result['to']}.csv"
        headers = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Vary": "Accept",
        }
        return Response(body=to_csv(result), status_code=200, headers=headers)
    return http.json_response(result, headers={"Vary": "Accept"})


@app.route("/reports/kpis.svg", methods=["GET"], authorizer=AUTH)
@endpoint
def kpi_chart() -> Response:
    from chalicelib.api.kpi_chart import render
    from chalicelib.api.negotiation import choose
    from chalicelib.services import kpis

    req = app.current_request
    deps = _services()
    q = kpis.query(http.caller(req), http.query(req), deps)
    if choose(http.header(req, "Accept"), ("image/svg+xml",)) is None:
        return _not_acceptable(("image/svg+xml",))
    svg = render(kpis.build(q, deps))
    headers = {"Content-Type": "image/svg+xml; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    return Response(body=svg, status_code=200, headers=headers)


# -- issue 11: incidents (mass complaints) ----------------------------------------------------


@app.route("/incidents", methods=["GET"], authorizer=AUTH)
@endpoint
def list_incidents() -> Response:
    from chalicelib.services import incidents

    req = app.current_request
    return http.json_response(
        incidents.list_incidents(http.caller(req), http.query(req), _services())
    )


@app.route("/incidents/{incident_id}", methods=["GET"], authorizer=AUTH)
@endpoint
def get_incident(incident_id: str) -> Response:
    from chalicelib.services import incidents

    caller = http.caller(app.current_request)
    return http.json_response(
        incidents.get_incident(caller, http.path_value(incident_id), _services())
    )


@app.route(
    "/incidents/{incident_id}/resolve",
    methods=["POST"],
    content_types=ANY_CONTENT,
    authorizer=AUTH,
)
@endpoint
def resolve_incident(incident_id: str) -> Response:
    from chalicelib.services import incidents

    req = app.current_request
    started = incidents.request_resolution(
        http.caller(req), http.path_value(incident_id), http.read_json(req), _services()
    )
    return http.json_response(started, 202)


@app.route(
    "/incidents/{incident_id}/bulletin",
    methods=["POST"],
    content_types=ANY_CONTENT,
    authorizer=AUTH,
)
@endpoint
@_audited("bulletin_publish")
def publish_incident_bulletin(incident_id: str) -> Response:
    from chalicelib.services import incidents

    req = app.current_request
    created, replayed = incidents.publish_bulletin(
        http.caller(req),
        http.path_value(incident_id),
        http.read_json(req),
        http.header(req, "Idempotency-Key"),
        _services(),
    )
    response = _bulletin_response(created, 201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# Every path gets its CORS preflight and its 405s, from the route table above (chalicelib/api/
# edges.py); every HTTP response gets the CORS headers.
edges.complete_routes(app)
app.register_middleware(edges.cors_middleware, "http")


@app.on_sqs_message(queue=TASK_TOKEN_QUEUE, batch_size=10)
@telemetry.traced
def handle_task_token(event: Any) -> None:
    """The lifecycle's human steps send their callback tokens here (never to clients)."""
    import json

    from chalicelib.services import workflow_events

    for record in event:
        outcome = workflow_events.on_task_token(json.loads(record.body), _services())
        logger.info("task token", extra={"outcome": outcome})


@app.lambda_function(name="escalate_step")
@telemetry.traced
def escalate_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Called by the lifecycle state machine when a step's callback times out."""
    from chalicelib.services import workflow_events

    result = workflow_events.escalate_step(event, _services())
    if int(result.get("escalation", 0)) > int(event.get("escalation") or 0):
        telemetry.count("Escalations")
    return result


def _bulletin_notices() -> int:
    """Deliver the intake notices of bulletins whose publish failed (never fails the sweep)."""
    from chalicelib.services import bulletins

    try:
        return bulletins.deliver_pending(_services())
    except Exception:
        logger.exception("delivering pending bulletin notices failed")
        return 0


@app.lambda_function(name="incident_tasks")
@telemetry.traced
def incident_tasks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Called by the lifecycle (take an opened incident up) and the incident-resolution state
    machine (list batches, resolve a batch, finish) — issue 11."""
    from chalicelib.services import incidents

    return incidents.task(event, _services())


@app.schedule(Rate(5, unit=Rate.MINUTES))
@telemetry.traced
def sweep(event: Any) -> dict[str, Any]:
    """Chase what is due: warnings, reminders, breaches, stranded lifecycles (services/sweep)."""
    from chalicelib.services import sweep as sweeping

    result = sweeping.run(_services())
    result["bulletin_notices"] = _bulletin_notices()  # issue 11: the bulletins' outbox
    logger.info("sweep finished", extra=result)
    telemetry.sweep_outcomes(result)
    return result


# -- issue 12 (KPIs): the aggregator of the ticket-events topic (decision 0018) ----------------
# Packaged as a CloudFormation Fn::Sub like the task-token queue: the stack's own queue, subscribed
# to the ticket-events topic with raw message delivery.
KPI_EVENTS_QUEUE = "${AWS::StackName}-kpi-events"


@app.on_sqs_message(queue=KPI_EVENTS_QUEUE, batch_size=10)
@telemetry.traced
def aggregate_kpis(event: Any) -> dict[str, Any]:
    """Counts each ticket event once; answers the messages that failed (partial batch response,
    `ReportBatchItemFailures` on the event source mapping): only those are redelivered."""
    from chalicelib.services import kpis

    records = [(record.to_dict()["messageId"], record.body) for record in event]
    failed = kpis.aggregate(records, _services())
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}
