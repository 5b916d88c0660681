"""Local-only: what API Gateway's Cognito authorizer does on AWS, for the local stack and tests.

    make_token(["agent"], None, "agent-li", secret)   an HS256 JWT with Cognito's claim names
    verify(token, secret)                             its claims, or InvalidToken
    install(app, secret)                              chalice's local gateway verifies bearer
                                                      tokens and injects
                                                      requestContext.authorizer.claims

Never deployed (it lives outside chalicelib/, and PyJWT is a dev requirement): the app itself has
one code path, reading the claims API Gateway put in the request context.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

ISSUER = "complaint-tickets-local"
MAX_LIFETIME_SECONDS = 12 * 3600
TEMPLATE = Path(__file__).resolve().parent / "template.json"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "nbf", "iss"]


class InvalidToken(Exception):
    """The bearer token is missing, malformed, forged, expired, not yet valid or too long-lived."""


def make_token(
    roles: list[str],
    department: str | None = None,
    user: str | None = None,
    secret: str = "",
    lifetime: int = MAX_LIFETIME_SECONDS,
) -> str:
    """A token with the claims a Cognito ID token carries (groups are a list: a user may be in
    several), valid from now for `lifetime` seconds."""
    if not secret:
        raise ValueError("a signing secret is required")
    first = roles[0] if roles else "nobody"
    name = user or (f"{first}-{department}" if department else first)
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": f"local-{name}",
        "cognito:username": name,
        "cognito:groups": list(roles),
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + int(lifetime),
    }
    if department:
        claims["custom:department"] = department
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str, secret: str) -> dict[str, Any]:
    """The token's claims after PyJWT checked signature (HS256 only), exp, iat, nbf and issuer;
    a lifetime (exp − iat) over 12 hours is refused too."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS, "verify_iat": True},
        )
    except jwt.PyJWTError as err:
        raise InvalidToken(str(err)) from None
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidToken("exp and iat must be numbers")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise InvalidToken("the token lives longer than 12 hours")
    return claims


def bearer(headers: dict[str, Any]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


# -- API Gateway's own answers, declared once in infra/template.json -----------------------------


def gateway_response(kind: str, origin: str | None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the template's gateway response `kind` (UNAUTHORIZED,
    MISSING_AUTHENTICATION_TOKEN, ...). The CORS headers follow the app's own origin check (on
    AWS the gateway echoes any origin on these data-free answers: docs/decisions/0008-cors.md)."""
    from chalicelib.api import cors

    definition = json.loads(TEMPLATE.read_text())["Resources"]["RestAPI"]["Properties"][
        "DefinitionBody"
    ]["x-amazon-apigateway-gateway-responses"][kind]
    headers = {
        "Content-Type": "application/problem+json",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "x-amzn-ErrorType": kind,
        **cors.response_headers(origin),
    }
    body = definition["responseTemplates"]["application/json"].encode()
    return int(definition["statusCode"]), headers, body


# -- chalice's local gateway plays API Gateway ---------------------------------------------------

_SECRETS: dict[int, str] = {}
_PATCHED = False


def _refusal(kind: str, headers: dict[str, Any]) -> Exception:
    from chalice.local import LocalGatewayException

    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    status, out, body = gateway_response(kind, origin)
    error = LocalGatewayException(out, body)
    error.CODE = status
    return error


def install(app: Any, secret: str) -> None:
    """Make chalice's local gateway (its HTTP server and chalice.test.Client) act like API Gateway
    for `app`: routes with an authorizer need a valid bearer token, whose claims are injected as
    `requestContext.authorizer.claims`; a bad or missing one is a 401 problem+json that never
    echoes the token; an unknown path is a 404 problem+json (not chalice's 403 echoing the
    Authorization header)."""
    global _PATCHED
    _SECRETS[id(app)] = secret
    if _PATCHED:
        return
    from chalice.local import LocalGateway, LocalGatewayAuthorizer

    original_authorize = LocalGatewayAuthorizer.authorize
    original_handle = LocalGateway.handle_request

    def authorize(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        key = _SECRETS.get(id(self._app_object))
        if key is None:
            return original_authorize(self, raw_path, lambda_event, lambda_context)
        route = self._route_for_event(lambda_event)
        if route is None or route.authorizer is None:
            return lambda_event, lambda_context
        headers = lambda_event.get("headers") or {}
        token = bearer(headers)
        try:
            if token is None:
                raise InvalidToken("no bearer token")
            claims = verify(token, key)
        except InvalidToken:
            raise _refusal("UNAUTHORIZED", headers) from None
        lambda_event["requestContext"]["authorizer"] = {"claims": claims}
        return lambda_event, lambda_context

    def handle_request(
        self: Any, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> Any:
        if id(self._app_object) in _SECRETS:
            try:
                self.event_converter._route_matcher.match_route(path)
            except ValueError:
                raise _refusal("MISSING_AUTHENTICATION_TOKEN", headers) from None
        return original_handle(self, method, path, headers, body)

    LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]
    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _PATCHED = True
