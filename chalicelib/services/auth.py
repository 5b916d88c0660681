"""Who is calling: claims from API Gateway's Cognito authorizer on AWS, or a locally signed token.

On AWS (AUTH_MODE=cognito) API Gateway has already validated the Cognito token and hands the
claims over in the request context. Locally (AUTH_MODE=local) the app verifies an HS256 token with
the same claims, signed by `python -m infra.local token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from chalicelib import config
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.vocabulary import ROLES

ISSUER_LOCAL = "complaint-tickets-local"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def sign_local_token(claims: dict[str, Any], secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def verify_local_token(token: str, secret: str, now: float | None = None) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("the bearer token is malformed")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        sig = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("the bearer token is malformed") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise Unauthorized("the bearer token is not signed as this API expects")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, expected):
        raise Unauthorized("the bearer token's signature is invalid")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < (now if now is not None else time.time()):
        raise Unauthorized("the bearer token has expired")
    return claims


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):  # API Gateway flattens lists into "[a, b]" or "a,b"
        groups = [g.strip(" []") for g in groups.replace(" ", ",").split(",") if g.strip(" []")]
    roles = tuple(g for g in groups if g in ROLES)
    sub = claims.get("sub")
    if not sub or not roles:
        raise Unauthorized("the token names no user or no known role")
    username = str(claims.get("cognito:username") or sub)
    department = claims.get("custom:department") or None
    return Principal(sub=str(sub), username=username, roles=roles, department=department)


def principal_from_request(headers: dict[str, str], context: dict[str, Any]) -> Principal:
    if config.auth_mode() == "cognito":
        claims = ((context or {}).get("authorizer") or {}).get("claims")
        if not isinstance(claims, dict):
            raise Unauthorized("no validated token")
        return principal_from_claims(claims)
    secret = config.local_jwt_secret()
    if not secret:
        raise Unauthorized("local authentication is not configured (LOCAL_JWT_SECRET)")
    auth = headers.get("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return principal_from_claims(verify_local_token(token.strip(), secret))
