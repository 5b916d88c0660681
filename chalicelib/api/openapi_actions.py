"""The lifecycle's part of the OpenAPI document: each action's body, what it does and which 409s it
can answer, the records actions leave on a ticket, the workflow view and the blacklist.

Roles, steps and enums come from the rules that enforce them (``chalicelib.domain.lifecycle``,
``duties``, ``sla``); bounds mirror each ``_<action>`` decider, and tests/unit/test_openapi.py runs
every documented body, and its edges, through ``lifecycle.decide``.
"""

from __future__ import annotations

from typing import NamedTuple

from chalicelib.domain.duties import CRITERIA, DUTY_NAMES, PRE_AUTHORISED
from chalicelib.domain.lifecycle import (
    ACTIONS,
    MAX_TRANSFERS,
    REPLY_METHODS,
    SATISFACTION,
    STEP_STATUS,
)
from chalicelib.domain.sla import LEVELS
from chalicelib.domain.vocabulary import CLOSED_STATUSES, FLAGS

from .openapi_schemas import Schema, enum, nullable, obj, page, record, ref, text

STEPS = tuple(STEP_STATUS)
# Every action can meet these; the others are listed per action below.
COMMON_CONFLICTS = ("action_not_allowed", "stale_version")

CONFLICTS: dict[str, str] = {
    "action_not_allowed": "The ticket is closed or not at a step this action is allowed at; "
    "`detail` names the actions allowed now. Right after a change the workflow may not have "
    "reached the next step yet: retry shortly.",
    "stale_version": "`If-Match` is not the ticket's current version, or the ticket kept "
    "changing: reload it and decide again.",
    "not_your_department": "A department user (`department`, `complaint_admin` only) acting on a "
    "ticket another department holds now.",
    "returned_to_dispatcher": "A returned ticket goes back to whoever dispatched it: only they, "
    "or a complaint manager, re-dispatch it.",
    "missing_required_fields": "The phenomenon's required dispatch fields are not all answered; "
    "`errors` lists each as `fields.<name>`. Add them with `note` (`fields`).",
    "same_department": "The ticket is already with that department.",
    "too_many_transfers": f"A ticket is transferred at most {MAX_TRANSFERS} times.",
    "no_backward_flow": "Tickets never go back to a department they left, unless a complaint "
    "manager sends them.",
    "nothing_to_reply": "A reply needs a resolution, or an answer given at intake.",
    "no_department": "An unsatisfied revisit re-dispatches to the department that resolved the "
    "ticket, and there is none.",
    "no_reply": "A ticket is archived only after its reply.",
    "no_revisit": "Archiving without a revisit needs a `noRevisitReason`.",
}


class ActionDoc(NamedTuple):
    summary: str
    effect: str
    conflicts: tuple[str, ...] = ()


ACTION_DOCS: dict[str, ActionDoc] = {
    "review": ActionDoc(
        "Review a ticket",
        "The senior's second review. `valid: true` sends it to dispatch, optionally correcting "
        "its category or phenomenon (which re-routes it) and adding required fields; "
        "`valid: false` (with a `reason`) cancels it, and with `unreasonable: true` rejects it.",
    ),
    "dispatch": ActionDoc(
        "Dispatch a ticket",
        "Sends the ticket to a department (its `accept` step), optionally at another SLA "
        "level, which moves its deadlines. The department is notified (`dispatched`).",
        ("returned_to_dispatcher", "missing_required_fields"),
    ),
    "accept": ActionDoc(
        "Accept a dispatched ticket",
        "The department takes the ticket on; it moves to `handle`. No body is needed.",
        ("not_your_department",),
    ),
    "resolve": ActionDoc(
        "Resolve a ticket",
        "The department records the cause and what was done (`resolution`); the ticket goes to "
        "the desk's `reply` step.",
        ("not_your_department",),
    ),
    "return": ActionDoc(
        "Return a ticket to its dispatcher",
        "The department gives the ticket back to the dispatcher who sent it (never further "
        "back); it waits at `dispatch` again and the CRC is notified (`returned`).",
        ("not_your_department",),
    ),
    "transfer": ActionDoc(
        "Transfer a ticket",
        f"Sends the ticket to another department (at most {MAX_TRANSFERS} transfers, never "
        "back to one it left unless a complaint manager sends it), optionally with its own time "
        "limit for the `accept` step. The new department is notified (`transferred`).",
        ("not_your_department", "same_department", "too_many_transfers", "no_backward_flow"),
    ),
    "reply": ActionDoc(
        "Reply to the customer",
        "Records the answer given to the customer (`reply`); the ticket goes to `revisit`.",
        ("nothing_to_reply",),
    ),
    "revisit": ActionDoc(
        "Record the revisit",
        "Records the customer's satisfaction (`revisit`). Satisfied (or basically) → `archive`; "
        "unsatisfied → back to the department that resolved it (`accept`, `rounds` + 1, "
        "resolution and reply cleared).",
        ("no_department",),
    ),
    "archive": ActionDoc(
        "Archive a ticket",
        "Closes the ticket with its analysis (`closing`); at the `revisit` step only with a "
        "`noRevisitReason`.",
        ("not_your_department", "no_reply", "no_revisit"),
    ),
    "cancel": ActionDoc(
        "Cancel a ticket",
        "Closes a ticket that has not been dispatched yet (`closing`, status `cancelled`).",
    ),
    "note": ActionDoc(
        "Add a note",
        "Supplementary information at any open step; the step does not move. `fields` fills "
        "the phenomenon's required fields (bad values are a 400 naming `fields.<name>`), `duty` "
        "records a duty done (a progress report, the emergency approval form, the leader's "
        "approval) and `flags` adds sensitivity flags, which may escalate the ticket.",
    ),
    "escalate": ActionDoc(
        "Escalate a ticket",
        "Escalates by hand on the criteria given, at any open step; the step does not move. "
        "The ticket becomes `escalated` (priority at least `high`, `urgent` if it is an "
        "emergency) and the CRC complaint manager is notified.",
    ),
}


def body_name(action: str) -> str:
    """The component name of an action's request body."""
    return action.capitalize() + "Request"


_REASON = text(1000)
_DEPARTMENT = text(64, "A department code of GET /catalog.")


def _body(properties: Schema, required: tuple[str, ...], description: str) -> Schema:
    """A closed action body: optional members may be null, which the server reads as absent."""
    props = {k: v if k in required else nullable(v) for k, v in properties.items()}
    return {**obj(props, required, closed=True), "description": description}


ACTION_BODIES: dict[str, Schema] = {
    "review": {
        **_body(
            {
                "valid": {"type": "boolean"},
                "unreasonable": {
                    "type": "boolean",
                    "description": "With `valid: false`: reject instead of cancel.",
                },
                "reason": _REASON,
                "category": text(64, "A category code of GET /catalog: re-classifies."),
                "phenomenon": text(
                    64, "A phenomenon code of GET /catalog; if `category` is given, of that one."
                ),
                "fields": ref("FieldValues"),
            },
            ("valid",),
            "`reason` is required when `valid` is false.",
        ),
        "if": {"properties": {"valid": {"const": False}}, "required": ["valid"]},
        "then": {"required": ["reason"], "properties": {"reason": _REASON}},
    },
    "dispatch": _body(
        {
            "department": _DEPARTMENT,
            "note": text(2000, "Instructions for the department."),
            "slaLevel": enum(LEVELS, "Overrides the ticket's SLA level."),
        },
        ("department", "note"),
        "Where to send the ticket.",
    ),
    "accept": _body({}, (), "Nothing: an empty object, or no body at all."),
    "resolve": _body(
        {"cause": text(500, "The root cause found."), "result": text(4000, "What was done.")},
        ("cause", "result"),
        "The department's resolution.",
    ),
    "return": _body({"reason": _REASON}, ("reason",), "Why the department gives it back."),
    "transfer": _body(
        {
            "department": _DEPARTMENT,
            "reason": _REASON,
            "timeLimitHours": {
                "type": "integer",
                "minimum": 1,
                "maximum": 720,
                "description": "The receiving department's time to accept, in hours.",
            },
        },
        ("department", "reason"),
        "Where to send the ticket, and why.",
    ),
    "reply": _body(
        {"content": text(4000), "method": enum(REPLY_METHODS, "How the customer was answered.")},
        ("content", "method"),
        "The answer given to the customer.",
    ),
    "revisit": _body(
        {"satisfaction": enum(SATISFACTION, "The customer's verdict."), "comment": text(2000)},
        ("satisfaction",),
        "The customer's satisfaction.",
    ),
    "archive": _body(
        {
            "analysis": text(4000),
            "addToCaseLibrary": {"type": "boolean", "description": "Default false."},
            "noRevisitReason": text(1000, "Required to archive at the `revisit` step."),
        },
        ("analysis",),
        "The closing analysis.",
    ),
    "cancel": _body({"reason": _REASON}, ("reason",), "Why the ticket is invalid."),
    "note": _body(
        {
            "text": text(4000),
            "fields": ref("FieldValues"),
            "duty": ref("Duty"),
            "flags": {"type": "array", "items": ref("Flag"), "maxItems": len(FLAGS)},
        },
        ("text",),
        "Supplementary information.",
    ),
    "escalate": _body(
        {
            "reason": _REASON,
            "criteria": {
                "type": "array",
                "items": ref("EscalationCriterion"),
                "minItems": 1,
                "maxItems": len(CRITERIA),
            },
        },
        ("reason", "criteria"),
        "Why, and on which criteria.",
    ),
}

_ACTOR: Schema = {
    "by": {"type": "string", "description": "Username of who acted."},
    "role": ref("Role"),
    "at": {"type": "string", "format": "date-time"},
}
_STR_OR_NULL: Schema = {"type": ["string", "null"]}
_TIME: Schema = {"type": "string", "format": "date-time"}
_TIME_OR_NULL: Schema = {"type": ["string", "null"], "format": "date-time"}

RECORDS: dict[str, Schema] = {
    "Step": enum(STEPS, "The human step the ticket waits at (see the lifecycle)."),
    "Duty": enum(DUTY_NAMES, "A duty recorded done with `note`."),
    "EscalationCriterion": enum(CRITERIA, "Why a ticket is escalated."),
    "Classification": obj(
        {
            "source": enum(("agent", "classifier"), "Who chose the category."),
            "confirmed": {"type": "boolean", "description": "Set by the agent or a review."},
            "confirmedBy": {"type": "string"},
            "suggestions": {
                "type": "array",
                "items": record(
                    {
                        "category": {"type": "string"},
                        "phenomenon": _STR_OR_NULL,
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                    }
                ),
            },
        },
        ("source", "confirmed", "suggestions"),
    ),
    "Resolution": record(
        {"cause": {"type": "string"}, "result": {"type": "string"}, "department": _STR_OR_NULL}
        | _ACTOR
    ),
    "Reply": record(
        {"content": {"type": "string"}, "method": enum(REPLY_METHODS, "How it was given.")} | _ACTOR
    ),
    "Revisit": record(
        {"satisfaction": enum(SATISFACTION, "The verdict."), "comment": _STR_OR_NULL} | _ACTOR
    ),
    "Closing": obj(
        {
            "kind": enum(CLOSED_STATUSES, "How the ticket closed."),
            "reason": _STR_OR_NULL,
            "analysis": {"type": "string"},
            "caseLibrary": {"type": "boolean"},
            "noRevisitReason": _STR_OR_NULL,
        }
        | _ACTOR,
        ("kind", "by", "role", "at"),
    ),
    "EmergencyRecord": record(
        {
            "declaredAt": _TIME,
            "preAuthorisedActions": {
                "type": "array",
                "items": enum(PRE_AUTHORISED, "Act first, approve after."),
            },
            "dutiesDueAt": {
                "type": "object",
                "propertyNames": ref("Duty"),
                "additionalProperties": _TIME,
            },
        }
    ),
}

_STATE = record({"name": {"type": "string"}, "enteredAt": _TIME, "exitedAt": _TIME_OR_NULL})
_FAILURE = record(
    {"at": _TIME, "type": {"type": "string"}, "error": _STR_OR_NULL, "cause": _STR_OR_NULL}
)
WORKFLOW_VIEW: Schema = {
    **obj(
        {
            "ticketId": {"type": "string"},
            "executionArn": _STR_OR_NULL,
            "status": {
                "type": "string",
                "description": "The execution's status, or NOT_STARTED.",
                "examples": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "NOT_STARTED"],
            },
            "startedAt": _TIME_OR_NULL,
            "stoppedAt": _TIME_OR_NULL,
            "currentState": {**_STR_OR_NULL, "description": "While running: the state it is in."},
            "states": {"type": "array", "items": _STATE, "description": "Entered, in order."},
            "failures": {"type": "array", "items": _FAILURE},
            "ticket": obj(
                {
                    "status": ref("Status"),
                    "step": nullable(ref("Step")),
                    "version": {"type": "integer", "minimum": 1},
                },
                ("status", "step"),
            ),
        },
        ("ticketId", "executionArn", "status", "currentState", "states", "failures", "ticket"),
    ),
    "description": "A ticket's lifecycle execution as operators see it.",
}

BLACKLIST_ENTRY = record(
    {
        "serviceNumber": {"type": "string", "description": "Normalized (digits, landline dash)."},
        "reason": {"type": "string"},
        "addedBy": {"type": "string"},
        "addedAt": _TIME,
    }
)

ACTION_SCHEMAS: dict[str, Schema] = {
    **RECORDS,
    **{body_name(a): ACTION_BODIES[a] for a in ACTIONS},
    "WorkflowView": WORKFLOW_VIEW,
    "BlacklistEntry": BLACKLIST_ENTRY,
    "BlacklistPage": page("BlacklistEntry", "A page of the blacklist."),
    "BlacklistRequest": obj({"reason": text(500)}, ("reason",), closed=True),
}
