"""The ticket lifecycle's rules (DOMAIN.md §4): which action may happen at which step, by whom,
and what it changes. Pure: the service applies the result, the state machine follows its outcome.

A ticket waits at one human *step* at a time. Each action at a step completes that step's callback
with an *outcome* the state machine branches on, and names the next step (or closes the ticket).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .auth import DEPARTMENT_SCOPED, Principal, can_see
from .duties import CRITERIA, canonical_duty, lateness
from .errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from .ids import new_id
from .tickets import Ticket
from .values import iso

if TYPE_CHECKING:
    from . import shapes
    from .shapes.actions import EmergencyActionBody, JudgeEmergencyBody

MAX_TRANSFERS = 3
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
REPLY_METHODS = ("phone", "sms", "email", "letter")

# The status a ticket shows while it waits at each step.
STEP_STATUS = {
    "review": "reviewing",
    "dispatch": "reviewing",
    "accept": "dispatched",
    "handle": "processing",
    "reply": "resolved",
    "revisit": "replied",
    "archive": "revisited",
}
DEPARTMENT_STEPS = ("accept", "handle")
DEPARTMENT_ROLES = ("department", "complaint_admin")
DISPATCH_ROLES = ("senior_agent", "complaint_manager", "complaint_admin")
DESK_ROLES = ("agent", "senior_agent", "complaint_manager")

# action → (roles, steps it may be taken at). `note` is allowed at any open step.
RULES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "review": (("senior_agent", "complaint_manager"), ("review",)),
    "dispatch": (DISPATCH_ROLES, ("dispatch",)),
    "accept": (DEPARTMENT_ROLES, ("accept",)),
    "resolve": (DEPARTMENT_ROLES, ("accept", "handle")),
    "return": (DEPARTMENT_ROLES, ("accept", "handle")),
    "transfer": (("department", "complaint_admin", "complaint_manager"), ("accept", "handle")),
    "reply": (DESK_ROLES, ("reply",)),
    "revisit": (DESK_ROLES, ("revisit",)),
    "archive": (("complaint_manager", "complaint_admin"), ("revisit", "archive")),
    "cancel": (("senior_agent", "complaint_manager"), ("review", "dispatch")),
    "note": (
        (
            "agent",
            "senior_agent",
            "department",
            "complaint_admin",
            "complaint_manager",
            "leader",
        ),
        tuple(STEP_STATUS),
    ),
    "escalate": (DESK_ROLES, tuple(STEP_STATUS)),
    # issue 10 part B (flows): supplementary complaints, senior decisions, appeals
    "supplement": (DESK_ROLES, tuple(STEP_STATUS)),
    "decide": (("senior_agent", "complaint_manager"), tuple(STEP_STATUS)),
    "appeal": (("agent", "complaint_manager"), ("revisit", "archive")),
    # -- part C (issue 10): emergencies
    "judge_emergency": (("complaint_admin", "complaint_manager"), tuple(STEP_STATUS)),
    "emergency_action": (("complaint_admin", "complaint_manager"), tuple(STEP_STATUS)),
}
ACTIONS = tuple(RULES)

# What the parts of a `note` need besides `note` itself. A department-scoped role (DEPARTMENT_SCOPED)
# counts only on a ticket the user's department holds now, whatever other roles the user has.
DUTY_ROLES: Mapping[str, tuple[str, ...]] = {
    "progress_report": ("department", "complaint_admin", "complaint_manager"),
    "final_answer": ("department", "complaint_admin", "complaint_manager"),
    "approvalFormToCrc": ("complaint_admin", "complaint_manager"),
    "leaderApproval": ("leader", "complaint_manager"),
    # part C (issue 10): an escalated ticket's regular progress report to the customer
    "customerProgress": DESK_ROLES,
}
FIELD_ROLES = (*DESK_ROLES, "department")  # the customer's fields: intake, or the holding dept
FLAG_ROLES = RULES["escalate"][0]  # a flag that is an escalation criterion escalates the ticket


class CatalogLike(Protocol):
    def category(self, code: str) -> Any: ...

    def phenomenon(self, code: str) -> Any: ...

    def department(self, code: str) -> Any: ...


@dataclass(frozen=True)
class Notice:
    """A department notification this action causes (API.md: department-notifications)."""

    event_type: str
    department: str
    level: int | None = None


@dataclass(frozen=True)
class Decision:
    action: str
    changes: dict[str, Any]
    to_status: str
    next_step: str | None  # None: the ticket is closed
    outcome: str
    details: dict[str, Any]
    completes_step: bool = True
    notices: tuple[Notice, ...] = ()
    transfer_hours: int | None = None
    reclassified: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def first_step(ticket: Ticket, created_by_role: str) -> str:
    """Answered at intake → reply. A junior agent's ticket, or a VIP's or big customer's, gets a
    senior's review first; a senior's own intake goes straight to dispatch."""
    if ticket.answer:
        return "reply"
    if ticket.appeal_of:  # an appeal is verified first (seed 004 §5.1 申诉核实): the review step
        return "review"
    if ticket.complainant.type in ("vip", "big_customer") or created_by_role == "agent":
        return "review"
    return "dispatch"


def allowed_at(step: str | None) -> list[str]:
    return [a for a, (_, steps) in RULES.items() if step in steps]


def decide(
    action: str,
    ticket: Ticket,
    principal: Principal,
    body: Any,
    catalog: CatalogLike,
    now: datetime,
) -> Decision:
    """Check an action against the rules and say what it changes; raise when it may not happen."""
    if action not in RULES:
        raise NotFound(f"no action {action}")
    roles, steps = RULES[action]
    check_visible(ticket, principal)  # scope before role: out of scope looks like no ticket
    if not principal.has_any(roles):
        raise Forbidden(f"{action} needs one of the roles {', '.join(roles)}")
    reopened = ticket.status in CLOSED_STATUSES_ALLOWED.get(action, ())
    if not reopened and (ticket.closed or ticket.step not in steps):
        raise Conflict(
            f"{action} is not allowed while the ticket is {ticket.status}"
            f" (step {ticket.step or 'none'}); allowed now: {', '.join(allowed_at(ticket.step))}",
            code="action_not_allowed",
        )
    permit(action, ticket, principal, roles, action)  # a department's roles count only at home
    from . import shapes  # pydantic loads with the first request that needs it, not at import

    parsed = shapes.parse(shapes.ACTION_BODIES[action], body, catalog=catalog)
    decision: Decision = _DECIDERS[action](ticket, principal, parsed, catalog, now)
    return decision


def held_by(ticket: Ticket) -> list[str]:
    """The departments that hold the ticket now or held it before."""
    return [*ticket.departments, *([ticket.department] if ticket.department else [])]


def check_visible(ticket: Ticket, principal: Principal) -> None:
    """A ticket outside the principal's view is answered exactly as a missing one (404)."""
    if not can_see(principal, held_by(ticket)):
        raise NotFound(f"no ticket {ticket.id}")


def role_applies(role: str, principal: Principal, ticket: Ticket, action: str) -> bool:
    """Whether one of the principal's roles counts for this ticket. Roles combine as a union, but a
    department-scoped role counts only inside the user's department: on a ticket it holds now
    (for `dispatch`, a returned ticket it held: a dispatch-step ticket is held by no one)."""
    if role not in principal.roles:
        return False
    if role not in DEPARTMENT_SCOPED:
        return True
    mine = principal.department
    if action == "dispatch":
        return mine is not None and mine in held_by(ticket)
    return mine is not None and ticket.department == mine


def permit(
    action: str, ticket: Ticket, principal: Principal, roles: tuple[str, ...], what: str
) -> None:
    """Raise unless one of `roles` the principal has counts for this ticket (`what` is named).

    None of the roles: 403. Only department-scoped ones, for a ticket another department holds:
    409 `not_your_department` for the action itself (the ticket could come back), 403 for a part
    of a note, and for `dispatch`, which no department holds."""
    held = [r for r in roles if r in principal.roles]
    if not held:
        raise Forbidden(f"{what} needs one of the roles {', '.join(roles)}")
    if any(role_applies(r, principal, ticket, action) for r in held):
        return
    where = f"the ticket is with {ticket.department or 'no department'}, not {principal.department}"
    if what == action and action != "dispatch":
        raise Conflict(where, code="not_your_department")
    raise Forbidden(
        f"{what} needs one of the roles {', '.join(roles)}; your {', '.join(held)} role applies"
        f" only to tickets your department holds, and {where}"
    )


def _actor(principal: Principal, now: datetime) -> dict[str, Any]:
    return {"by": principal.username, "role": principal.role, "at": iso(now)}


def _review(
    t: Ticket, p: Principal, body: shapes.ReviewBody, catalog: CatalogLike, now: datetime
) -> Decision:
    valid, unreasonable, reason = body.valid, body.unreasonable, body.reason
    category, phenomenon, fields = body.category, body.phenomenon, body.fields
    changes: dict[str, Any] = {}
    if phenomenon is not None:
        found = catalog.phenomenon(phenomenon)
        changes.update(phenomenon=phenomenon, category=found.category, route=found.route)
    elif category is not None:
        changes.update(category=category, phenomenon=None, route=catalog.category(category).route)
    if fields:
        changes["fields"] = {**t.fields, **fields}
    record = dict(t.classification or {})
    record.update(confirmed=True, confirmedBy=p.username)
    changes["classification"] = record
    details = {"valid": valid, "reason": reason, **({"unreasonable": True} if unreasonable else {})}
    if body.opinion:
        details["opinion"] = body.opinion
    changes["review"] = _review_record(valid, body.opinion, reason, p, now)
    if t.appeal_of and t.appeal is not None:
        return _verify_appeal(t, changes, details, valid, reason, bool(category or phenomenon))
    if not valid:
        status = "rejected" if unreasonable else "cancelled"
        changes["closing"] = {"kind": status, "reason": reason, **_actor(p, now)}
        return Decision(
            "review",
            changes,
            status,
            None,
            "unreasonable" if unreasonable else "invalid",
            details,
            reclassified=bool(category or phenomenon),
        )
    return Decision(
        "review",
        changes,
        "reviewing",
        "dispatch",
        "valid",
        details,
        reclassified=bool(category or phenomenon),
    )


def _dispatch(
    t: Ticket, p: Principal, body: shapes.DispatchBody, catalog: CatalogLike, now: datetime
) -> Decision:
    department, note, level = body.department, body.note, body.sla_level
    # A return goes back to the dispatcher who sent it: only they (or a manager) re-dispatch.
    someone_else = t.dispatched_by and t.dispatched_by != p.username
    if t.status == "returned" and someone_else and "complaint_manager" not in p.roles:
        raise Conflict(
            f"the ticket was returned to {t.dispatched_by}, who dispatched it",
            code="returned_to_dispatcher",
        )
    if t.missing_fields:
        raise Conflict(
            "the phenomenon's required dispatch fields are missing; add them with a note",
            code="missing_required_fields",
            errors=[
                FieldError(f"fields.{f}", "is required for dispatch") for f in t.missing_fields
            ],
        )
    changes: dict[str, Any] = {
        "department": department,
        "departments": _add(t.departments, department),
        "dispatched_by": p.username,
    }
    if level:
        changes["sla_level"] = level
    return Decision(
        "dispatch",
        changes,
        "dispatched",
        "accept",
        "dispatched",
        {"department": department, "note": note, "slaLevel": level},
        notices=(Notice("dispatched", department),),
    )


def _accept(
    t: Ticket, p: Principal, body: shapes.EmptyBody, catalog: CatalogLike, now: datetime
) -> Decision:
    return Decision("accept", {}, "processing", "handle", "accepted", {"department": t.department})


def _resolve(
    t: Ticket, p: Principal, body: shapes.ResolveBody, catalog: CatalogLike, now: datetime
) -> Decision:
    cause, result = body.cause, body.result
    resolution = {"cause": cause, "result": result, "department": t.department, **_actor(p, now)}
    late, overdue = _overdue("resolve", t, p, body, now)
    script = _cause_script(t, cause, catalog)  # issue 13 (catalog): a known cause, its script
    changes: dict[str, Any] = {"resolution": resolution, **late}
    details: dict[str, Any] = {"cause": cause, "result": result, **overdue}
    if body.answer_script or script:
        changes["answer_script"] = body.answer_script or script
        details["answerScript"] = "department" if body.answer_script else "catalog"
    return Decision("resolve", changes, "resolved", "reply", "resolved", details)


def _cause_script(t: Ticket, cause: str, catalog: CatalogLike) -> str | None:
    """The catalog's reply script for the cause found, after checking it is one of the ticket's
    phenomenon's causes (a category-only ticket: of any phenomenon of its category; neither:
    free text). 400 naming `cause` with the allowed codes otherwise."""
    phenomenon = catalog.phenomenon(t.phenomenon) if t.phenomenon else None
    if phenomenon is not None:
        allowed = [c.code for c in phenomenon.causes]
        where = f"phenomenon {t.phenomenon}"
    else:
        category = catalog.category(t.category) if t.category else None
        if category is None:
            return None
        members = [catalog.phenomenon(code) for code in category.phenomena]
        allowed = list(dict.fromkeys(c.code for m in members for c in m.causes))
        where = f"category {t.category}"
    if cause not in allowed:
        message = f"{cause!r} is not a cause of the {where}; allowed: {', '.join(allowed)}"
        raise ValidationFailed([FieldError("cause", message)])
    return phenomenon.scripts[cause] if phenomenon is not None else None


def _return(
    t: Ticket, p: Principal, body: shapes.ReasonBody, catalog: CatalogLike, now: datetime
) -> Decision:
    reason = body.reason
    # Tickets never flow further back than the dispatcher: the department leaves the ticket.
    changes = {"department": None, "departments": _add(t.departments, t.department)}
    late, overdue = _overdue("return", t, p, body, now)
    return Decision(
        "return",
        {**changes, **late},
        "returned",
        "dispatch",
        "returned",
        {"reason": reason, "from": t.department, "to": t.dispatched_by, **overdue},
        notices=(Notice("returned", "crc"),),
    )


def _transfer(
    t: Ticket, p: Principal, body: shapes.TransferBody, catalog: CatalogLike, now: datetime
) -> Decision:
    department, reason, hours = body.department, body.reason, body.time_limit_hours
    if department == t.department:
        raise Conflict("the ticket is already with that department", code="same_department")
    if t.transfers >= MAX_TRANSFERS:
        raise Conflict(
            f"a ticket may be transferred at most {MAX_TRANSFERS} times", code="too_many_transfers"
        )
    if department in t.departments and "complaint_manager" not in p.roles:
        raise Conflict(
            "tickets never go back to a department they left, unless a complaint "
            "manager sends them",
            code="no_backward_flow",
        )
    changes = {
        "department": department,
        "departments": _add(_add(t.departments, t.department), department),
        "transfers": t.transfers + 1,
    }
    return Decision(
        "transfer",
        changes,
        "dispatched",
        "accept",
        "transferred",
        {"from": t.department, "to": department, "reason": reason, "timeLimitHours": hours},
        notices=(Notice("transferred", department),),
        transfer_hours=hours,
    )


def _reply(
    t: Ticket, p: Principal, body: shapes.ReplyBody, catalog: CatalogLike, now: datetime
) -> Decision:
    content, method = body.content, body.method
    if not (t.resolution or t.answer):
        raise Conflict(
            "a reply needs a resolution or an answer given at intake", code="nothing_to_reply"
        )
    reply = {"content": content, "method": method, **_actor(p, now)}
    late, overdue = _overdue("reply", t, p, body, now)
    changes: dict[str, Any] = {"reply": reply, **late}
    details: dict[str, Any] = {"method": method, **overdue}
    notices = _appeal_report(t, changes, details, now)
    return Decision("reply", changes, "replied", "revisit", "replied", details, notices=notices)


def _revisit(
    t: Ticket, p: Principal, body: shapes.RevisitBody, catalog: CatalogLike, now: datetime
) -> Decision:
    satisfaction, comment = body.satisfaction, body.comment
    revisit = {"satisfaction": satisfaction, "comment": comment, **_actor(p, now)}
    details = {"satisfaction": satisfaction}
    if satisfaction != "unsatisfied":
        return Decision(
            "revisit", {"revisit": revisit}, "revisited", "archive", "satisfied", details
        )
    # An unhappy customer re-opens the flow: back to the department that handled it.
    target = (t.resolution["department"] if t.resolution else None) or t.department
    if not target and t.answer:
        return _redispatch_intake_answer(t, details)
    if not target:
        raise Conflict("there is no department to re-dispatch to", code="no_department")
    changes = {
        "rounds": t.rounds + 1,
        "department": target,
        "departments": _add(t.departments, target),
        "resolution": None,
        "reply": None,
        # this round's (unhappy) revisit stays in the history; the next round needs its own
        "revisit": None,
    }
    return Decision(
        "revisit",
        changes,
        "dispatched",
        "accept",
        "unsatisfied",
        {**details, "redispatchedTo": target, "round": t.rounds + 2},
        notices=(Notice("dispatched", target),),
    )


def _archive(
    t: Ticket, p: Principal, body: shapes.ArchiveBody, catalog: CatalogLike, now: datetime
) -> Decision:
    analysis, case, no_revisit = body.analysis, body.add_to_case_library, body.no_revisit_reason
    if not t.reply:
        raise Conflict("a ticket is archived only after its reply", code="no_reply")
    if not t.revisit and not no_revisit:
        raise Conflict("archive needs a revisit, or a noRevisitReason", code="no_revisit")
    closing = {
        "kind": "archived",
        "analysis": analysis,
        "caseLibrary": case,
        "noRevisitReason": no_revisit,
        **_actor(p, now),
    }
    return Decision(
        "archive",
        {"closing": closing},
        "archived",
        None,
        "archived",
        {"caseLibrary": case, "noRevisitReason": no_revisit},
    )


def _cancel(
    t: Ticket, p: Principal, body: shapes.ReasonBody, catalog: CatalogLike, now: datetime
) -> Decision:
    reason = body.reason
    closing = {"kind": "cancelled", "reason": reason, **_actor(p, now)}
    return Decision(
        "cancel", {"closing": closing}, "cancelled", None, "cancelled", {"reason": reason}
    )


def _note(
    t: Ticket, p: Principal, body: shapes.NoteBody, catalog: CatalogLike, now: datetime
) -> Decision:
    text, fields, duty = body.text, body.fields, canonical_duty(body.duty)
    flags = list(dict.fromkeys(body.flags)) if body.flags else None
    if t.closed:  # a quality check of an archived ticket: the duty manager's words, nothing else
        if not p.has_any(QUALITY_CHECK_ROLES) or fields or duty or flags:
            raise Conflict(
                "an archived ticket takes only a quality-check note: a complaint manager's text",
                code="action_not_allowed",
            )
        return Decision(
            "note", {}, t.status, t.step, "noted", {"text": text, "qualityCheck": True},
            completes_step=False,
        )  # fmt: skip
    # each part of a note is allowed only to the roles that own it (never silently dropped)
    if fields:
        permit("note", t, p, FIELD_ROLES, "changing the customer's fields")
    if duty:
        permit("note", t, p, DUTY_ROLES[duty], f"marking the duty {duty} done")
    if flags and any(f in CRITERIA for f in flags):
        permit("note", t, p, FLAG_ROLES, "adding flags, which escalate the ticket,")
    changes: dict[str, Any] = {}
    if fields:
        changes["fields"] = {**t.fields, **fields}
    if duty:  # a progress report, the approval form filed, the leader's approval
        changes["duties_done"] = {**t.duties_done, duty: iso(now)}
    if flags:
        changes["flags"] = tuple(dict.fromkeys((*t.flags, *flags)))
    details = {"text": text, "fields": sorted(fields or {}), "duty": duty, "flags": flags or []}
    return Decision("note", changes, t.status, t.step, "noted", details, completes_step=False)


def _escalate(
    t: Ticket, p: Principal, body: shapes.EscalateBody, catalog: CatalogLike, now: datetime
) -> Decision:
    reason = body.reason
    criteria = list(dict.fromkeys(body.criteria))
    return Decision(
        "escalate",
        {} if t.escalated_at else {"escalated_at": now},
        t.status,
        t.step,
        "escalated",
        {"reason": reason, "criteria": criteria},
        completes_step=False,
        extra={"criteria": tuple(criteria or ())},
    )


def _add(items: tuple[str, ...], item: str | None) -> tuple[str, ...]:
    return items if item is None or item in items else (*items, item)


_DECIDERS: Mapping[str, Callable[..., Decision]] = {
    "review": _review,
    "dispatch": _dispatch,
    "accept": _accept,
    "resolve": _resolve,
    "return": _return,
    "transfer": _transfer,
    "reply": _reply,
    "revisit": _revisit,
    "archive": _archive,
    "cancel": _cancel,
    "note": _note,
    "escalate": _escalate,
}


# -- issue 10 part B (flows): supplementary complaints, senior decisions, appeals, re-dispatch --
# (seed 002 步骤2 五 补充申诉/追单/撤单; seed 004 §5.1 申诉; 004 §4 四 复核意见, 六 重派)

REQUEST_TYPES = ("chase", "withdraw")
MAX_PENDING_REQUESTS = 5  # per ticket: a request waits for a senior, it does not pile up
# A withdrawal (撤单) is for a complaint still being handled: once resolved, it is answered.
WITHDRAWABLE_STEPS = ("review", "dispatch", "accept", "handle")
APPEALABLE_STATUSES = ("replied", "revisited", "archived")
# Actions allowed on a closed ticket, by closed status (an archived ticket can be appealed).
# A duty manager quality-checks an archived ticket (closed at the counter, 当场办结, or not) with
# a `note` (QUALITY_CHECK_ROLES only, text only).
CLOSED_STATUSES_ALLOWED: Mapping[str, tuple[str, ...]] = {
    "appeal": ("archived",),
    "note": ("archived",),
}
QUALITY_CHECK_ROLES = ("complaint_manager",)
# 申诉来源 (seed 004 §5.1), as codes of vocabulary.SOURCES: 服务监督电话, 客户, 新闻媒体,
# 消费者协会, 省移动相关部门, 移动总部, 移动主管部门 (the regulator), 外省中心转办.
APPEAL_SOURCES = (
    "supervision_hotline",
    "customer",
    "media",
    "consumer_association",
    "provincial_company",
    "group_hq",
    "communications_administration",
    "other_province",
)
# Supervisory sources: their appeals are escalated complaints (`supervisory_body` unless the
# source is itself an escalation criterion, as media and the consumer association are).
SUPERVISORY_APPEAL_SOURCES = (
    "media",
    "consumer_association",
    "provincial_company",
    "group_hq",
    "communications_administration",
)
# 申诉级别 → the SLA level whose limit the appeal's handling gets (strictest rule still wins):
# 重大紧急 2 hours (A), 一般 2 business days (C), 复杂 5 business days (E).
APPEAL_LEVELS: Mapping[str, str] = {"major_urgent": "A", "ordinary": "C", "complex": "E"}
# Answered appeals are reported to management (答复并行文上报) unless the customer brought them;
# an unverified appeal is always reported (未被核实 … 并行文上报).
UNREPORTED_APPEAL_SOURCES = ("customer",)
APPEAL_REPORT_TO = "crc"


def _review_record(
    valid: bool, opinion: str | None, reason: str | None, p: Principal, now: datetime
) -> dict[str, Any]:
    record: dict[str, Any] = {"valid": valid, **_actor(p, now)}
    if opinion:
        record["opinion"] = opinion
    if reason:
        record["reason"] = reason
    return record


def _verify_appeal(
    t: Ticket,
    changes: dict[str, Any],
    details: dict[str, Any],
    valid: bool,
    reason: str | None,
    reclassified: bool,
) -> Decision:
    """申诉核实: verified → dispatch (with instructions and a limit); not verified → withdrawn:
    the customer is replied the verification result, it is reported, then archived."""
    appeal = {**(t.appeal or {}), "verified": valid}
    details["verified"] = valid
    if valid:
        changes["appeal"] = appeal
        return Decision(
            "review", changes, "reviewing", "dispatch", "valid", details, reclassified=reclassified
        )
    changes["appeal"] = {**appeal, "reportRequired": True}
    changes["answer"] = reason  # the verification result is what the customer is told
    return Decision(
        "review", changes, "resolved", "reply", "unverified", details, reclassified=reclassified
    )


def appeal_report_required(t: Ticket) -> bool:
    if t.appeal is None:
        return False
    return bool(t.appeal.get("reportRequired")) or (
        t.appeal["source"] not in UNREPORTED_APPEAL_SOURCES
    )


def _appeal_report(
    t: Ticket, changes: dict[str, Any], details: dict[str, Any], now: datetime
) -> tuple[Notice, ...]:
    """The reply of an appeal that must be reported goes to management at once."""
    if t.appeal is None or not appeal_report_required(t) or t.appeal.get("reportedAt"):
        return ()
    changes["appeal"] = {**t.appeal, "reportedAt": iso(now)}
    details["reportedTo"] = APPEAL_REPORT_TO
    return (Notice("appeal_report", APPEAL_REPORT_TO),)


def _redispatch_intake_answer(t: Ticket, details: dict[str, Any]) -> Decision:
    """An unhappy customer after an on-the-spot answer: back to dispatch, another round."""
    changes = {
        "rounds": t.rounds + 1,
        "resolution": None,
        "reply": None,
        "revisit": None,
    }
    return Decision(
        "revisit",
        changes,
        STEP_STATUS["dispatch"],
        "dispatch",
        "redispatch",
        {**details, "redispatchedTo": "dispatch", "round": t.rounds + 2},
        notices=(Notice("returned", "crc"),),
    )


def _supplement(
    t: Ticket, p: Principal, body: shapes.SupplementBody, catalog: CatalogLike, now: datetime
) -> Decision:
    """New information on an open ticket; a chase or withdrawal request waits for a senior.
    The step does not move."""
    text, fields, request = body.text, body.fields, body.request
    changes: dict[str, Any] = {}
    if fields:
        changes["fields"] = {**t.fields, **fields}
    details: dict[str, Any] = {"text": text, "fields": sorted(fields or {}), "request": request}
    if request is not None:
        if request == "withdraw" and t.step not in WITHDRAWABLE_STEPS:
            raise _too_late(t)
        if len(t.pending_requests) >= MAX_PENDING_REQUESTS:
            raise Conflict(
                f"the ticket already has {MAX_PENDING_REQUESTS} requests waiting for a senior",
                code="too_many_requests",
            )
        request_id = new_id("R", now)
        pending = {"type": request, "text": text, **_actor(p, now)}
        changes["pending_requests"] = {**t.pending_requests, request_id: pending}
        details["requestId"] = request_id
    # a request waits for a senior: the CRC's desk is told it is there
    notices = (Notice("supplement_request", "crc"),) if request is not None else ()
    return Decision(
        "supplement",
        changes,
        t.status,
        t.step,
        "supplemented",
        details,
        completes_step=False,
        notices=notices,
    )


def _too_late(t: Ticket) -> Conflict:
    return Conflict(
        f"a withdrawal is possible only before the ticket is resolved (it waits at {t.step})",
        code="too_late_to_withdraw",
    )


def _decide(
    t: Ticket, p: Principal, body: shapes.DecideBody, catalog: CatalogLike, now: datetime
) -> Decision:
    """A senior's decision on a pending request: an approved chase reminds the holder at once,
    an approved withdrawal cancels the ticket (its workflow ends)."""
    request_id, approve, reason = body.request_id, body.approve, body.reason
    request = t.pending_requests.get(request_id)
    if request is None:
        raise Conflict(
            f"no pending request {request_id} on this ticket (already decided, or never made)",
            code="request_not_pending",
        )
    kind = request["type"]
    rest = {k: v for k, v in t.pending_requests.items() if k != request_id}
    details: dict[str, Any] = {
        "requestId": request_id,
        "type": kind,
        "approve": approve,
        "reason": reason,
    }
    if approve and kind == "withdraw":
        if t.step not in WITHDRAWABLE_STEPS:
            raise _too_late(t)
        why = f"withdrawn at the customer's request: {request['text']}"
        closing = {"kind": "cancelled", "reason": why, **_actor(p, now)}
        # the other requests are moot once the ticket is withdrawn
        changes = {"pending_requests": {}, "closing": closing}
        # a department holding it stops work on it
        held = t.department if t.step in DEPARTMENT_STEPS and t.department else None
        withdrawn = (Notice("withdrawn", held),) if held else ()
        return Decision(
            "decide", changes, "cancelled", None, "withdrawn", details, notices=withdrawn
        )
    notices: tuple[Notice, ...] = ()
    if approve:  # kind == "chase": 催办 the holder now
        holder = t.department if t.step in DEPARTMENT_STEPS and t.department else "crc"
        notices = (Notice("chase", holder),)
        details["chased"] = holder
    return Decision(
        "decide",
        {"pending_requests": rest},
        t.status,
        t.step,
        "decided",
        details,
        completes_step=False,
        notices=notices,
    )


def _appeal(
    t: Ticket, p: Principal, body: shapes.AppealBody, catalog: CatalogLike, now: datetime
) -> Decision:
    """申诉: checked here; the service creates the linked appeal ticket (`appealOf`)."""
    if t.status not in APPEALABLE_STATUSES or t.reply is None:
        raise Conflict(
            "an appeal is accepted only on a replied, revisited or archived ticket",
            code="not_replied",
        )
    details = {"source": body.source, "level": body.level}
    return Decision(
        "appeal",
        {},
        t.status,
        t.step,
        "appealed",
        details,
        completes_step=False,
        extra={"appeal": body},
    )


_DECIDERS = {**_DECIDERS, "supplement": _supplement, "decide": _decide, "appeal": _appeal}
# -- part C (issue 10): emergencies and overdue reasons ----------------------------------------


def _overdue(
    action: str, t: Ticket, p: Principal, body: Any, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ticket changes, history details) for an action that finishes a step: done late, it needs
    `overdueReason` (400 naming it otherwise), kept on the ticket and in the history."""
    late = lateness(t, now)
    if late is None:
        return {}, {}
    reason = getattr(body, "overdue_reason", None)
    if not reason:
        where = "the step's deadline" if late["late"] == "step" else "the ticket's deadline"
        raise ValidationFailed(
            [FieldError("overdueReason", f"is required: {action} comes after {where}")]
        )
    record = {"action": action, "step": t.step, "reason": reason, **late, **_actor(p, now)}
    return {"overdue_reasons": [*t.overdue_reasons, record]}, {"overdueReason": reason, **late}


def _emergency_only(t: Ticket, action: str) -> None:
    if not t.emergency:
        raise Conflict(f"{action} applies only to an emergency ticket", code="not_emergency")


def _judge_emergency(
    t: Ticket, p: Principal, body: JudgeEmergencyBody, catalog: CatalogLike, now: datetime
) -> Decision:
    """The department complaint administrator (or the CRC) re-judges an emergency (000 pt.3
    流程, (四)(1)): confirmed, it stays; downgraded, it loses `emergency` and the approval-form
    duties, and stays escalated at priority `high`."""
    _emergency_only(t, "judge_emergency")
    judgement = {"confirm": body.confirm, "reason": body.reason, **_actor(p, now)}
    changes: dict[str, Any] = {"emergency_judgement": judgement}
    if not body.confirm:
        changes.update(emergency=False, emergency_record=None, priority="high")
    return Decision(
        "judge_emergency",
        changes,
        t.status,
        t.step,
        "confirmed" if body.confirm else "downgraded",
        {"confirm": body.confirm, "reason": body.reason},
        completes_step=False,
    )


def _emergency_action(
    t: Ticket, p: Principal, body: EmergencyActionBody, catalog: CatalogLike, now: datetime
) -> Decision:
    """The pre-authorised action taken on an emergency (act first, approve after)."""
    _emergency_only(t, "emergency_action")
    taken: dict[str, Any] = {"type": body.type, "companyAtFault": body.company_at_fault}
    if body.amount is not None:
        taken["amount"] = body.amount
    if body.note:
        taken["note"] = body.note
    return Decision(
        "emergency_action",
        {"emergency_action": {**taken, **_actor(p, now)}},
        t.status,
        t.step,
        "recorded",
        taken,
        completes_step=False,
    )


_DECIDERS = {
    **_DECIDERS,
    "judge_emergency": _judge_emergency,
    "emergency_action": _emergency_action,
}
