"""Hostile input, generated: every operation that takes a JSON body or a query string gets
arbitrary JSON and arbitrary query strings through the Chalice test client, with a role it allows.

Whatever arrives, the answer is never a 5xx, every 4xx is problem+json (`status`, `title`; a 400
lists `errors` naming fields), and no response carries NaN or Infinity. A ticket the server
accepts reads back as it was sent, normalised (text NFC and trimmed, phones as ASCII digits,
instants the same instant), and the lists, the history and the sweep still work with it stored.

One moto stack per hypothesis test (stack creation is the slow part); examples are derandomized
so CI sees the same ones every run.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from chalicelib.api.routes import Operation, operations
from tests.functional.conftest import Api, ticket_body, token, wait_until
from tests.functional.test_lifecycle_paths import FIELDS

DEPARTMENT = "network"
SCOPED_ROLES = ("department", "complaint_admin")
SERVICE_NUMBER = "13800138000"


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# -- raw HTTP with strict JSON parsing ---------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the response carries the non-JSON constant {name}")


def strict_json(text: str | bytes) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (JSON has none of them)."""
    return json.loads(text, parse_constant=_no_constants)


def send(
    api: Api,
    method: str,
    path: str,
    role: str,
    body: str | None = None,
    department: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token(role, department)}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    resp = getattr(api.client.http, method.lower())(path, headers=headers, body=body)
    payload = strict_json(resp.body) if resp.body else None
    return resp.status_code, resp.headers, payload


def check_answer(status: int, headers: dict[str, str], payload: Any, request: str) -> None:
    """Never a 5xx; every 4xx problem+json with status and title; a 400 names its fields."""
    assert status < 500, f"{request} -> {status} {payload}"
    if status < 400:
        return
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", (request, status, ctype)
    assert isinstance(payload, dict), (request, payload)
    assert payload.get("status") == status, (request, payload)
    assert isinstance(payload.get("title"), str) and payload["title"], (request, payload)
    if status == 400:
        errors = payload.get("errors")
        assert isinstance(errors, list) and errors, (request, payload)
        for err in errors:
            assert isinstance(err, dict), (request, payload)
            assert isinstance(err.get("field"), str) and err["field"], (request, payload)


# -- strategies --------------------------------------------------------------------------------

# Text that trips parsers and normalisers: control characters, zero-width and bidi marks,
# full-width and Arabic-Indic digits, decomposed (non-NFC) text, surrogates, padding.
NASTY_STRINGS = [
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x07b",
    "\x1b[31mred",
    "\u0085",
    "\x7f",
    "\u200b",
    "\u202e13800138000",
    "\ufeff13800138000",
    "\ud800",
    "a\udfffb",
    "１３８００１３８０００",
    "١٣٨٠٠١٣٨٠٠٠",
    "۱۳۸۰۰۱۳۸۰۰۰",
    "+86 138-0013-8000",
    "0086 (138) 0013.8000",
    "+８６１３８００１３８０００",
    "13800138000\n",
    "e\u0301",
    "  Cafe\u0301  ",
    "\u1100\u1161\u11a8",
    "Å",
    "ﬁ",
    "2026-11-20T09:00:00+08:00",
    "2026-11-20T09:00:00Z",
    "2026-11-20T09:00:00z",
    "2026-11-20T09:00:00",
    "2026-11-20T09:00:00+14:01",
    "2026-11-20T09:00:00+08:00:30",
    "2026-11-20T09:00:00.123456789+08:00",
    "２０２６-11-20T09:00:00+08:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "1999-12-31T23:59:59-14:00",
    "2100-12-31T23:59:59.999999Z",
    "NaN",
    "Infinity",
    "-0",
    "1e309",
    "true",
    "null",
    "voice_coverage",
    "network",
    "__proto__",
    "constructor",
    "{}",
    "[]",
    "x" * 4001,
    "汉" * 2001,
    "'; DROP TABLE tickets; --",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "%00",
    "%ZZ",
    "a=b&c=d",
]

HUGE_NUMBERS = [
    2**53,
    2**53 - 1,
    -(2**53),
    2**63,
    2**64 + 1,
    -(2**100),
    10**400,
    1e15,
    1e15 + 2,
    1e308,
    5e-324,
    -0.0,
    0.1,
    float("nan"),
    float("inf"),
    float("-inf"),
]

any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40)
strings = st.one_of(st.sampled_from(NASTY_STRINGS), any_text, st.text(max_size=12))
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HUGE_NUMBERS),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)


def _json_values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=12,
    )


def _properties(model: type[BaseModel]) -> dict[str, Any]:
    """The model's wire names (and its nested models' ones) with their JSON schemas."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    names: dict[str, Any] = {}

    def walk(node: dict[str, Any]) -> None:
        for name, prop in node.get("properties", {}).items():
            names.setdefault(name, prop)
            for ref in _refs(prop):
                walk(defs[ref])

    walk(schema)
    return names


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _examples(model: type[BaseModel]) -> list[Any]:
    extra = model.model_config.get("json_schema_extra")
    return list(extra.get("examples", ())) if isinstance(extra, dict) else []


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member path of a JSON value (objects' keys, lists' indexes)."""
    out: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        out.append((*prefix, key))
        out += _paths(child, (*prefix, key))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return copy


@st.composite
def _mutated(draw: st.DrawFn, valid: list[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """A valid body with one member replaced by a hostile value, or removed."""
    body = draw(st.sampled_from(valid))
    paths = _paths(body)
    if not paths:
        return draw(hostile)
    path = draw(st.sampled_from(paths))
    return _replace(body, path, draw(hostile), draw(st.booleans()))


@st.composite
def _with_extras(draw: st.DrawFn, valid: list[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """A valid body with a few members added (known names, unknown ones, hostile values)."""
    body = dict(draw(st.sampled_from(valid)))
    body.update(draw(st.dictionaries(strings, hostile, min_size=1, max_size=3)))
    return body


def bodies(model: type[BaseModel], valid: list[Any]) -> st.SearchStrategy[Any]:
    names = sorted(_properties(model))
    keys = st.one_of(st.sampled_from(names), strings) if names else strings
    hostile = _json_values(keys)
    objects = st.dictionaries(keys, hostile, max_size=8)
    options = [hostile, objects, _mutated(valid, hostile), _with_extras(valid, hostile)]
    # Valid bodies with a hostile scalar at one place are the most telling: weight them.
    if valid:
        options += [_mutated(valid, scalars), _mutated(valid, scalars), st.sampled_from(valid)]
    return st.one_of(*options)


def queries(model: type[BaseModel]) -> st.SearchStrategy[dict[str, str]]:
    names = sorted(_properties(model))
    keys = st.one_of(st.sampled_from(names), strings) if names else strings
    values = st.one_of(strings, numbers.map(str), st.sampled_from(["1", "200", "201", "0"]))
    return st.one_of(
        st.dictionaries(st.sampled_from(names), values, max_size=len(names)),
        st.dictionaries(keys, values, max_size=6),
    )


def query_string(query: dict[str, str]) -> str:
    """Percent-encoded as UTF-8; lone surrogates go as the bytes a careless client would send."""
    if not query:
        return ""
    parts = [
        f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
        for k, v in query.items()
    ]
    return "?" + "&".join(parts)


def encode(body: Any) -> str:
    """As a careless client would: NaN and Infinity written as such, surrogates escaped."""
    return json.dumps(body, allow_nan=True)


# -- the operations ----------------------------------------------------------------------------


def _role(op: Operation) -> tuple[str, str | None]:
    assert op.roles, op
    preferred = [r for r in op.roles if r not in SCOPED_ROLES]
    role = preferred[0] if preferred else op.roles[0]
    return role, DEPARTMENT if role in SCOPED_ROLES else None


BODY_OPS = [op for op in operations() if op.body is not None and op.path != "/tickets"]
QUERY_OPS = [op for op in operations() if op.query is not None]


READY_FIELDS = {
    "phenomenon": "voice_coverage",
    "fields": FIELDS,
}
# one customer's fresh tickets, each independent: the agent overrides the repeat match (issue 10)
INDEPENDENT = {"repeatOf": None, "repeatOverrideReason": "an independent ticket"}


def _act(api: Api, tid: str, action: str, role: str, body: dict[str, Any], **kw: Any) -> None:
    def done() -> bool:
        status, payload, _ = api.call("POST", f"/tickets/{tid}/{action}", role, body, **kw)
        assert status in (200, 409), (action, status, payload)
        return status == 200

    wait_until(done)


def _ticket_at_step(api: Api, action: str) -> str:
    """A fresh ticket waiting at a step where `action` is allowed, so that bodies are checked
    past the step rule (an action at the wrong step is a 409 before its body is read)."""
    if action == "review":
        return str(api.create(role="agent", **INDEPENDENT)["id"])
    if action in ("reply", "revisit", "archive"):
        tid = str(api.create(role="senior_agent", answer="已当场答复", **INDEPENDENT)["id"])
        if action != "reply":
            _act(api, tid, "reply", "agent", {"content": "已答复", "method": "phone"})
        return tid
    tid = str(api.create(role="senior_agent", **READY_FIELDS, **INDEPENDENT)["id"])
    if action in ("accept", "resolve", "return", "transfer"):
        _act(api, tid, "dispatch", "senior_agent", {"department": DEPARTMENT, "note": "请核查"})
    return tid


def _concrete(api: Api, op: Operation, cache: dict[str, str]) -> str:
    """The operation's path with real values: a ticket at a step where the action is allowed
    (created again once an action moved it), a real service number."""
    path = op.path.replace("{service_number}", SERVICE_NUMBER)
    if "{ticket_id}" in path:
        action = op.path.rsplit("/", 1)[1]
        if op.path not in cache:
            cache[op.path] = _ticket_at_step(api, action)
        path = path.replace("{ticket_id}", cache[op.path])
    return path


def _each(ops: list[Operation], check: Any) -> None:
    """Run `check` on every operation, then fail listing every operation that failed (one
    operation's bug does not hide another's)."""
    failures = []
    for op in ops:
        try:
            check(op)
        except Exception as exc:  # collected, reported below
            failures.append(f"{op.method.upper()} {op.path}: {type(exc).__name__}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_hostile_bodies_are_refused_cleanly(api: Api) -> None:
    cache: dict[str, str] = {}

    def check(op: Operation) -> None:
        assert op.body is not None
        role, department = _role(op)

        @_settings(30)
        @given(body=bodies(op.body, _examples(op.body)))
        def run(body: Any) -> None:
            path = _concrete(api, op, cache)
            raw = encode(body)
            status, headers, payload = send(api, op.method, path, role, raw, department)
            check_answer(status, headers, payload, f"{op.method.upper()} {path} {raw[:300]}")
            if status < 300:
                cache.pop(op.path, None)  # the action moved the ticket: the next one gets a new

        run()

    _each(BODY_OPS, check)


def test_hostile_query_strings_are_refused_cleanly(api: Api) -> None:
    cache: dict[str, str] = {}

    def check(op: Operation) -> None:
        assert op.query is not None
        role, department = _role(op)

        @_settings(30)
        @given(query=queries(op.query))
        def run(query: dict[str, str]) -> None:
            path = _concrete(api, op, cache) + query_string(query)
            status, headers, payload = send(api, op.method, path, role, None, department)
            check_answer(status, headers, payload, f"{op.method.upper()} {path[:300]}")

        run()

    _each(QUERY_OPS, check)


# -- POST /tickets: what is accepted reads back, normalised --------------------------------------


def _valid_tickets() -> list[dict[str, Any]]:
    from chalicelib.domain.shapes import NewTicketBody

    return [
        *_examples(NewTicketBody),
        ticket_body(),
        ticket_body(
            complainant={
                "name": " 李四 ",
                "type": "vip",
                "contactNumber": "+86 139-0000-0000",
                "address": "思明区 1 号",
                "replyMethod": "sms",
            },
            serviceNumber="０５９２ １２３４５６７",
            occurredAt="2026-11-20T01:00:00Z",
            expectedResult="尽快修复",
            fields={"handsetModel": "Mate 60", "count": 3, "ratio": 0.5, "indoor": True},
            flags=["media"],
            urgent=True,
            customerDeadline={"at": "2099-01-01T09:00:00+08:00", "detail": "出国前 须开通"},
            answer="已当场答复",
            source="customer",
        ),
    ]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _phone_ok(sent: str, got: str) -> None:
    """docs/api.md: full-width digits folded to ASCII, separators dropped, +86/0086 removed."""
    expected = re.sub(r"[\s\-.()]", "", unicodedata.normalize("NFKC", sent))
    if expected.startswith("+86"):
        expected = expected[3:]
    elif expected.startswith("0086") and len(expected) > 12:
        expected = expected[4:]
    assert got == expected and got.isascii() and got.isdigit(), (sent, got)


def _instant_ok(sent: str, got: str) -> None:
    expected = datetime.fromisoformat(sent.replace("z", "Z").replace("Z", "+00:00"))
    assert datetime.fromisoformat(got) == expected, (sent, got)
    assert got.endswith("+08:00"), got


def _field_value_ok(sent: Any, got: Any) -> None:
    if isinstance(sent, str):
        assert got == _nfc(sent), (sent, got)
    elif isinstance(sent, bool):
        assert got is sent, (sent, got)
    else:
        assert isinstance(got, int | float) and not isinstance(got, bool), (sent, got)
        assert got == sent, (sent, got)


def check_round_trip(sent: dict[str, Any], got: dict[str, Any]) -> None:
    """Every value the server accepted reads back, in its normalised form."""
    assert got["kind"] == sent["kind"] and got["channel"] == sent["channel"]
    assert got["description"] == _nfc(sent["description"])
    _phone_ok(sent["serviceNumber"], got["serviceNumber"])
    c_sent, c_got = sent["complainant"], got["complainant"]
    assert c_got["name"] == _nfc(c_sent["name"])
    _phone_ok(c_sent["contactNumber"], c_got["contactNumber"])
    assert c_got["type"] == c_sent.get("type", "ordinary")
    assert c_got["replyMethod"] == c_sent.get("replyMethod", "phone")
    if c_sent.get("address") is not None:
        assert c_got["address"] == _nfc(c_sent["address"])
    for name in ("source",):
        if sent.get(name) is not None:
            assert got[name] == sent[name]
    for name in ("expectedResult", "answer"):
        if sent.get(name) is not None:
            assert got[name] == _nfc(sent[name]), name
    if sent.get("answer") is not None:
        assert got["status"] == "answered"
    if sent.get("occurredAt") is not None:
        _instant_ok(sent["occurredAt"], got["occurredAt"])
    if sent.get("location") is not None:
        loc = {k: _nfc(v) for k, v in sent["location"].items() if v is not None}
        assert got["location"] == loc
    if sent.get("phenomenon") is not None:
        assert got["phenomenon"] == sent["phenomenon"]
    if sent.get("category") is not None:
        assert got["category"] == sent["category"]
    if sent.get("urgent") is not None:
        assert got["urgent"] is sent["urgent"]
    for flag in sent.get("flags") or ():
        assert flag in got["flags"]
    for name, value in (sent.get("fields") or {}).items():
        assert name in got["fields"], (name, got["fields"])
        _field_value_ok(value, got["fields"][name])


def _reads_still_work(api: Api, ticket: dict[str, Any], since: str) -> None:
    """The ticket's own reads, and the lists it is in over a short window (an unbounded list walks
    24 months of index pages: those run once, at the end, over every ticket created)."""
    tid = ticket["id"]
    window = f"from={quote(since)}"
    for path in (
        f"/tickets/{tid}/history",
        f"/tickets?{window}&limit=200",
        f"/tickets?status=accepted&{window}",
        f"/tickets?status={ticket['status']}&{window}",
        f"/customers/{ticket['serviceNumber']}/tickets?{window}",
    ):
        status, _, payload = send(api, "GET", path, "complaint_manager")
        assert status == 200, (path, status, payload)
        if "limit=200" in path:
            assert tid in {t["id"] for t in payload["items"]}, path


def _lists_still_work(api: Api, numbers: set[str]) -> None:
    paths = ["/tickets?limit=200", "/tickets", "/tickets?status=accepted"]
    paths += [f"/customers/{n}/tickets" for n in sorted(numbers)]
    for path in paths:
        status, _, payload = send(api, "GET", path, "complaint_manager")
        assert status == 200, (path, status, payload)


def test_create_ticket_with_hostile_bodies(api: Api) -> None:
    from chalicelib.domain.shapes import NewTicketBody
    from chalicelib.services import context, sweep

    valid = _valid_tickets()
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    numbers: set[str] = set()
    created = []

    @_settings(150)
    @given(body=bodies(NewTicketBody, valid))
    def run(body: Any) -> None:
        raw = encode(body)
        status, headers, payload = send(api, "POST", "/tickets", "agent", raw)
        check_answer(status, headers, payload, f"POST /tickets {raw[:300]}")
        if status != 201:
            return
        numbers.add(payload["serviceNumber"])
        created.append(payload["id"])
        code, _, stored = send(api, "GET", f"/tickets/{payload['id']}", "agent")
        assert code == 200, stored
        check_round_trip(body, stored)
        _reads_still_work(api, stored, since.isoformat())
        sweep.run(context.deps())

    run()
    assert len(created) >= 10, f"only {len(created)} accepted: the strategies miss valid bodies"
    _lists_still_work(api, numbers)
    sweep.run(context.deps())


# -- nesting the parser cannot follow --------------------------------------------------------


def test_deeply_nested_bodies_are_a_400(api: Api) -> None:
    failures = []
    for op in [*BODY_OPS, *(op for op in operations() if op.path == "/tickets")]:
        if op.body is None:
            continue
        role, department = _role(op)
        path = _concrete(api, op, {})
        for raw in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000):
            status, headers, payload = send(api, op.method, path, role, raw, department)
            try:
                check_answer(status, headers, payload, f"{op.method.upper()} {path}")
                assert status == 400 and payload["errors"][0]["field"] == "body", payload
            except AssertionError as exc:
                failures.append(str(exc)[:200])
    assert not failures, "\n".join(failures)
