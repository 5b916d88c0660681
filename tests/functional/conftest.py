"""Functional fixtures: moto in-process with Step Functions execution on, the stack from
infra/template.json, and the Chalice test client with tokens for each role."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from infra import local_auth, moto_patches
from infra.local import LOCAL_ALLOWED_ORIGINS
from infra.resources import create_all
from tests.conftest import STACK, TOKEN_SECRET

moto_patches.apply()


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        from app import app

        stack = create_all(
            boto3.session.Session(region_name="us-east-1"),
            STACK,
            app=app,
            parameters={
                "AllowedOrigins": LOCAL_ALLOWED_ORIGINS,
                "SlaPolicy": os.environ.get("SLA_POLICY", "default"),
            },
        )
        saved = {k: os.environ.get(k) for k in stack.environment()}
        os.environ.update(stack.environment())
        _reset_caches()
        try:
            yield stack
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            _reset_caches()


def _reset_caches() -> None:
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.services import context

    aws_clients.reset()
    context.deps.cache_clear()


@pytest.fixture
def client(aws: Any) -> Iterator[Client]:
    from app import app

    # The test client plays API Gateway as the local stack does: tokens verified, claims injected.
    local_auth.install(app, TOKEN_SECRET)
    with Client(app) as c:
        yield c


def token(
    role: str | list[str],
    department: str | None = None,
    user: str | None = None,
    lifetime: int = local_auth.MAX_LIFETIME_SECONDS,
) -> str:
    """A bearer token for one role or several (Cognito groups), signed as the local stack signs."""
    roles = [role] if isinstance(role, str) else role
    return local_auth.make_token(roles, department, user, TOKEN_SECRET, lifetime)


def auth(role: str, department: str | None = None, user: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token(role, department, user)}",
        "Content-Type": "application/json",
    }


_numbers = itertools.count(1)


def fresh_number() -> str:
    """Another customer's service number: tickets of one customer about one phenomenon are
    repeats of each other (issue 10), so independent tickets get numbers of their own."""
    return f"139{next(_numbers):08d}"


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {
            "name": "张三",
            "type": "ordinary",
            "contactNumber": "13800138000",
            "replyMethod": "phone",
        },
        "serviceNumber": "13800138000",
        "description": "家里手机信号不好，只有一两格，通话断断续续",
        "location": {"area": "思明区", "landmark": "中山路步行街"},
    }
    body.update(overrides)
    return body


class Api:
    """The Chalice test client with JSON in and out, per role."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        role: str = "agent",
        body: Any = None,
        department: str | None = None,
        headers: dict[str, str] | None = None,
        user: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        h = {**auth(role, department, user), **(headers or {})}
        raw = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        resp = getattr(self.client.http, method.lower())(path, headers=h, body=raw)
        payload = json.loads(resp.body) if resp.body else None
        return resp.status_code, payload, resp.headers

    def create(
        self, role: str = "agent", user: str | None = None, **overrides: Any
    ) -> dict[str, Any]:
        status, body, _ = self.call("POST", "/tickets", role, ticket_body(**overrides), user=user)
        assert status == 201, body
        return body  # type: ignore[no-any-return]


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Executions run on moto's threads: wait for what they write instead of sleeping blindly."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
