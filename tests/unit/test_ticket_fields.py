"""The ticket's fields, declared once: storage round-trips, responses match the view model,
internal fields never show, and an item that does not decode is set aside, not raised."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
import typing
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.tickets_repo import decode, to_model
from chalicelib.domain.declared import IsoInstant, specs
from chalicelib.domain.records import UnreadableTicket
from chalicelib.domain.tickets import Complainant, Ticket, ticket_view_model
from chalicelib.domain.vocabulary import FLAGS, STATUSES

NOW = datetime(2026, 11, 23, 8, 25, 42, 123456, tzinfo=UTC)
AT = "2026-11-23T16:25:42+08:00"
ACTOR = {"by": "agent-li", "role": "agent", "at": AT}
PUBLIC = [s for s in specs(Ticket) if s.api is not False]
INTERNAL = [s for s in specs(Ticket) if s.api is False]


def rich_ticket() -> Ticket:
    """Every field set, internal ones included."""
    return Ticket(
        id="T01JD7Z9",
        version=7,
        kind="complaint",
        status="replied",
        channel="hotline",
        complainant=Complainant("张三", "vip", "13800138000", "sms", "思明区"),
        service_number="13800138000",
        description="家里信号不好",
        created_at=NOW,
        updated_at=NOW,
        created_by="agent-li",
        source="12315",
        category="basic_communication",
        phenomenon="voice_coverage",
        occurred_at=NOW,
        location={"area": "思明区", "landmark": "中山路"},
        expected_result="尽快修复",
        fields={"handsetModel": "X", "bars": 1, "indoor": True},
        urgent=True,
        flags=("media",),
        classification={
            "source": "classifier",
            "confirmed": True,
            "confirmedBy": "senior-wang",
            "suggestions": [{"category": "basic_communication", "phenomenon": None, "score": 0.9}],
        },
        sla_level="B",
        sla_rule="level:B",
        due_at=NOW,
        step_due_at=NOW,
        progress_due_at=NOW,
        final_due_at=NOW,
        breached=True,
        overdue_duties=("reply", "progress_report"),
        escalation_level=2,
        priority="urgent",
        emergency=True,
        escalated=True,
        blacklisted=True,
        department="network",
        departments=("network", "billing_support"),
        repeat_of="T01JD7Z8",
        appeal_of="T01JD7Z7",
        bulletin_id="B1",
        answer_script="您好",
        route="network",
        answer="已告知",
        missing_fields=("handsetModel",),
        step="revisit",
        step_seq=9,
        step_started_at=NOW,
        task_token="token-secret",
        token_escalation=1,
        outbox={"8": {"outcome": "replied"}},
        workflow_input='{"ticketId":"T01JD7Z9"}',
        last_escalation="9:1",
        overdue_step="reply",
        dispatched_by="senior-wang",
        transfers=1,
        rounds=1,
        resolution={
            "cause": "weak_coverage",
            "result": "已优化",
            "department": "network",
            **ACTOR,
        },  # type: ignore[typeddict-item]
        reply={"content": "已处理", "method": "phone", **ACTOR},  # type: ignore[typeddict-item]
        revisit={"satisfaction": "satisfied", "comment": None, **ACTOR},  # type: ignore[typeddict-item]
        closing={
            "kind": "archived",
            "analysis": "典型",
            "caseLibrary": True,
            "noRevisitReason": None,
            **ACTOR,
        },  # type: ignore[typeddict-item]
        escalation_criteria=("media",),
        standard_solution="优化基站",
        emergency_record={
            "declaredAt": AT,
            "preAuthorisedActions": ["refund"],
            "dutiesDueAt": {"leaderApproval": AT},
        },  # type: ignore[typeddict-item]
        duties_done={"progress_report": AT},  # type: ignore[dict-item]
        workflow_status="started",
        execution_arn="arn:aws:states:us-east-1:0:execution:lifecycle:T01JD7Z9",
    )


def test_every_public_field_is_in_the_view_model_and_no_internal_one() -> None:
    schema = ticket_view_model().model_json_schema()
    properties = set(schema["properties"])

    assert {s.wire for s in PUBLIC} | {"workflow", "links"} == properties
    assert not {s.wire for s in INTERNAL} & properties
    assert schema["properties"]["createdAt"]["format"] == "date-time"
    assert schema["properties"]["status"]["enum"] == list(STATUSES)
    assert schema["properties"]["flags"]["items"]["enum"] == list(FLAGS)
    assert schema["additionalProperties"] is False
    assert ticket_view_model() is ticket_view_model()  # built once


def test_a_rich_ticket_response_validates_and_shows_no_internal_field() -> None:
    out = rich_ticket().to_api()

    ticket_view_model().model_validate(out)  # closed models: any extra member fails
    assert not {s.wire for s in INTERNAL} & set(out)
    assert "token-secret" not in repr(out)
    assert out["slaRule"] == "level:B"
    assert out["overdueDuties"] == ["reply", "progress_report"]
    assert out["workflow"]["status"] == "started"


def test_a_minimal_ticket_omits_optional_members_and_validates() -> None:
    t = rich_ticket()
    minimal = Ticket(
        **{f.name: getattr(t, f.name) for f in dataclasses.fields(Ticket) if f.name in _REQUIRED}
    )
    out = minimal.to_api()

    ticket_view_model().model_validate(out)
    assert "source" not in out and "slaRule" not in out
    assert out["category"] is None and out["dueAt"] is None


_REQUIRED = {s.name for s in specs(Ticket) if s.required}


def test_importing_the_app_does_not_import_pydantic() -> None:
    code = (
        "import sys, app, chalicelib.adapters.tickets_repo, chalicelib.services.sweep; "
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- storage round trip, from strategies over the declared types --------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    if hint is IsoInstant:
        return _INSTANTS.map(lambda d: d.isoformat())
    if hint is datetime:
        return _INSTANTS
    if hint is str:
        return _TEXT
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(0, 2**53)
    if hint is float:
        return st.floats(0, 1)
    if hint is Any:
        return _JSON
    if hint is type(None):
        return st.none()
    if hint is Complainant:
        return st.builds(Complainant, _TEXT, _TEXT, _TEXT, _TEXT, st.none() | _TEXT)
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        required = {k: _strategy(v) for k, v in hints.items() if k in hint.__required_keys__}
        optional = {k: _strategy(v) for k, v in hints.items() if k not in required}
        return st.fixed_dictionaries(required, optional=optional)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return st.lists(_strategy(args[0]), max_size=3).map(tuple)
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(_strategy(args[0]), _strategy(args[1]), max_size=3)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in args))
    raise AssertionError(f"no strategy for {hint!r}")


def _field(spec: Any) -> st.SearchStrategy[Any]:
    value = _strategy(spec.hint)
    return st.none() | value if spec.nullable else value


TICKETS = st.fixed_dictionaries(
    {s.name: _field(s) for s in specs(Ticket) if s.name != "id"}
).flatmap(
    lambda kw: st.builds(Ticket, id=_TEXT.filter(bool), **{k: st.just(v) for k, v in kw.items()})
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TICKETS)
def test_any_ticket_round_trips_through_its_stored_form(t: Ticket) -> None:
    raw = to_model(t).serialize()

    assert decode(raw) == t


# -- what is already stored ----------------------------------------------------------------------


def test_an_item_that_does_not_decode_is_set_aside_without_its_values() -> None:
    raw = to_model(rich_ticket()).serialize()
    raw["createdAt"] = {"S": "1-01-01T00:00:00.000000Z"}
    bad = decode(raw)
    assert isinstance(bad, UnreadableTicket)
    assert (bad.ticket_id, bad.version) == ("T01JD7Z9", "7")
    assert bad.reason.startswith("createdAt") and "1-01-01" not in bad.reason

    raw = to_model(rich_ticket()).serialize()
    raw["version"] = {"S": "seven"}
    bad = decode(raw)
    assert isinstance(bad, UnreadableTicket) and bad.version == "?"
    assert bad.stored_version == {"S": "seven"} and "seven" not in bad.reason

    raw = to_model(rich_ticket()).serialize()
    del raw["description"]
    bad = decode(raw)
    assert isinstance(bad, UnreadableTicket) and bad.reason == "description: missing"


def test_fields_older_items_kept_in_extra_are_read() -> None:
    raw = to_model(rich_ticket().with_changes(sla_rule=None, last_escalation=None)).serialize()
    raw["extra"] = {"S": '{"slaRule": "level:C", "lastEscalation": "3:2"}'}

    t = decode(raw)

    assert isinstance(t, Ticket) and (t.sla_rule, t.last_escalation) == ("level:C", "3:2")
    assert "extra" not in to_model(t).serialize()
