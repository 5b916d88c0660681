"""Issue 13 item 2: `resolve` takes a cause of the ticket's phenomenon, and its script becomes the
ticket's `answerScript` unless the department writes its own."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import ValidationFailed
from tests.unit.test_lifecycle import CATALOG, act, at_step, who

COVERAGE = CATALOG.phenomena["voice_coverage"]


def _refused(ticket_changes: dict[str, Any], body: dict[str, Any]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        act("resolve", at_step("handle", **ticket_changes), who("department"), body)
    return caught.value


@pytest.mark.parametrize(
    ("ticket_changes", "cause", "allowed"),
    [
        ({}, "aliens", [c.code for c in COVERAGE.causes]),
        # a known cause of another phenomenon is still not this one's
        ({}, "sms_center_number", [c.code for c in COVERAGE.causes]),
        ({"phenomenon": "cannot_call_out"}, "weak_coverage", ["outgoing_barred", "line2_setting"]),
        # a category-only ticket: any cause of one of its category's phenomena
        (
            {"phenomenon": None},
            "aliens",
            ["weak_coverage", "outgoing_barred", "gateway_congestion"],
        ),
    ],
)
def test_an_unknown_cause_is_a_400_naming_cause_and_listing_the_allowed_codes(
    ticket_changes: dict[str, Any], cause: str, allowed: list[str]
) -> None:
    # GIVEN a ticket the department handles WHEN it resolves with a cause not in the catalog
    problem = _refused(ticket_changes, {"cause": cause, "result": "查明"})
    # THEN 400 naming `cause`, with the allowed codes
    (error,) = problem.errors
    assert error.field == "cause"
    assert repr(cause) in error.message
    for code in allowed:
        assert code in error.message


@pytest.mark.parametrize(
    ("ticket_changes", "body", "script", "origin"),
    [
        # the catalog's script for the cause found
        (
            {},
            {"cause": "indoor_shielding", "result": "室内覆盖差"},
            COVERAGE.scripts["indoor_shielding"],
            "catalog",
        ),
        (
            {"phenomenon": "cannot_call_out", "category": "basic_communication"},
            {"cause": "line2_setting", "result": "改为线路1"},
            CATALOG.phenomena["cannot_call_out"].scripts["line2_setting"],
            "catalog",
        ),
        # the department's own script wins (and replaces one a bulletin set)
        (
            {"answer_script": "公告口径"},
            {"cause": "weak_coverage", "result": "新建基站", "answerScript": "基站下月开通"},
            "基站下月开通",
            "department",
        ),
        # a category-only ticket: the cause is checked, but no single script fits
        (
            {"phenomenon": None, "answer_script": None},
            {"cause": "weak_coverage", "result": "r"},
            None,
            None,
        ),
    ],
)
def test_the_answer_script_comes_from_the_cause_unless_the_department_brings_its_own(
    ticket_changes: dict[str, Any], body: dict[str, Any], script: str | None, origin: str | None
) -> None:
    d = act("resolve", at_step("handle", **ticket_changes), who("department"), body)
    assert d.changes.get("answer_script") == script
    assert d.details.get("answerScript") == origin
    assert d.changes["resolution"]["cause"] == body["cause"]
    assert d.next_step == "reply"


def test_a_blank_or_overlong_own_script_is_refused() -> None:
    for script in ("", "x" * 2001):
        problem = _refused({}, {"cause": "weak_coverage", "result": "r", "answerScript": script})
        assert [e.field for e in problem.errors] == ["answerScript"]
