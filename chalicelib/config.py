"""Every environment variable the application reads, in one place.

Resource names come from `infra/` (CloudFormation on AWS, the local stack on moto) through these
variables; nothing else in `chalicelib/` reads `os.environ`.
"""

from __future__ import annotations

import os

# Names of the variables, declared once so infra, the local stack and the tests agree.
TICKETS_TABLE = "TICKETS_TABLE"
EVENTS_TABLE = "EVENTS_TABLE"
AUDIT_TABLE = "AUDIT_TABLE"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
BLACKLIST_TABLE = "BLACKLIST_TABLE"
NOTICES_TABLE = "NOTICES_TABLE"
TICKET_EVENTS_TOPIC_ARN = "TICKET_EVENTS_TOPIC_ARN"
DEPARTMENT_TOPIC_ARN = "DEPARTMENT_TOPIC_ARN"
LIFECYCLE_STATE_MACHINE_ARN = "LIFECYCLE_STATE_MACHINE_ARN"
TASK_TOKEN_QUEUE_URL = "TASK_TOKEN_QUEUE_URL"
ALLOWED_ORIGINS = "ALLOWED_ORIGINS"
SLA_POLICY = "SLA_POLICY"
CALENDAR_OVERRIDES = "CALENDAR_OVERRIDES"
AUDIT_RETENTION_DAYS = "AUDIT_RETENTION_DAYS"
WORKFLOW_START_GRACE_SECONDS = "WORKFLOW_START_GRACE_SECONDS"
CURSOR_SECRET = "CURSOR_SECRET"
BULLETINS_TABLE = "BULLETINS_TABLE"  # issue 11: bulletins
KPIS_TABLE = "KPIS_TABLE"  # issue 12 (KPIs): the counters table
INCIDENT_STATE_MACHINE_ARN = "INCIDENT_STATE_MACHINE_ARN"  # issue 11: incidents
MASS_COMPLAINT_POLICY = (
    "MASS_COMPLAINT_POLICY"  # issue 11: a thresholds file other than the shipped
)

ALL = (
    TICKETS_TABLE,
    EVENTS_TABLE,
    AUDIT_TABLE,
    IDEMPOTENCY_TABLE,
    BLACKLIST_TABLE,
    NOTICES_TABLE,
    TICKET_EVENTS_TOPIC_ARN,
    DEPARTMENT_TOPIC_ARN,
    LIFECYCLE_STATE_MACHINE_ARN,
    TASK_TOKEN_QUEUE_URL,
    ALLOWED_ORIGINS,
    SLA_POLICY,
    CALENDAR_OVERRIDES,
    AUDIT_RETENTION_DAYS,
    WORKFLOW_START_GRACE_SECONDS,
    CURSOR_SECRET,
    BULLETINS_TABLE,
    KPIS_TABLE,
    INCIDENT_STATE_MACHINE_ARN,
    MASS_COMPLAINT_POLICY,
)


def _get(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def tickets_table() -> str:
    return _get(TICKETS_TABLE, "complaint-tickets-tickets")


def events_table() -> str:
    return _get(EVENTS_TABLE, "complaint-tickets-events")


def audit_table() -> str:
    return _get(AUDIT_TABLE, "complaint-tickets-audit")


def idempotency_table() -> str:
    return _get(IDEMPOTENCY_TABLE, "complaint-tickets-idempotency")


def blacklist_table() -> str:
    return _get(BLACKLIST_TABLE, "complaint-tickets-blacklist")


def notices_table() -> str:
    return _get(NOTICES_TABLE, "complaint-tickets-notices")


def kpis_table() -> str:
    """Issue 12 (KPIs): pre-aggregated counters per day × department (decision 0018)."""
    return _get(KPIS_TABLE, "complaint-tickets-kpis")


def ticket_events_topic_arn() -> str:
    return _get(TICKET_EVENTS_TOPIC_ARN)


def department_topic_arn() -> str:
    return _get(DEPARTMENT_TOPIC_ARN)


def lifecycle_state_machine_arn() -> str:
    return _get(LIFECYCLE_STATE_MACHINE_ARN)


def task_token_queue_url() -> str:
    return _get(TASK_TOKEN_QUEUE_URL)


def allowed_origins() -> str:
    """Browser origins allowed by CORS: comma-separated, each exact (`https://desk.example.com`)
    or with a port wildcard (`http://localhost:*`). Empty: no cross-origin browser access."""
    return _get(ALLOWED_ORIGINS)


def sla_policy() -> str:
    return _get(SLA_POLICY, "default")


def calendar_overrides() -> str | None:
    return _get(CALENDAR_OVERRIDES) or None


def audit_retention_days() -> int:
    return int(_get(AUDIT_RETENTION_DAYS, "1095"))


def workflow_start_grace_seconds() -> int:
    """How long a ticket may wait for its execution before the sweep starts it again."""
    return int(_get(WORKFLOW_START_GRACE_SECONDS, "60"))


def cursor_secret() -> str:
    """Key that signs page cursors (so a forged cursor is a 400). infra sets a generated secret;
    without one, cursors are still checked, with a key derived from the table name."""
    return _get(CURSOR_SECRET) or f"complaint-tickets-cursor:{tickets_table()}"


# -- issue 11: bulletins


def bulletins_table() -> str:
    return _get(BULLETINS_TABLE, "complaint-tickets-bulletins")


def incident_state_machine_arn() -> str:
    """The incident-resolution state machine (issue 11)."""
    return _get(INCIDENT_STATE_MACHINE_ARN)


def mass_complaint_policy() -> str | None:
    """Path of a mass-complaint thresholds file; unset: the shipped
    chalicelib/catalog/mass_complaint.json (issue 11)."""
    return _get(MASS_COMPLAINT_POLICY) or None
