"""The OpenAPI document: valid 3.1, in step with app.py's routes and with intake's validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from chalicelib.api.openapi import document
from chalicelib.domain import vocabulary
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.tickets import parse_new_ticket
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
    from app import app

    return {
        (path, method.lower()): entry.view_name
        for path, methods in app.routes.items()
        for method, entry in methods.items()
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


def test_only_health_is_public_and_every_secured_operation_documents_401_403() -> None:
    doc = document()
    assert doc["security"] == [{"bearerAuth": []}]

    for (path, method), _ in _documented().items():
        op = doc["paths"][path][method]
        if path == "/health":
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
    from chalicelib.domain.tickets import Complainant, Ticket

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
