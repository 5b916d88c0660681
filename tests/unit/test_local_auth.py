"""Local tokens (infra/local_auth.py): Cognito's claim names, signed and checked with PyJWT."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from infra.local_auth import ISSUER, MAX_LIFETIME_SECONDS, InvalidToken, make_token, verify

SECRET = "unit-secret-of-at-least-32-bytes!"
ROOT = Path(__file__).resolve().parents[2]


def _signed(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "local-li",
        "cognito:username": "li",
        "cognito:groups": ["agent"],
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, "HS256")


def test_a_token_carries_cognito_claims_and_round_trips() -> None:
    # GIVEN a token for a user in two groups of one department
    token = make_token(["agent", "department"], "network", "li", SECRET)
    # WHEN it is verified
    claims = verify(token, SECRET)
    # THEN it has Cognito's claim names, groups as a list, and a 12-hour life from now
    assert claims["sub"] == "local-li" and claims["cognito:username"] == "li"
    assert claims["cognito:groups"] == ["agent", "department"]
    assert claims["custom:department"] == "network" and claims["iss"] == ISSUER
    assert claims["nbf"] == claims["iat"] and claims["exp"] - claims["iat"] == MAX_LIFETIME_SECONDS


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (lambda: make_token(["agent"], None, None, "another-secret-of-32-bytes-or-more"), "key"),
        (lambda: make_token(["agent"], None, None, SECRET) + "x", "tampered"),
        (lambda: _signed(exp=int(time.time()) - 5), "expired"),
        (lambda: _signed(nbf=int(time.time()) + 300), "not yet valid"),
        (lambda: _signed(iat=int(time.time()) + 300), "issued in the future"),
        (lambda: _signed(iss="someone-else"), "issuer"),
        (lambda: _signed(nbf=None), "no nbf"),
        (lambda: _signed(iat=None), "no iat"),
        (lambda: _signed(exp=None), "no exp"),
        (lambda: jwt.encode({"sub": "x"}, SECRET, "HS384"), "algorithm"),
        (lambda: jwt.encode({"sub": "x", "iss": ISSUER}, None, "none"), "unsigned"),
        (lambda: "a.b.c", "junk"),
        (lambda: "", "empty"),
    ],
)
def test_tokens_that_are_not_good_are_refused(token, why) -> None:
    # WHEN a bad token is verified THEN it is refused
    with pytest.raises(InvalidToken):
        verify(token(), SECRET)


def test_a_token_living_longer_than_12_hours_is_refused() -> None:
    # GIVEN a token valid for exactly 12 hours and one valid a second longer
    ok = make_token(["agent"], None, None, SECRET, lifetime=MAX_LIFETIME_SECONDS)
    long = make_token(["agent"], None, None, SECRET, lifetime=MAX_LIFETIME_SECONDS + 1)
    # THEN the first is accepted and the second refused, although neither has expired
    assert verify(ok, SECRET)["sub"]
    with pytest.raises(InvalidToken, match="12 hours"):
        verify(long, SECRET)


def test_the_token_command_accepts_several_roles(tmp_path: Path) -> None:
    # WHEN `python -m infra.local token` is given --role twice
    args = ["token", "--role", "agent", "--role", "auditor", "--department", "network"]
    out = subprocess.run(
        [sys.executable, "-m", "infra.local", *args, "--user", "li"],
        cwd=ROOT,
        env={"LOCAL_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # THEN the token, signed with the local stack's secret, carries both groups
    secret = (tmp_path / "jwt-secret").read_text().strip()
    claims = verify(out, secret)
    assert claims["cognito:groups"] == ["agent", "auditor"]
    assert claims["custom:department"] == "network" and claims["cognito:username"] == "li"


def test_the_token_command_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.local", "token", "--role", "agent", "--role", "janitor"],
        cwd=ROOT,
        env={"LOCAL_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "janitor" in result.stderr
