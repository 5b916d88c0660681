"""The OpenAPI document: valid 3.1, one operation per route of app.py, and each route really
enforces the roles and validates with the models the document names (driven through the Chalice
test client, the AWS dependencies faked)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.adapters.query import Cursors
from chalicelib.api import openapi, views
from chalicelib.api.edges import GENERATED
from chalicelib.api.openapi import REF, document
from chalicelib.api.routes import CONFLICTS
from chalicelib.domain import lifecycle, shapes
from chalicelib.domain.auth import DEPARTMENT_SCOPED, Principal
from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.domain.lifecycle import ACTIONS, RULES, STEP_STATUS
from chalicelib.domain.tickets import Complainant, Ticket
from chalicelib.domain.vocabulary import ROLES
from chalicelib.services.rules import Rules
from infra import local_auth
from tests.conftest import TOKEN_SECRET

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
PUBLIC = {"/health", "/openapi.json"}
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOME = "network"


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document()["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _validator(name: str) -> OAS31Validator:
    """The document's schema `name`, its refs resolved against the document's components."""
    doc = document()
    return OAS31Validator({"$ref": REF.format(model=name), "components": doc["components"]})


def _app_routes() -> dict[tuple[str, str], str]:
    from app import app

    return {
        (path, method.lower()): entry.view_name
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        # generated handlers (CORS preflight, 405) are private views: not operations
        if not getattr(entry.view_function, GENERATED, False)
    }


def test_the_document_is_valid_openapi_3_1_and_cached() -> None:
    doc = document()

    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert document() is doc
    assert "servers" not in doc
    served = document("https://api.example.com/api")
    validate(served)
    assert served["servers"] == [{"url": "https://api.example.com/api"}]
    assert document("http://evil.example/<script>") is doc  # not a plain URL: left out


def test_every_route_is_documented_under_its_view_name_and_nothing_else() -> None:
    routes = _app_routes()
    documented = {(p, m): op["operationId"] for p, m, op in _operations()}

    assert sorted(routes.keys() - documented.keys()) == [], "routes missing from the document"
    assert sorted(documented.keys() - routes.keys()) == [], "documented but not routed"
    assert {k: documented[k] for k in routes} == routes, "operationId != view function name"


def test_every_operation_but_health_and_openapi_is_secured_with_401_and_403() -> None:
    assert "security" not in document()
    for path, _, op in _operations():
        if path in PUBLIC:
            assert "security" not in op and "x-roles" not in op, path
            assert not {"401", "403"} & op["responses"].keys(), path
        else:
            assert op["security"] == [{"bearerAuth": []}], path
            assert {"401", "403"} <= op["responses"].keys(), path


def test_every_body_documents_its_examples_and_they_pass_their_own_model() -> None:
    from chalicelib.catalog import get_catalog

    models = {name: model for model, name in openapi.component_names().items()}
    for path, method, op in _operations():
        if "requestBody" not in op:
            continue
        media = op["requestBody"]["content"]["application/json"]
        model = models[media["schema"]["$ref"].rsplit("/", 1)[1]]
        assert {400, 413, 415} <= {int(s) for s in op["responses"]}, path
        assert media.get("examples"), f"{method.upper()} {path} has no example"
        for example in media["examples"].values():
            shapes.parse(model, example["value"], catalog=get_catalog(), now=NOW)
            _validator(openapi.schema_name(model)).validate(example["value"])  # the schema agrees


def test_every_conflict_code_the_rules_raise_is_documented_where_it_can_happen() -> None:
    from chalicelib.adapters import tickets_repo
    from chalicelib.services import actions, incidents, operations

    def raised(source: Any) -> set[str]:
        return set(re.findall(r'code="(\w+)"', inspect.getsource(source)))

    def codes(op: dict[str, Any]) -> set[str]:
        if "409" not in op["responses"]:
            return set()
        schema = op["responses"]["409"]["content"]["application/problem+json"]["schema"]
        found: list[str] = schema["allOf"][1]["properties"]["code"]["enum"]
        assert all(f"`{c}`" in op["responses"]["409"]["description"] for c in found)
        return set(found)

    by_view = {op["operationId"]: codes(op) for _, _, op in _operations()}
    everywhere = set().union(*by_view.values())
    sources = (lifecycle, actions, tickets_repo, operations, incidents, *_bulletin_sources())
    assert set().union(*map(raised, sources)) == everywhere == set(CONFLICTS)
    assert raised(incidents) <= by_view["resolve_incident"]
    assert raised(operations) <= by_view["restart_workflow"]
    assert raised(tickets_repo) <= by_view["create_ticket"]
    for action in ACTIONS:
        decider = getattr(lifecycle, f"_{action}")
        assert raised(decider) | raised(actions) <= by_view[f"{action}_ticket"], action
    # issue 11: bulletins
    from chalicelib.domain import bulletins as bulletin_rules

    assert raised(bulletin_rules.amend) <= by_view["amend_bulletin"]
    assert raised(bulletin_rules.close) <= by_view["close_bulletin"]


def _bulletin_sources() -> tuple[Any, ...]:
    """Issue 11: the modules that raise the bulletin routes' 409s."""
    from chalicelib.domain import bulletins as bulletin_rules
    from chalicelib.services import bulletins

    return (bulletin_rules, bulletins)


# -- the lifecycle's rules ------------------------------------------------------------------------


def _at(step: str, **changes: Any) -> Ticket:
    """A ticket waiting at `step`, held by HOME, with what any action there needs done."""
    t0 = NOW - timedelta(hours=3)
    ticket = Ticket(
        id="T0001",
        version=3,
        kind="complaint",
        status=STEP_STATUS[step],
        channel="hotline",
        complainant=Complainant("王五", "ordinary", "13800138000", "phone"),
        service_number="13800138000",
        description="家里没有信号",
        created_at=t0,
        updated_at=t0,
        created_by="alice",
        category="basic_communication",
        phenomenon="voice_coverage",
        step=step,
        step_seq=3,
        department=HOME,
        departments=(HOME,),
        resolution={"cause": "weak_coverage", "result": "已优化", "department": HOME},
        reply={"content": "已处理", "method": "phone"},
        revisit={"satisfaction": "satisfied"},
    )
    return replace(ticket, **changes)


def _action_op(action: str) -> dict[str, Any]:
    op: dict[str, Any] = document()["paths"][f"/tickets/{{ticket_id}}/{action}"]["post"]
    return op


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_documents_its_rule_its_body_and_if_match(action: str) -> None:
    op = _action_op(action)
    roles, steps = RULES[action]

    assert (op["x-roles"], op["x-steps"]) == (list(roles), list(steps))
    assert all(f"`{s}` (status `{STEP_STATUS[s]}`)" in op["description"] for s in steps)
    body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body == REF.format(model=openapi.schema_name(shapes.ACTION_BODIES[action]))
    assert op["requestBody"]["required"] is (action != "accept")  # accept needs no body
    if action == "appeal":  # issue 10 part B: an appeal creates a ticket, as POST /tickets
        assert [p["name"] for p in op["parameters"]] == ["ticket_id", "If-Match", "Idempotency-Key"]
        assert set(op["responses"]["201"]["headers"]) == {"Location", "ETag", "Idempotent-Replayed"}
        return
    assert [p["name"] for p in op["parameters"]] == ["ticket_id", "If-Match"]
    assert op["responses"]["200"]["headers"] == {"ETag": {"$ref": "#/components/headers/ETag"}}


@pytest.mark.parametrize("action", ACTIONS)
def test_not_your_department_is_documented_exactly_where_a_department_user_meets_it(
    action: str,
) -> None:
    from chalicelib.catalog import get_catalog

    roles, steps = RULES[action]
    ticket = _at(steps[0], departments=(HOME, "billing_support"))  # visible, held by HOME
    example = _action_op(action)["requestBody"]["content"]["application/json"]["examples"]
    body = next(iter(example.values()))["value"]
    meets_it = False
    for role in (r for r in roles if r in DEPARTMENT_SCOPED):
        who = Principal(f"sub-{role}", role, (role,), "billing_support")
        try:
            lifecycle.decide(action, ticket, who, body, get_catalog(), NOW)
        except Conflict as refused:
            assert refused.code == "not_your_department"
            meets_it = True
        except ValidationFailed:
            pass

    documented = _action_op(action)["responses"]["409"]["content"]["application/problem+json"]
    codes = documented["schema"]["allOf"][1]["properties"]["code"]["enum"]
    assert meets_it == ("not_your_department" in codes)


# -- each route, through the Chalice test client ---------------------------------------------------


class _Recorded(Exception):
    pass


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Client, list[type[BaseModel]], Any]]:
    """The app with faked AWS dependencies; `shapes.parse` records the model it is asked to
    validate with, then refuses (400), so no route goes further than its validation."""
    from app import app
    from chalicelib.services import context

    used: list[type[BaseModel]] = []

    def parse(model: type[BaseModel], data: Any, **ctx: Any) -> Any:
        used.append(model)
        raise ValidationFailed([FieldError("probe", "recorded")])

    held = SimpleNamespace(ticket=_at("review"))
    deps = SimpleNamespace(
        repo=SimpleNamespace(
            get=lambda ticket_id, consistent=False: held.ticket,
            history=lambda ticket_id: [],
            back_on_due=lambda *args: False,  # "changed meanwhile": the restart stops there
        ),
        audit=SimpleNamespace(record=lambda entries: None),
        workflows=SimpleNamespace(
            describe=lambda ticket_id: None, describe_arn=lambda arn: None, history=lambda a: []
        ),
        blacklist=SimpleNamespace(delete=lambda number: True),
        clock=lambda: NOW,
        sleep=lambda seconds: None,
        rules=Rules(),
        cursors=Cursors("test"),
        # issue 12 items 4-5 (cases): the library answers nothing
        library=SimpleNamespace(cases=lambda *args: iter(()), get_case=lambda case_id: None),
    )
    monkeypatch.setattr(shapes, "parse", parse)
    monkeypatch.setattr(context, "deps", lambda: deps)
    local_auth.install(app, TOKEN_SECRET)
    with Client(app) as client:
        yield client, used, held


def _call(client: Client, path: str, method: str, op: dict[str, Any], role: str) -> int:
    department = HOME if role in DEPARTMENT_SCOPED else None
    token = local_auth.make_token([role], department, None, TOKEN_SECRET)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = path.replace("{ticket_id}", "T0001").replace("{service_number}", "13800138000")
    body = None
    if "requestBody" in op:
        examples = op["requestBody"]["content"]["application/json"]["examples"]
        body = json.dumps(next(iter(examples.values()))["value"])
    status: int = getattr(client.http, method)(url, headers=headers, body=body).status_code
    return status


def _documented_models(op: dict[str, Any]) -> list[str]:
    names = []
    if "requestBody" in op:
        names.append(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    if "x-query" in op:
        names.append(op["x-query"])
    return [n.rsplit("/", 1)[1] for n in names]


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    _, top = models_json_schema([(model, "validation")], ref_template=REF, by_alias=True)
    schema: dict[str, Any] = openapi._tidy(top["$defs"])[model.__name__]
    return schema


def test_each_route_validates_with_exactly_the_models_it_documents(probe: Any) -> None:
    client, used, held = probe
    schemas = document()["components"]["schemas"]
    checked = 0
    for path, method, op in _operations():
        if path in PUBLIC:
            continue
        step = op.get("x-steps", ["review"])[0]
        held.ticket = _at(step)
        role = op["x-roles"][0]
        used.clear()

        status = _call(client, path, method, op, role)

        documented = _documented_models(op)
        assert [openapi.schema_name(m) for m in used] == documented, f"{method.upper()} {path}"
        assert status == (400 if documented else status), path
        for model in used:  # the component is that very model's schema, not a namesake's
            assert schemas[openapi.schema_name(model)] == _schema_of(model), model.__name__
        if "x-query" in op:
            model = used[-1]
            names = [p["name"] for p in op["parameters"] if p["in"] == "query"]
            assert names == [f.alias or n for n, f in model.model_fields.items()], path
        checked += bool(documented)
    assert checked >= len(ACTIONS) + 7


def test_each_route_allows_exactly_the_roles_it_documents(probe: Any) -> None:
    client, _, held = probe
    for path, method, op in _operations():
        if path in PUBLIC:
            continue
        held.ticket = _at(op.get("x-steps", ["review"])[0])
        for role in ROLES:
            status = _call(client, path, method, op, role)
            assert status not in (401, 500), f"{method.upper()} {path} as {role}: {status}"
            allowed = role in op["x-roles"]
            assert (status != 403) == allowed, f"{method.upper()} {path} as {role}: {status}"


def test_public_routes_need_no_token() -> None:
    from app import app

    local_auth.install(app, TOKEN_SECRET)
    with Client(app) as client:
        for path in sorted(PUBLIC):
            resp = client.http.get(path, headers={"Host": "127.0.0.1:8000"})
            assert resp.status_code == 200, path
    served = json.loads(client.http.get("/openapi.json", headers={"Host": "h:1"}).body)
    assert served["servers"] == [{"url": "http://h:1"}]


def test_tickets_along_the_lifecycle_validate_against_ticket() -> None:
    from chalicelib.catalog import get_catalog
    from chalicelib.services import escalation

    validator, catalog = _validator("Ticket"), get_catalog()
    ticket = _at(
        "review",
        status="accepted",
        department=None,
        departments=(),
        dispatched_by=None,
        resolution=None,
        reply=None,
        revisit=None,
        route=HOME,
        answer="已告知客户",
        classification={"source": "agent", "confirmed": True, "suggestions": []},
        duties_done={"leaderApproval": "2026-11-23T16:00:00+08:00"},
        missing_fields=("handsetModel",),
        sla_rule="level:B",
        overdue_duties=("reply", "progress_report"),
    )
    validator.validate(ticket.to_api())
    path = [
        ("senior_agent", "review", {"valid": True, "phenomenon": "voice_coverage"}),
        (
            "complaint_manager",
            "note",
            {"text": "补充", "fields": {"handsetModel": "X"}, "duty": "progress_report"},
        ),
        ("senior_agent", "dispatch", {"department": HOME, "note": "请处理"}),
        ("department", "transfer", {"department": "billing_support", "reason": "计费"}),
        ("complaint_manager", "transfer", {"department": HOME, "reason": "回到网络部"}),
        ("department", "accept", {}),
        ("department", "resolve", {"cause": "weak_coverage", "result": "已优化"}),
        ("agent", "reply", {"content": "已处理", "method": "phone"}),
        ("agent", "revisit", {"satisfaction": "unsatisfied", "comment": "仍然没有信号"}),
        ("department", "resolve", {"cause": "weak_coverage", "result": "已新增基站"}),
        ("agent", "reply", {"content": "已再次处理", "method": "sms"}),
        ("agent", "revisit", {"satisfaction": "satisfied"}),
        ("complaint_manager", "archive", {"analysis": "典型案例", "addToCaseLibrary": True}),
    ]
    for role, action, body in path:
        who = Principal(f"sub-{role}", role, (role,), ticket.department or HOME)
        d = lifecycle.decide(action, ticket, who, body, catalog, NOW)
        # The service recomputes missingFields after a note; here the note answers them all.
        ticket = replace(ticket, missing_fields=()).with_changes(
            **d.changes,
            status=d.to_status,
            step=d.next_step,
            step_started_at=NOW,
            version=ticket.version + 1,
        )
        if action == "note":
            ticket, _ = escalation.reassess(
                ticket.with_changes(urgent=True, flags=("media",)), NOW, Rules()
            )
            assert ticket.emergency_record and ticket.escalation_criteria
        validator.validate(ticket.to_api())

    assert ticket.closing and ticket.rounds == 1 and ticket.transfers == 2
    assert ticket.to_api()["closing"]["kind"] == "archived"


# -- responses match their declarations ----------------------------------------------------------


def test_real_responses_validate_against_their_view_models() -> None:
    from chalicelib.services import catalog, workflow_view
    from chalicelib.services.context import Caller

    caller = Caller(Principal("sub-m", "manager", ("complaint_manager",)), "req-1")
    t0 = NOW - timedelta(minutes=5)
    arn = "arn:aws:states:us-east-1:0:execution:lifecycle:T0001"
    events = [
        {"type": "TaskStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "A"}},
        {"type": "TaskStateExited", "timestamp": t0 + timedelta(seconds=1)},
        {"type": "TaskStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "B"}},
        {
            "type": "TaskTimedOut",
            "timestamp": NOW,
            "taskTimedOutEventDetails": {"error": "States.Timeout", "cause": None},
        },
    ]
    running = {"executionArn": arn, "status": "RUNNING", "startDate": t0}
    deps: Any = SimpleNamespace(
        clock=lambda: NOW,
        repo=SimpleNamespace(get=lambda ticket_id: _at("accept")),
        audit=SimpleNamespace(record=lambda entries: None),
        workflows=SimpleNamespace(
            describe=lambda ticket_id: None,
            describe_arn=lambda a: running,
            history=lambda a: events,
        ),
        rules=Rules(),
    )
    started = SimpleNamespace(**vars(deps))
    started.repo = SimpleNamespace(get=lambda ticket_id: _at("accept", execution_arn=arn))

    from chalicelib.adapters import audit_repo, blacklist_repo
    from chalicelib.adapters.models import BlacklistModel
    from chalicelib.domain.records import AuditEntry, HistoryEvent
    from chalicelib.domain.values import storage_time

    event = HistoryEvent(NOW, "sam", "agent", "create", None, "accepted", {"channel": "app"}, 1)
    entry = audit_repo.from_model(
        audit_repo.audit_model(AuditEntry("sam", "agent", "read", "T0001", None, NOW), 30)
    )
    listed = BlacklistModel("13800138000", reason="多次", addedBy="m", addedAt=storage_time(NOW))
    bodies = {
        views.History: {"items": [event.to_api()]},
        views.AuditPage: {"items": [entry.to_api()], "nextCursor": None},
        views.BlacklistPage: {"items": [blacklist_repo._to_api(listed)], "nextCursor": "a.b"},
        views.Catalog: catalog.get_catalog(caller, deps),
        views.ClassifyResult: catalog.classify_text(caller, {"text": "垃圾短信"}, deps),
        views.SlaPreview: catalog.sla_preview(caller, {"slaLevel": "F"}, deps),
    }
    for model, body in [
        *bodies.items(),
        (views.WorkflowView, workflow_view.describe(caller, "T0001", deps)),
        (views.WorkflowView, workflow_view.describe(caller, "T0001", started)),
    ]:
        model.model_validate(body)  # closed: no undeclared member
        _validator(openapi.schema_name(model)).validate(body)
    with pytest.raises(ValueError):
        views.Health.model_validate({"status": "ok", "undeclared": 1})


def test_docs_api_md_lists_every_route_and_each_action_with_its_roles() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert "../shared" not in text
    for path, method, op in _operations():
        if path.startswith("/tickets/{ticket_id}/") and op["operationId"].endswith("_ticket"):
            action = op["operationId"].removesuffix("_ticket")
            row = re.search(rf"^\| `{action}` \| ([^|]+) \|", text, re.M)
            assert row, f"docs/api.md: no row for the action {action}"
            assert [r.strip() for r in row.group(1).split(",")] == op["x-roles"], action
            continue
        shown = path.replace("{ticket_id}", "{id}").replace("{service_number}", "{n}")
        assert f"`{method.upper()} {shown}`" in text, f"docs/api.md: {method.upper()} {shown}"
