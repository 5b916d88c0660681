"""Schemathesis against the document the local stack serves, for every role.

The schema is loaded from the running stack (`GET /openapi.json`). For each of the eight roles
(department-scoped ones in `network`), every operation gets a few generated cases, schema-valid
and not, some aimed at real tickets and a real service number seeded first, sent with the
role's token. Each answer must not be a server error, must use a documented status code and
content type, and must match the documented schema. Schema-valid data may still be refused (404,
409: the rules), so `positive_data_acceptance` is not checked.

Failures are collected over every role and operation (deduplicated by operation and check), then
reported together; examples are derandomized so CI sees the same cases every run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.domain.vocabulary import ROLES
from tests.e2e.conftest import Stack
from tests.e2e.test_lifecycle_e2e import FIELDS

pytestmark = pytest.mark.e2e


SCOPED = ("department", "complaint_admin")
DEPARTMENT = "network"
SERVICE_NUMBER = "13800138000"
CASES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
READY = {
    "kind": "complaint",
    "channel": "hotline",
    "complainant": {"name": "王五", "contactNumber": SERVICE_NUMBER},
    "serviceNumber": SERVICE_NUMBER,
    "description": "家里信号差，电话经常断",
    "phenomenon": "voice_coverage",
    "fields": FIELDS,
    # the seed's tickets are independent of each other: the repeat match overridden (issue 10)
    "repeatOf": None,
    "repeatOverrideReason": "an independent ticket",
}


def _retry(call: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Actions right after another may meet a workflow still catching up (409): retry."""
    deadline = time.monotonic() + timeout
    while True:
        resp = call()
        if resp.status_code < 300 or time.monotonic() > deadline:
            assert resp.status_code < 300, (resp.status_code, resp.text)
            return resp.json()
        time.sleep(0.2)


def _seed(stack: Stack) -> list[str]:
    """A few real tickets at different steps, one in the network department's hands, one
    answered at intake and one blacklisted number, so that some cases hit real data."""
    agent = stack.call("POST", "/tickets", "agent", READY).json()
    senior = stack.call("POST", "/tickets", "senior_agent", READY).json()
    answered = stack.call("POST", "/tickets", "agent", {**READY, "answer": "已当场答复"}).json()
    dispatched = stack.call("POST", "/tickets", "senior_agent", READY).json()
    _retry(
        lambda: stack.call(
            "POST",
            f"/tickets/{dispatched['id']}/dispatch",
            "senior_agent",
            {"department": DEPARTMENT, "note": "请核查"},
        )
    )
    listed = stack.call("PUT", "/blacklist/13900000000", "complaint_manager", {"reason": "多次"})
    assert listed.status_code == 200, listed.text
    return [t["id"] for t in (agent, senior, answered, dispatched)]


@pytest.fixture(scope="module")
def schema(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(stack.url + "/openapi.json", timeout=30)


def _strategy(operation: Any, ids: list[str]) -> st.SearchStrategy[Any]:
    """Generated cases (valid and not), plus valid ones pointed at real tickets and numbers."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    generated = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = {p.name for p in operation.path_parameters}
    real: list[st.SearchStrategy[Any]] = []
    if names:
        fixed = []
        for ticket_id in ids:
            values = {"ticket_id": ticket_id, "service_number": SERVICE_NUMBER}
            fixed.append({k: v for k, v in values.items() if k in names})
        real = [st.sampled_from(fixed).flatmap(lambda p: operation.as_strategy(path_parameters=p))]
    return st.one_of(*generated, *real)


def _describe(operation: Any, role: str, group: BaseExceptionGroup[Any]) -> dict[str, str]:
    out = {}
    for failure in group.exceptions:
        key = f"{operation.method.upper()} {operation.path} [{type(failure).__name__}]"
        out[key] = f"role {role}: {failure}"
    return out


def _fuzz(
    stack: Stack,
    operation: Any,
    ids: list[str],
    role: str,
    headers: dict[str, str],
    checks: list[Any] = CHECKS,
) -> tuple[int, dict[str, str]]:
    """Run the operation's cases; (cases sent, failures by operation and check)."""
    failures: dict[str, str] = {}
    sent = 0

    @settings(
        max_examples=CASES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, ids))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(base_url=stack.url, headers=headers, checks=checks, timeout=30)
        except FailureGroup as group:
            for key, text in _describe(operation, role, group).items():
                failures.setdefault(key, text)

    run()
    return sent, failures


def _fuzz_all(
    stack: Stack, schema: Any, role: str, checks: list[Any], only: Callable[[Any], bool]
) -> None:
    ids = stack.__dict__.get("seeded") or _seed(stack)
    stack.__dict__["seeded"] = ids
    department = DEPARTMENT if role in SCOPED else None
    headers = {"Authorization": f"Bearer {stack.token(role, department)}"}
    failures: dict[str, str] = {}
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only(operation):
            continue
        count, found = _fuzz(stack, operation, ids, role, headers, checks)
        sent += count
        for key, text in found.items():
            failures.setdefault(key, text)

    assert sent >= 50, sent
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(
        f"{key}\n{text}" for key, text in sorted(failures.items())
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_for_every_role(stack: Stack, schema: Any, role: str) -> None:
    _fuzz_all(stack, schema, role, CHECKS, lambda operation: True)


def test_response_headers_conform(stack: Stack, schema: Any) -> None:
    def declares_headers(operation: Any) -> bool:
        responses = operation.definition.raw.get("responses", {})
        return any("headers" in r for r in responses.values() if isinstance(r, dict))

    checks = [*CHECKS, response_headers_conformance]
    _fuzz_all(stack, schema, "complaint_manager", checks, declares_headers)
