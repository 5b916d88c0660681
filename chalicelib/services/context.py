"""The dependencies every use case takes, built once per process from config (lazily)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from chalicelib import config
from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.blacklist_repo import BlacklistRepository
from chalicelib.adapters.bulletins_repo import BulletinCache, BulletinRepository
from chalicelib.adapters.incidents_repo import IncidentRepository
from chalicelib.adapters.kpis_repo import KpiRepository
from chalicelib.adapters.library_repo import LibraryRepository
from chalicelib.adapters.notices_repo import NoticeRepository
from chalicelib.adapters.notifier import Notifier
from chalicelib.adapters.profile_repo import ProfileRepository
from chalicelib.adapters.query import Cursors
from chalicelib.adapters.tickets_repo import TicketRepository
from chalicelib.adapters.workflow import Workflows
from chalicelib.domain.auth import Principal
from chalicelib.domain.records import AuditEntry

from .rules import Rules

MAX_USER_AGENT = 256


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    repo: TicketRepository
    audit: AuditRepository
    workflows: Workflows
    notifier: Notifier
    blacklist: BlacklistRepository = field(default_factory=BlacklistRepository)
    notices: NoticeRepository = field(default_factory=NoticeRepository)
    clock: Callable[[], datetime] = system_clock
    sleep: Callable[[float], None] = time.sleep
    rules: Rules = field(default_factory=Rules)
    cursors: Cursors = field(default_factory=lambda: Cursors(config.cursor_secret()))
    extras: dict[str, Any] = field(default_factory=dict)
    profiles: ProfileRepository = field(default_factory=ProfileRepository)  # issue 10 part A
    # issue 11: bulletins, and the per-container cache of the active ones intake matches
    bulletins: BulletinRepository = field(default_factory=BulletinRepository)
    active_bulletins: BulletinCache = field(default_factory=BulletinCache)
    library: LibraryRepository = field(default_factory=LibraryRepository)  # issue 12 (cases)
    kpis: KpiRepository = field(default_factory=KpiRepository)  # issue 12: KPI counters
    # -- issue 11: incidents (mass complaints) --
    incidents: IncidentRepository = field(default_factory=IncidentRepository)
    incident_workflows: Workflows = field(
        default_factory=lambda: Workflows(config.incident_state_machine_arn())
    )


@dataclass(frozen=True)
class Caller:
    """Who asks, and under which request id (recorded in history and audit)."""

    principal: Principal
    request_id: str | None = None
    source_ip: str | None = None  # requestContext.identity.sourceIp
    user_agent: str | None = None  # the User-Agent header, cut to MAX_USER_AGENT

    def audit(
        self, action: str, ticket_id: str | None, at: datetime, outcome: str = "ok"
    ) -> AuditEntry:
        """The audit entry of this caller's `action` (on `ticket_id`, if it names one)."""
        p = self.principal
        return AuditEntry(
            p.username,
            p.role,
            action,
            ticket_id,
            self.request_id,
            at,
            outcome,
            self.source_ip,
            self.user_agent,
        )


@cache
def deps() -> Deps:
    return Deps(
        repo=TicketRepository(),
        audit=AuditRepository(config.audit_retention_days()),
        workflows=Workflows(config.lifecycle_state_machine_arn()),
        notifier=Notifier(config.ticket_events_topic_arn(), config.department_topic_arn()),
    )
