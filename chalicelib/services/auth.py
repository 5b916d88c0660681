"""Who is calling: the claims API Gateway's Cognito authorizer put in the request context.

There is one code path, the AWS one: API Gateway has validated the Cognito token before the
Lambda runs and hands its claims over as `requestContext.authorizer.claims`. The local stack and
the tests do the same in local-only glue (infra/local_auth.py), never in the deployed package.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import Unauthorized
from chalicelib.domain.vocabulary import ROLES


def _groups(value: Any) -> tuple[str, ...]:
    """`cognito:groups` as a list (a JSON token) or as API Gateway flattens it ("[a, b]", "a,b",
    "a b"); anything else is not a token this API issued."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.strip().removeprefix("[").removesuffix("]").replace(",", " ").split()
        return tuple(parts)
    if isinstance(value, list) and all(isinstance(g, str) for g in value):
        return tuple(value)
    raise Unauthorized("the token's groups are malformed")


def _optional_text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unauthorized(f"the token's {name} is malformed")
    return value


def principal_from_claims(claims: Any) -> Principal:
    """The caller named by validated claims; any shape this API does not issue is a 401."""
    if not isinstance(claims, dict):
        raise Unauthorized("no validated token")
    roles = tuple(g for g in _groups(claims.get("cognito:groups")) if g in ROLES)
    sub = _optional_text(claims, "sub")
    if not sub or not roles:
        raise Unauthorized("the token names no user or no known role")
    username = _optional_text(claims, "cognito:username") or sub
    department = _optional_text(claims, "custom:department")
    return Principal(sub=sub, username=username, roles=roles, department=department)


def principal_from_request(context: dict[str, Any] | None) -> Principal:
    authorizer = (context or {}).get("authorizer")
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    return principal_from_claims(claims)
