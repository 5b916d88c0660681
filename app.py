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
    logger.info("sweep finished", extra=result)
    telemetry.sweep_outcomes(result)
    return result
