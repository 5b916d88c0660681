"""The HTTP edges: unknown routes, wrong methods, bodies, If-Match, ETags, tokens and CORS — all
problem+json, none echoing a token."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from infra.local_auth import ISSUER
from tests.conftest import TOKEN_SECRET
from tests.functional.conftest import Api, auth, ticket_body, token
from tests.functional.test_lifecycle_paths import _waiting

ALLOWED = "http://localhost:5173"
DISALLOWED = "https://evil.example"


def _problem(resp) -> dict:
    assert resp.headers["Content-Type"] == "application/problem+json", resp.headers
    body: dict = json.loads(resp.body)
    assert body["status"] == resp.status_code
    return body


# -- unknown routes and wrong methods --------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/tickets/T1/nope/deeper", "/tickets/T1/fly"])
def test_an_unknown_route_is_404_problem_json_without_the_token(client, path) -> None:
    # GIVEN a request with a bearer token to a path no route has
    headers = auth("agent")
    # WHEN it is sent
    resp = client.http.post(path, headers=headers, body="{}")
    # THEN it is a 404 problem+json with code not_found, and the token appears nowhere
    problem = _problem(resp)
    assert resp.status_code == 404 and problem["code"] == "not_found"
    secret_part = headers["Authorization"].split()[1]
    assert secret_part not in resp.body.decode()
    assert all(secret_part not in str(v) for v in resp.headers.values())


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/tickets", "GET, POST, OPTIONS"),
        ("PUT", "/health", "GET, OPTIONS"),
        ("GET", "/tickets/T1/accept", "POST, OPTIONS"),
        ("POST", "/blacklist/13800138000", "PUT, DELETE, OPTIONS"),
    ],
)
def test_a_wrong_method_is_405_with_allow(client, method, path, allow) -> None:
    # WHEN a path is asked with a method it does not have (with or without a token)
    for headers in (auth("agent"), {}):
        resp = client.http.request(method, path, headers=headers, body=b"")
        # THEN it is a 405 problem+json listing the path's methods in Allow
        problem = _problem(resp)
        assert resp.status_code == 405 and problem["code"] == "method_not_allowed"
        assert resp.headers["Allow"] == allow


# -- bodies ----------------------------------------------------------------------------------


def test_a_body_over_64_kb_is_413_naming_body(api: Api) -> None:
    raw = json.dumps(ticket_body(description="x" * 10)) + " " * (64 * 1024)
    status, problem, headers = api.call("POST", "/tickets", "agent", raw)
    assert status == 413 and headers["Content-Type"] == "application/problem+json"
    assert problem["errors"][0]["field"] == "body" and problem["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "ctype",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_body_that_is_not_application_json_is_415(api: Api, ctype) -> None:
    status, problem, _ = api.call(
        "POST", "/tickets", "agent", json.dumps(ticket_body()), headers={"Content-Type": ctype}
    )
    assert status == 415 and problem["errors"][0]["field"] == "Content-Type"
    assert problem["code"] == "unsupported_media_type"


def test_an_action_with_a_body_of_the_wrong_type_is_415(api: Api) -> None:
    t = api.create()
    status, problem, _ = api.call(
        "POST",
        f"/tickets/{t['id']}/note",
        "agent",
        "text=hi",
        headers={"Content-Type": "text/plain"},
    )
    assert status == 415 and problem["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize(
    "raw",
    [
        '{"kind": NaN}',
        '{"kind": Infinity}',
        '{"kind": -Infinity}',
        '{"urgent": 1e400}',
        '{"urgent": -1e400}',
        "[" * 33 + "]" * 33,
        '{"a":' * 40 + "1" + "}" * 40,
        "[" * 20000 + "]" * 20000,  # far past the parser's recursion, still under 64 KB
        b'{"kind": "\xff"}',
    ],
)
def test_non_json_numbers_deep_nesting_and_bad_utf8_are_400_naming_body(api: Api, raw) -> None:
    # WHEN such a body is posted THEN it is a 400 naming `body`, never a 500
    status, problem, _ = api.call("POST", "/tickets", "agent", raw)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == ["body"]


def test_brackets_inside_strings_are_not_nesting(api: Api) -> None:
    # GIVEN a description full of brackets (more than 32), inside a string
    status, _, _ = api.call(
        "POST", "/tickets", "agent", ticket_body(description="信号[[[[" + "[{" * 40 + "]]")
    )
    # THEN it is an ordinary ticket
    assert status == 201


# -- ETag and If-Match -------------------------------------------------------------------------


def test_etags_are_quoted(api: Api) -> None:
    status, created, headers = api.call("POST", "/tickets", "agent", ticket_body())
    assert status == 201 and headers["ETag"] == f'"{created["version"]}"'
    _, read, headers = api.call("GET", f"/tickets/{created['id']}")
    assert headers["ETag"] == f'"{read["version"]}"'


@pytest.mark.parametrize("value", ["²", 'W/"1"', "abc", '"1', "1 2", "*", "1" * 13, "-1", "١"])
def test_if_match_that_is_not_a_version_is_400(api: Api, value) -> None:
    t = api.create()
    status, problem, _ = api.call(
        "POST", f"/tickets/{t['id']}/note", "agent", {"text": "x"}, headers={"If-Match": value}
    )
    assert status == 400 and [e["field"] for e in problem["errors"]] == ["If-Match"]


def test_if_match_accepts_quoted_and_bare_versions(api: Api) -> None:
    # GIVEN a ticket waiting for its review
    t = api.create(role="agent")
    ticket = _waiting(api, t["id"], "review")
    path = f"/tickets/{t['id']}/note"
    # WHEN an older version is sent, quoted or bare THEN both are read as that number: stale
    for stale in (f'"{ticket.version - 1}"', str(ticket.version - 1)):
        status, problem, _ = api.call(
            "POST", path, "agent", {"text": "x"}, headers={"If-Match": stale}
        )
        assert status == 409 and problem["code"] == "stale_version", stale
    # AND the current one, quoted as the ETag was, lets the action through
    _, _, headers = api.call("GET", f"/tickets/{t['id']}")
    status, noted, _ = api.call(
        "POST", path, "agent", {"text": "客户补充"}, headers={"If-Match": headers["ETag"]}
    )
    assert status == 200, noted


# -- tokens --------------------------------------------------------------------------------------


def _raw_token(**claims) -> str:
    now = int(time.time())
    base = {"sub": "u", "iss": ISSUER, "iat": now, "nbf": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, TOKEN_SECRET, "HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"cognito:groups": 5},
        {"cognito:groups": {"agent": 1}},
        {"cognito:groups": ["agent", 3]},
        {"cognito:groups": ["agent"], "sub": 12},
    ],
)
def test_claims_of_a_shape_never_issued_are_401(client, claims) -> None:
    # GIVEN a validly signed token whose claims have the wrong types
    resp = client.http.get("/tickets", headers={"Authorization": f"Bearer {_raw_token(**claims)}"})
    # THEN it is a 401 problem+json, not a 500
    assert resp.status_code == 401 and _problem(resp)["type"].endswith("/unauthorized")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "Bearer nonsense-token-value",
        "Basic abc",
        "Bearer " + _raw_token(**{"cognito:groups": ["agent"]}, exp=int(time.time()) + 13 * 3600),
    ],
)
def test_a_missing_or_bad_token_is_401_problem_without_echo(client, bad) -> None:
    headers = {} if bad is None else {"Authorization": bad}
    resp = client.http.get("/tickets", headers=headers)
    problem = _problem(resp)
    assert resp.status_code == 401 and problem["code"] == "unauthorized"
    if bad:
        assert bad.split()[-1] not in resp.body.decode()


def test_a_user_in_several_groups_has_every_role(api: Api, client) -> None:
    # GIVEN one token for a user in the agent and auditor groups
    headers = {"Authorization": f"Bearer {token(['agent', 'auditor'])}"}
    # THEN it may both list tickets (any role) and read the audit (auditor only)
    assert client.http.get("/tickets", headers=headers).status_code == 200
    assert client.http.get("/audit", headers=headers).status_code == 200


def test_health_and_the_openapi_document_need_no_token(client) -> None:
    assert client.http.get("/health").status_code == 200
    resp = client.http.get("/openapi.json")
    assert resp.status_code == 200 and json.loads(resp.body)["openapi"].startswith("3.1")


# -- CORS ----------------------------------------------------------------------------------------


def test_a_preflight_from_an_allowed_origin_gets_the_allow_headers(client) -> None:
    # WHEN a browser at an allowed origin asks before POSTing an action
    resp = client.http.request(
        "OPTIONS",
        "/tickets/T1/dispatch",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    # THEN a 204 allows that origin, the path's methods and the API's request headers
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert resp.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert resp.headers["Access-Control-Allow-Headers"] == (
        "Authorization, Content-Type, Idempotency-Key, If-Match"
    )
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in resp.headers["Vary"]


@pytest.mark.parametrize(
    "origin", [DISALLOWED, "http://localhost.evil.example:80", "http://localhost:80x", None]
)
def test_a_preflight_from_another_origin_gets_no_allow_headers(client, origin) -> None:
    headers = {"Access-Control-Request-Method": "GET", **({"Origin": origin} if origin else {})}
    resp = client.http.request("OPTIONS", "/tickets", headers=headers)
    assert resp.status_code == 204
    assert not any(k.lower().startswith("access-control-allow") for k in resp.headers)
    assert "Origin" in resp.headers["Vary"]


def _cors(resp, origin: str = ALLOWED) -> None:
    assert resp.headers["Access-Control-Allow-Origin"] == origin, resp.headers
    assert "Origin" in resp.headers["Vary"]
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag, Location, Idempotent-Replayed"


def test_cors_headers_on_success_and_on_errors(client) -> None:
    headers = {**auth("agent"), "Origin": ALLOWED}
    # a 200, a 201
    _cors(client.http.get("/tickets", headers=headers))
    _cors(client.http.post("/tickets", headers=headers, body=json.dumps(ticket_body())))
    # a 400 from validation
    bad = client.http.post("/tickets", headers=headers, body='{"kind": "rant"}')
    assert bad.status_code == 400
    _cors(bad)
    # a 401 from the gateway (no token) and one from the app (claims of the wrong shape)
    no_token = client.http.get("/tickets", headers={"Origin": ALLOWED})
    assert no_token.status_code == 401
    _cors(no_token)
    wrong = client.http.get(
        "/tickets",
        headers={
            "Origin": ALLOWED,
            "Authorization": f"Bearer {_raw_token(**{'cognito:groups': 5})}",
        },
    )
    assert wrong.status_code == 401
    _cors(wrong)
    # a 404 for an unknown route and a 405
    _cors(client.http.get("/nowhere", headers={"Origin": ALLOWED}))
    _cors(client.http.request("PATCH", "/tickets", headers={"Origin": ALLOWED}))


def test_a_disallowed_origin_gets_no_allow_origin(client) -> None:
    resp = client.http.get("/tickets", headers={**auth("agent"), "Origin": DISALLOWED})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Origin" in resp.headers["Vary"]
