"""Department scope with combined roles, and what each part of a note needs (the hostile tester's
findings): tables of role combinations × actions × which department holds the ticket.

Roles combine as a union, but `department` and `complaint_admin` count only inside the user's
department; whatever is out of the user's view is answered as missing (404), before any role.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import Conflict, DomainError, Forbidden, NotFound
from chalicelib.domain.lifecycle import Decision
from tests.unit.test_lifecycle import HOME, OTHER, act, at_step

# Which department holds the ticket (network is the user's department throughout).
HOLDINGS: dict[str, dict[str, Any]] = {
    "home": {"department": HOME, "departments": (HOME,)},  # network holds it now
    "moved": {"department": OTHER, "departments": (HOME, OTHER)},  # network held it before
    "never": {"department": OTHER, "departments": (OTHER,)},  # network never held it
}
STEP_OF = {
    "accept": "accept",
    "resolve": "handle",
    "return": "handle",
    "transfer": "handle",
    "archive": "archive",
    "note": "handle",
}
BODY = {
    "accept": {},
    "resolve": {"cause": "weak_coverage", "result": "已优化"},
    "return": {"reason": "不属于本部门"},
    "transfer": {"department": "marketing", "reason": "营销问题"},
    "archive": {"analysis": "典型案例", "noRevisitReason": "客户无法联系"},
    "note": {"text": "客户补充"},
}
ACTED = tuple(STEP_OF)

# roles → holding → the answer to each of ACTED, in order: ok, 403, 404, or 409 (not your dept).
ALL = {a: "404" for a in ACTED}
SCOPE_TABLE: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {
    ("department",): {
        "home": ("ok", "ok", "ok", "ok", "403", "ok"),
        "moved": ("409", "409", "409", "409", "403", "409"),
        "never": ("404",) * 6,
    },
    ("complaint_admin",): {
        "home": ("ok",) * 6,
        "moved": ("409",) * 6,
        "never": ("404",) * 6,
    },
    # the finding: an agent who is also in network's department accepted billing's ticket
    ("agent", "department"): {
        "home": ("ok", "ok", "ok", "ok", "403", "ok"),
        "moved": ("409", "409", "409", "409", "403", "ok"),
        "never": ("409", "409", "409", "409", "403", "ok"),
    },
    ("agent", "complaint_admin"): {
        "home": ("ok",) * 6,
        "moved": ("409", "409", "409", "409", "409", "ok"),
        "never": ("409", "409", "409", "409", "409", "ok"),
    },
    ("complaint_manager", "department"): {
        "home": ("ok",) * 6,
        "moved": ("409", "409", "409", "ok", "ok", "ok"),
        "never": ("409", "409", "409", "ok", "ok", "ok"),
    },
    ("leader",): {h: ("403", "403", "403", "403", "403", "ok") for h in HOLDINGS},
}
SCOPE_CASES = [
    (roles, holding, action, expected[i])
    for roles, by_holding in SCOPE_TABLE.items()
    for holding, expected in by_holding.items()
    for i, action in enumerate(ACTED)
]


def outcome(action: str, roles: tuple[str, ...], holding: str, body: Any) -> str:
    t = at_step(STEP_OF[action], **HOLDINGS[holding])
    p = Principal("sub-u", "u", roles, HOME)
    try:
        decision = act(action, t, p, body)
    except NotFound as exc:
        assert exc.detail == f"no ticket {t.id}"  # exactly what a missing ticket answers
        return "404"
    except Forbidden:
        return "403"
    except Conflict as exc:
        assert exc.code == "not_your_department", exc.code
        return "409"
    assert isinstance(decision, Decision) and decision.action == action
    return "ok"


@pytest.mark.parametrize(("roles", "holding", "action", "expected"), SCOPE_CASES)
def test_department_roles_count_only_at_home_whatever_else_the_user_is(
    roles: tuple[str, ...], holding: str, action: str, expected: str
) -> None:
    # GIVEN a network user with `roles` and a ticket `holding` says who holds
    # WHEN the user takes `action`  THEN the table's answer
    assert outcome(action, roles, holding, BODY[action]) == expected


@pytest.mark.parametrize("action", ACTED)
def test_out_of_scope_is_404_before_any_role_or_version_rule(action: str) -> None:
    # GIVEN a ticket network never held, and a network user lacking the action's role as well
    t = at_step(STEP_OF[action], **HOLDINGS["never"])
    for roles in [("department",), ("complaint_admin",)]:
        p = Principal("s", "u", roles, HOME)
        # WHEN it acts with any body  THEN 404, never 403 or 409
        for body in (BODY[action], {"nonsense": 1}, None):
            with pytest.raises(NotFound):
                act(action, t, p, body)


# -- the parts of a note ---------------------------------------------------------------------

PARTS: dict[str, dict[str, Any]] = {
    "fields": {"fields": {"handsetModel": "X9"}},
    "progress_report": {"duty": "progress_report"},
    "final_answer": {"duty": "final_answer"},
    "approvalFormToCrc": {"duty": "approvalFormToCrc"},
    "leaderApproval": {"duty": "leaderApproval"},
    "flags": {"flags": ["media"]},
}
# (roles, holding) → the answer to each of PARTS, in order.
NOTE_TABLE: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {
    (("agent",), "home"): ("ok", "403", "403", "403", "403", "ok"),
    (("senior_agent",), "home"): ("ok", "403", "403", "403", "403", "ok"),
    (("complaint_manager",), "home"): ("ok", "ok", "ok", "ok", "ok", "ok"),
    (("leader",), "home"): ("403", "403", "403", "403", "ok", "403"),
    (("department",), "home"): ("ok", "ok", "ok", "403", "403", "403"),
    (("complaint_admin",), "home"): ("403", "ok", "ok", "ok", "403", "403"),
    # a department that no longer holds the ticket notes nothing at all
    (("department",), "moved"): ("409",) * 6,
    (("complaint_admin",), "moved"): ("409",) * 6,
    # combined: the department's parts only at home, the agent's anywhere
    (("agent", "department"), "home"): ("ok", "ok", "ok", "403", "403", "ok"),
    (("agent", "department"), "moved"): ("ok", "403", "403", "403", "403", "ok"),
    (("agent", "complaint_admin"), "never"): ("ok", "403", "403", "403", "403", "ok"),
    (("leader", "complaint_admin"), "moved"): ("403", "403", "403", "403", "ok", "403"),
}
NOTE_CASES = [
    (roles, holding, part, expected[i])
    for (roles, holding), expected in NOTE_TABLE.items()
    for i, part in enumerate(PARTS)
]


@pytest.mark.parametrize(("roles", "holding", "part", "expected"), NOTE_CASES)
def test_each_part_of_a_note_needs_the_role_that_owns_it(
    roles: tuple[str, ...], holding: str, part: str, expected: str
) -> None:
    body = {"text": "补充", **PARTS[part]}
    assert outcome("note", roles, holding, body) == expected


def test_a_refused_part_refuses_the_whole_note_and_names_the_part() -> None:
    # GIVEN a department user holding the ticket  WHEN it notes a report and a media flag
    t = at_step("handle", **HOLDINGS["home"])
    body = {"text": "补充", "duty": "progress_report", "flags": ["media"]}
    with pytest.raises(Forbidden) as refused:
        act("note", t, Principal("s", "u", ("department",), HOME), body)
    # THEN 403 naming the flags, and nothing (not even the report) is decided
    assert refused.value.detail.startswith("adding flags")
    assert "agent, senior_agent, complaint_manager" in refused.value.detail


def test_a_flag_already_on_the_ticket_still_needs_the_escalate_permission() -> None:
    t = replace(at_step("handle", **HOLDINGS["home"]), flags=("media",))
    p = Principal("s", "u", ("department",), HOME)
    with pytest.raises(DomainError):
        act("note", t, p, {"text": "补充", "flags": ["media"]})
