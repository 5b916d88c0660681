"""The closed vocabularies of API.md: kinds, channels, sources, complainant types, statuses, roles."""

from __future__ import annotations

KINDS = ("complaint", "suggestion")
CHANNELS = (
    "hotline",
    "business_hall",
    "account_manager",
    "website",
    "online_hall",
    "app",
    "sms",
    "letter",
    "fax",
    "email",
    "visit",
    "superior_body",
    "social_body",
    # part C (issue 10): a call to a company office (来电, 000 ch.3 pt.2 五(3)), not the 10086
    # hotline, whose electronic tickets follow the levels A–F
    "office_call",
)
# Social bodies (12315, consumer association, mayor's hotline, media, public review) and
# superior bodies (group HQ, provincial company, MIIT, communications administration) [DOMAIN §2].
SOCIAL_SOURCES = (
    "12315",
    "consumer_association",
    "media",
    "mayor_hotline",
    "public_service_review",
)
SUPERIOR_SOURCES = ("miit", "group_hq", "provincial_company", "communications_administration")
OTHER_SOURCES = ("customer", "other_province", "supervision_hotline")
SOURCES = SOCIAL_SOURCES + SUPERIOR_SOURCES + OTHER_SOURCES
COMPLAINANT_TYPES = ("ordinary", "vip", "big_customer", "agent")
REPLY_METHODS = ("phone", "sms", "email", "letter")
FLAGS = (
    "media",
    "consumer_association",
    "12315",
    "public_impact",
    "supervisory_body",
    "repeated_failure",
    "urgent_deadline",
)
STATUSES = (
    "accepted",
    "answered",
    "reviewing",
    "dispatched",
    "processing",
    "returned",
    "resolved",
    "replied",
    "revisited",
    "archived",
    "cancelled",
    "rejected",
)
CLOSED_STATUSES = ("archived", "cancelled", "rejected")
ROLES = (
    "agent",
    "senior_agent",
    "department",
    "complaint_admin",
    "complaint_manager",
    "leader",
    "operator",
    "auditor",
)
PRIORITIES = ("normal", "high", "urgent")
