"""The OpenAPI document: valid 3.1, in step with app.py's routes and with intake's validation."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from chalicelib.api.openapi import document
from chalicelib.api.openapi_actions import COMMON_CONFLICTS, CONFLICTS, body_name
from chalicelib.domain import lifecycle, vocabulary
from chalicelib.domain.auth import DEPARTMENT_SCOPED, Principal
from chalicelib.domain.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.domain.lifecycle import ACTIONS, RULES, STEP_STATUS, decide
from chalicelib.domain.tickets import Complainant, Ticket, parse_new_ticket
from chalicelib.domain.validation import Checker

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _validator(name: str) -> OAS31Validator:
    doc = document()
    # Refs are "#/components/...": give the schema the document's components as its root.
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return OAS31Validator(schema)


def _valid_ticket() -> dict[str, Any]:
    return {
        "kind": "complaint",
        "channel": "hotline",
        "source": "12315",
        "complainant": {
            "name": "张三",
            "type": "vip",
            "contactNumber": "+86 138 0000 0000",
            "address": "兰州市城关区",
            "replyMethod": "sms",
        },
        "serviceNumber": "13800000000",
        "category": "basic_communication",
        "description": "家里没有信号，打不出电话",
        "occurredAt": "2024-05-01T09:30:00+08:00",
        "location": {"area": "城关区", "landmark": "东方红广场"},
        "expectedResult": "尽快修复",
        "fields": {"signalBars": 0, "indoor": True, "address": "3楼"},
        "urgent": False,
        "flags": ["media", "12315"],
    }


class _Catalog:
    """Accepts every code: the schema cannot know the catalog, only the shape of a code."""

    def category(self, code: str) -> object | None:
        return object()

    def phenomenon(self, code: str) -> Any:
        return None


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()

    validate(doc)

    assert doc["openapi"].startswith("3.1")
    assert document() is doc  # cached


def _app_routes() -> dict[tuple[str, str], str]:
    """The routes app.py declares; the OPTIONS and 405 routes generated from them are edges
    (chalicelib/api/edges.py), not operations."""
    from app import app
    from chalicelib.api.edges import GENERATED

    return {
        (path, method.lower()): entry.view_name
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not getattr(entry.view_function, GENERATED, False)
    }


def _documented() -> dict[tuple[str, str], str]:
    return {
        (path, method): op["operationId"]
        for path, item in document()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_every_route_of_the_app_is_documented_with_its_view_name() -> None:
    routes, documented = _app_routes(), _documented()

    undocumented = sorted(f"{m.upper()} {p}" for p, m in routes.keys() - documented.keys())
    wrong_ids = sorted(
        f"{m.upper()} {p}: operationId {documented[(p, m)]!r} != view {view!r}"
        for (p, m), view in routes.items()
        if (p, m) in documented and documented[(p, m)] != view
    )

    assert not undocumented, f"routes of app.py missing from the OpenAPI document: {undocumented}"
    assert not wrong_ids, f"operationIds that are not the view function's name: {wrong_ids}"


def test_every_documented_operation_exists_in_the_app() -> None:
    routes, documented = _app_routes(), _documented()

    missing = sorted(
        f"{m.upper()} {p} (operationId {op})"
        for (p, m), op in documented.items()
        if (p, m) not in routes
    )

    assert not missing, f"documented but not routed in app.py: {missing}"


def test_only_health_and_openapi_are_public_and_secured_operations_document_401_403() -> None:
    doc = document()
    assert doc["security"] == [{"bearerAuth": []}]

    for (path, method), _ in _documented().items():
        op = doc["paths"][path][method]
        if path in ("/health", "/openapi.json"):
            assert op["security"] == []
        else:
            assert "security" not in op, path
            assert {"401", "403"} <= op["responses"].keys(), path


def test_new_ticket_enums_are_the_vocabulary() -> None:
    schemas = document()["components"]["schemas"]
    expected = {
        "Kind": vocabulary.KINDS,
        "Channel": vocabulary.CHANNELS,
        "Source": vocabulary.SOURCES,
        "ComplainantType": vocabulary.COMPLAINANT_TYPES,
        "ReplyMethod": vocabulary.REPLY_METHODS,
        "Flag": vocabulary.FLAGS,
        "Status": vocabulary.STATUSES,
        "Role": vocabulary.ROLES,
        "Priority": vocabulary.PRIORITIES,
    }
    for name, values in expected.items():
        assert tuple(schemas[name]["enum"]) == values, name

    props = schemas["NewTicket"]["properties"]
    assert props["kind"] == {"$ref": "#/components/schemas/Kind"}
    assert props["channel"] == {"$ref": "#/components/schemas/Channel"}
    assert {"$ref": "#/components/schemas/Source"} in props["source"]["anyOf"]
    assert props["flags"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/Flag"}


def test_a_valid_ticket_body_validates_and_is_accepted_by_intake() -> None:
    body = _valid_ticket()

    _validator("NewTicket").validate(body)
    parse_new_ticket(body, _Catalog(), datetime(2024, 6, 1, tzinfo=UTC))


def test_a_ticket_answered_at_intake_validates() -> None:
    body = {**_valid_ticket(), "answer": "x" * 2000}

    _validator("NewTicket").validate(body)
    assert parse_new_ticket(body, _Catalog(), datetime(2024, 6, 1, tzinfo=UTC)).answer


def test_the_smallest_ticket_body_validates_and_nulls_count_as_absent() -> None:
    body = {
        "kind": "suggestion",
        "channel": "app",
        "complainant": {"name": "李四", "contactNumber": "0931-8888888", "address": None},
        "serviceNumber": "0931 8888888",
        "description": "建议增加夜间客服",
        "source": None,
        "flags": None,
    }

    _validator("NewTicket").validate(body)
    parse_new_ticket(body, _Catalog(), datetime(2024, 6, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "change",
    [
        {"unknown": 1},
        {"complainant": {**_valid_ticket()["complainant"], "nickname": "x"}},
        {"location": {"area": "城关区", "floor": 3}},
        {"channel": "pigeon"},
        {"flags": ["loud"]},
        {"description": "   "},
        {"description": "x" * 4001},
        {"serviceNumber": "12345"},
        {"fields": {"1bad": "x"}},
        {"fields": {"note": "x" * 501}},
        {"fields": {"nested": {"a": 1}}},
        {"kind": None},
        {"answer": "x" * 2001},
        {"answer": " "},
    ],
)
def test_a_body_intake_refuses_does_not_validate(change: dict[str, Any]) -> None:
    body = {**_valid_ticket(), **change}

    assert not _validator("NewTicket").is_valid(body)
    with pytest.raises(ValidationFailed):
        parse_new_ticket(body, _Catalog(), datetime(2024, 6, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "number",
    [
        "13800000000",
        "+8613800000000",
        "+86-13800000000",
        "0086 138 0000 0000",
        "(0931)8888888",
        "0931-8888888",
        "010-12345678",
        "+86 010 12345678",
        "19912345678",
        "12800000000",
        "1380000000",
        "138000000000",
        "0086-12345678",
        "93-8888888",
        "abc",
        "010--12345678",
        "+86--13800000000",
        " 138 0000 0000 ",
        "0086",
        "",
    ],
)
def test_the_phone_pattern_accepts_exactly_what_intake_accepts(number: str) -> None:
    c = Checker()
    accepted = c.phone({"n": number}, "n", "") is not None

    schema_ok = _validator("Complainant").is_valid({"name": "a", "contactNumber": number})

    assert schema_ok == accepted, number


def test_a_sample_ticket_response_validates_against_ticket() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    ticket = Ticket(
        id="T01HX",
        version=1,
        kind="complaint",
        status="accepted",
        channel="hotline",
        complainant=Complainant("张三", "ordinary", "13800000000", "phone"),
        service_number="13800000000",
        description="没有信号",
        created_at=now,
        updated_at=now,
        created_by="agent1",
        source="media",
        location={"area": "城关区"},
        sla_level="B",
        due_at=now,
    )

    _validator("Ticket").validate(ticket.to_api())


# -- the lifecycle ------------------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOME = "network"
ACTOR = "sam"  # dispatched the ticket, so may re-dispatch it
JSON = "application/json"


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = document()["components"]["schemas"]
    return schemas


def _action_op(action: str) -> dict[str, Any]:
    op: dict[str, Any] = document()["paths"][f"/tickets/{{ticket_id}}/{action}"]["post"]
    return op


def _codes_409(action: str) -> list[str]:
    schema = _action_op(action)["responses"]["409"]["content"]["application/problem+json"]
    codes: list[str] = schema["schema"]["allOf"][1]["properties"]["code"]["enum"]
    return codes


class _Codes:
    """A catalog that knows every code: a schema checks a code's shape, never the catalog."""

    def category(self, code: str) -> Any:
        return SimpleNamespace(route=HOME)

    def phenomenon(self, code: str) -> Any:
        return SimpleNamespace(category="basic_communication", route=HOME)

    def department(self, code: str) -> Any:
        return SimpleNamespace(code=code)


def _at(step: str, **changes: Any) -> Ticket:
    """A ticket waiting at `step` with everything any action there needs already done."""
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
        dispatched_by=ACTOR,
        resolution={"cause": "weak_coverage", "result": "已优化", "department": HOME},
        reply={"content": "已处理", "method": "phone"},
        revisit={"satisfaction": "satisfied"},
    )
    return replace(ticket, **changes)


def _who(role: str, department: str = HOME) -> Principal:
    return Principal(
        f"sub-{role}", ACTOR, (role,), department if role in DEPARTMENT_SCOPED else None
    )


def _decide(action: str, body: Any, role: str | None = None, step: str | None = None) -> None:
    roles, steps = RULES[action]
    decide(action, _at(step or steps[0]), _who(role or roles[0]), body, _Codes(), NOW)


# One body each action accepts: the edge cases below vary it member by member.
SAMPLES: dict[str, dict[str, Any]] = {
    "review": {"valid": True, "reason": "信息完整", "fields": {"handsetModel": "Mate 60"}},
    "dispatch": {"department": HOME, "note": "弱覆盖，请核查", "slaLevel": "C"},
    "accept": {},
    "resolve": {"cause": "weak_coverage", "result": "已新增室分系统"},
    "return": {"reason": "不属于本部门"},
    "transfer": {"department": "billing_support", "reason": "计费问题", "timeLimitHours": 24},
    "reply": {"content": "已为您处理", "method": "sms"},
    "revisit": {"satisfaction": "satisfied", "comment": "满意"},
    "archive": {"analysis": "典型案例", "addToCaseLibrary": True, "noRevisitReason": None},
    "cancel": {"reason": "重复受理"},
    "note": {"text": "客户补充", "fields": {"floor": 3}, "duty": "progress_report", "flags": []},
    "escalate": {"reason": "媒体介入", "criteria": ["media", "public_impact"]},
}


def test_every_action_has_a_sample_body() -> None:
    assert set(SAMPLES) == set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_documents_its_roles_steps_if_match_and_responses(action: str) -> None:
    op = _action_op(action)
    roles, steps = RULES[action]

    assert op["operationId"] == f"{action}_ticket"
    assert op["x-roles"] == list(roles)
    assert op["x-steps"] == list(steps)
    assert ("Roles: " + ", ".join(f"`{r}`" for r in roles) + ".") in op["description"]
    assert all(f"`{s}` (status `{STEP_STATUS[s]}`)" in op["description"] for s in steps)
    assert op["parameters"] == [
        {"$ref": "#/components/parameters/ticket_id"},
        {"$ref": "#/components/parameters/If-Match"},
    ]
    assert set(op["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "415"}
    ok = op["responses"]["200"]
    assert ok["content"][JSON]["schema"] == {"$ref": "#/components/schemas/Ticket"}
    assert ok["headers"] == {"ETag": {"$ref": "#/components/headers/ETag"}}
    body = op["requestBody"]["content"][JSON]["schema"]
    assert body == {"$ref": f"#/components/schemas/{body_name(action)}"}
    assert _schemas()[body_name(action)]["additionalProperties"] is False
    assert op["requestBody"]["required"] is (action != "accept")  # accept needs no body
    assert _codes_409(action)[: len(COMMON_CONFLICTS)] == list(COMMON_CONFLICTS)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_documented_roles_and_steps_are_what_the_rules_enforce(action: str) -> None:
    op = _action_op(action)
    body = SAMPLES[action]

    for role in vocabulary.ROLES:
        if role in op["x-roles"]:
            _decide(action, body, role=role)
        else:
            with pytest.raises(Forbidden):
                _decide(action, body, role=role)
    for step in STEP_STATUS:
        if step in op["x-steps"]:
            _decide(action, body, step=step)
        else:
            with pytest.raises(Conflict) as refused:
                _decide(action, body, step=step)
            assert refused.value.code == "action_not_allowed"


def test_every_conflict_code_the_rules_raise_is_documented_on_its_actions() -> None:
    from chalicelib.services import actions

    def raised(source: Any) -> set[str]:
        return set(re.findall(r'code="(\w+)"', inspect.getsource(source)))

    documented = {code for a in ACTIONS for code in _codes_409(a)}
    assert raised(lifecycle) | raised(actions) == documented == set(CONFLICTS)
    for action in ACTIONS:
        decider = getattr(lifecycle, f"_{action}")
        assert raised(decider) <= set(_codes_409(action)), action


@pytest.mark.parametrize("action", ACTIONS)
def test_not_your_department_is_documented_where_a_department_user_meets_it(action: str) -> None:
    roles, steps = RULES[action]
    scoped = [r for r in roles if r in DEPARTMENT_SCOPED]
    ticket = _at(steps[0], departments=(HOME, "billing_support"))  # visible, held by HOME
    meets_it = False
    for role in scoped:
        try:
            decide(action, ticket, _who(role, "billing_support"), SAMPLES[action], _Codes(), NOW)
        except Conflict as refused:
            assert refused.code == "not_your_department"
            meets_it = True

    assert meets_it == ("not_your_department" in _codes_409(action))


def test_a_missing_required_fields_conflict_names_the_fields() -> None:
    with pytest.raises(Conflict) as refused:
        decide(
            "dispatch",
            _at("dispatch", missing_fields=("handsetModel",)),
            _who("senior_agent"),
            SAMPLES["dispatch"],
            _Codes(),
            NOW,
        )

    assert refused.value.code == "missing_required_fields"
    assert [e.field for e in refused.value.errors] == ["fields.handsetModel"]


def _concrete(member: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of a nullable member, its $ref resolved."""
    schema: dict[str, Any] = next(
        s for s in member.get("anyOf", [member]) if s.get("type") != "null"
    )
    while "$ref" in schema:
        schema = _schemas()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _edges(action: str) -> Iterator[tuple[str, Any, bool]]:
    """(label, body, accepted?) cases read off the documented schema of an action's body."""
    schema = _schemas()[body_name(action)]
    sample, required = SAMPLES[action], schema.get("required", [])
    yield "sample", sample, True
    yield "unknown member", {**sample, "unknown": 1}, False
    yield "not an object", [sample], False
    for name, member in schema["properties"].items():
        s, other = _concrete(member), {k: v for k, v in sample.items() if k != name}
        yield f"{name}: null", {**sample, name: None}, name not in required
        yield f"{name}: missing", other, name not in required
        kind = s.get("type")
        if kind == "string" and "maxLength" in s:
            yield f"{name}: at most", {**sample, name: "x" * s["maxLength"]}, True
            yield f"{name}: too long", {**sample, name: "x" * (s["maxLength"] + 1)}, False
            yield f"{name}: blank", {**sample, name: "   "}, False
            yield f"{name}: a number", {**sample, name: 5}, False
        if "enum" in s:
            for value in s["enum"]:
                yield f"{name}: {value}", {**sample, name: value}, True
            yield f"{name}: bogus", {**sample, name: "bogus"}, False
        if kind == "integer":
            for value, ok in ((s["minimum"], True), (s["maximum"], True), (True, False)):
                yield f"{name}: {value}", {**sample, name: value}, ok
            for value in (s["minimum"] - 1, s["maximum"] + 1, "24", 2.5):
                yield f"{name}: {value}", {**sample, name: value}, False
        if kind == "boolean":
            yield f"{name}: yes", {**sample, name: "yes"}, False
        if kind == "array":
            values = _concrete(s["items"])["enum"]
            top = s["maxItems"]
            yield f"{name}: every value", {**sample, name: values[:top]}, True
            yield f"{name}: too many", {**sample, name: (values * 2)[: top + 1]}, False
            yield f"{name}: bogus item", {**sample, name: ["bogus"]}, False
            yield f"{name}: not a list", {**sample, name: values[0]}, False
            yield f"{name}: empty", {**sample, name: []}, s.get("minItems", 0) == 0
        if kind == "object":
            yield f"{name}: long value", {**sample, name: {"k": "x" * 500}}, True
            yield f"{name}: too long", {**sample, name: {"k": "x" * 501}}, False
            yield f"{name}: bad name", {**sample, name: {"1k": "x"}}, False
            yield f"{name}: nested", {**sample, name: {"k": {"a": 1}}}, False
            yield f"{name}: not an object", {**sample, name: "x"}, False


_SPECIAL: list[tuple[str, str, Any, bool]] = [
    ("review", "invalid without a reason", {"valid": False}, False),
    ("review", "invalid with a blank reason", {"valid": False, "reason": " "}, False),
    ("review", "unreasonable", {"valid": False, "unreasonable": True, "reason": "恶意"}, True),
    ("accept", "no body", None, True),
]
EDGES = [(a, label, body, ok) for a in ACTIONS for label, body, ok in _edges(a)] + _SPECIAL


@pytest.mark.parametrize(
    ("action", "label", "body", "accepted"), EDGES, ids=[f"{e[0]}-{e[1]}" for e in EDGES]
)
def test_an_action_body_validates_exactly_when_the_rules_accept_it(
    action: str, label: str, body: Any, accepted: bool
) -> None:
    schema_ok = body is None or _validator(body_name(action)).is_valid(body)
    try:
        _decide(action, body)
        rules_ok = True
    except ValidationFailed:
        rules_ok = False

    assert schema_ok == accepted, f"the schema {'refuses' if accepted else 'accepts'} it"
    assert rules_ok == accepted, f"the rules {'refuse' if accepted else 'accept'} it"


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
        extra={"slaRule": "level:B", "overdueDuties": ["reply", "progress_report"]},
    )
    validator.validate(ticket.to_api())
    path = [
        ("senior_agent", "review", {"valid": True, "phenomenon": "voice_coverage"}),
        (
            "agent",
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
        who = _who(role, ticket.department or HOME)
        d = decide(action, ticket, who, body, catalog, NOW)
        # The service recomputes missingFields after a note; here the note answers them all.
        ticket = replace(ticket, missing_fields=()).with_changes(
            **d.changes,
            status=d.to_status,
            step=d.next_step,
            step_started_at=NOW,
            version=ticket.version + 1,
        )
        if action == "note":
            ticket, _ = escalation.reassess(ticket.with_changes(urgent=True, flags=("media",)), NOW)
            assert ticket.emergency_record and ticket.escalation_criteria
        validator.validate(ticket.to_api())

    assert ticket.closing and ticket.rounds == 1 and ticket.transfers == 2
    assert ticket.to_api()["closing"]["kind"] == "archived"


def test_the_workflow_blacklist_routes_document_the_roles_the_services_enforce() -> None:
    from chalicelib.services import blacklist, workflow_view

    paths = document()["paths"]
    expected = {
        ("/tickets/{ticket_id}/workflow", "get"): workflow_view.WORKFLOW_ROLES,
        ("/blacklist", "get"): blacklist.ROLES,
        ("/blacklist/{service_number}", "put"): blacklist.ROLES,
        ("/blacklist/{service_number}", "delete"): blacklist.ROLES,
    }
    for (path, method), roles in expected.items():
        roles_text = "Roles: " + ", ".join(f"`{r}`" for r in roles) + "."
        assert paths[path][method]["description"].startswith(roles_text), path
    assert set(paths["/blacklist/{service_number}"]["delete"]["responses"]) == {
        "204",
        "400",
        "401",
        "403",
        "404",
    }


def _fake_workflows(execution: dict[str, Any] | None, events: list[dict[str, Any]]) -> Any:
    return SimpleNamespace(
        describe=lambda ticket_id: execution,
        describe_arn=lambda arn: execution,
        history=lambda arn: events,
    )


def test_a_workflow_view_validates_against_workflow_view() -> None:
    from chalicelib.services import workflow_view
    from chalicelib.services.context import Caller

    arn = "arn:aws:states:us-east-1:0:execution:lifecycle:T0001"
    t0 = NOW - timedelta(minutes=5)
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
    caller = Caller(Principal("sub-op", "op", ("operator",)), "req-1")
    validator = _validator("WorkflowView")

    for execution in (running, None):
        deps: Any = SimpleNamespace(
            repo=SimpleNamespace(get=lambda ticket_id: _at("accept")),
            audit=SimpleNamespace(record=lambda entries: None),
            workflows=_fake_workflows(execution, events),
            clock=lambda: NOW,
        )
        view = workflow_view.describe(caller, "T0001", deps)
        validator.validate(view)
    assert view["status"] == "NOT_STARTED"


def test_blacklist_bodies_and_pages_validate_as_the_service_writes_them() -> None:
    from chalicelib.adapters import blacklist_repo
    from chalicelib.adapters.models import BlacklistModel
    from chalicelib.domain.values import storage_time
    from chalicelib.services import blacklist
    from chalicelib.services.context import Caller

    def put(number: str, reason: str, by: str, at: datetime) -> dict[str, Any]:
        model = BlacklistModel(number, reason=reason, addedBy=by, addedAt=storage_time(at))
        return blacklist_repo._to_api(model)

    entries: list[dict[str, Any]] = []
    deps: Any = SimpleNamespace(
        blacklist=SimpleNamespace(put=put, page=lambda limit, cursor: (entries, None)),
        clock=lambda: NOW,
    )
    caller = Caller(Principal("sub-m", "manager", ("complaint_manager",)), "req-1")
    request = _validator("BlacklistRequest")

    for body, accepted in [
        ({"reason": "x" * 500}, True),
        ({"reason": "x" * 501}, False),
        ({"reason": " "}, False),
        ({}, False),
        ({"reason": "频繁投诉", "unknown": 1}, False),
    ]:
        assert request.is_valid(body) == accepted, body
        if accepted:
            entries.append(blacklist.add(caller, "+86 138 0000 0000", body, deps))
        else:
            with pytest.raises(ValidationFailed):
                blacklist.add(caller, "13800000000", body, deps)

    _validator("BlacklistEntry").validate(entries[0])
    top = document()["components"]["parameters"]["limit"]["schema"]["maximum"]
    _validator("BlacklistPage").validate(blacklist.page(caller, {"limit": str(top)}, deps))
    with pytest.raises(ValidationFailed):
        blacklist.page(caller, {"limit": str(top + 1)}, deps)


def test_operations_with_a_body_document_413_and_415_and_the_etag_is_quoted() -> None:
    doc = document()
    for (path, method), _ in _documented().items():
        op = doc["paths"][path][method]
        with_body = "requestBody" in op
        assert ({"413", "415"} <= op["responses"].keys()) == with_body, (path, method)
    etag = re.compile(doc["components"]["headers"]["ETag"]["schema"]["pattern"])
    assert etag.fullmatch('"7"') and not etag.fullmatch("7")
    if_match = re.compile(doc["components"]["parameters"]["If-Match"]["schema"]["pattern"])
    assert if_match.fullmatch('"7"') and if_match.fullmatch("7")
    assert not any(if_match.fullmatch(v) for v in ('W/"7"', "²", "abc", "*", "1" * 13))
