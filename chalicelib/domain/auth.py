"""Who is asking, and what their role lets them see: enforced on the server for every route."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import Forbidden
from .vocabulary import ROLES

# Roles whose view is limited to tickets their department holds or held (API.md).
DEPARTMENT_SCOPED = frozenset({"department", "complaint_admin"})
# Roles that never contact customers: they see phone numbers masked.
NO_CUSTOMER_CONTACT = frozenset({"operator", "auditor", "leader"})


@dataclass(frozen=True)
class Principal:
    sub: str
    username: str
    roles: tuple[str, ...]
    department: str | None = None

    def has_any(self, allowed: Iterable[str]) -> bool:
        return any(r in self.roles for r in allowed)

    @property
    def role(self) -> str:
        """The principal's most privileged role, recorded in history and audit."""
        return max(self.roles, key=ROLES.index) if self.roles else "none"

    @property
    def sees_contact_details(self) -> bool:
        """False when none of the user's roles contacts customers (operator, auditor, leader):
        their views show the service and contact numbers masked."""
        return any(r not in NO_CUSTOMER_CONTACT for r in self.roles)

    @property
    def department_scoped(self) -> bool:
        """True when every role the user has is limited to its department."""
        return bool(self.roles) and all(r in DEPARTMENT_SCOPED for r in self.roles)


def require_role(principal: Principal, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if not principal.has_any(allowed):
        raise Forbidden(f"this needs one of the roles {', '.join(allowed)}")


def can_see(principal: Principal, departments: Iterable[str]) -> bool:
    """A department-scoped user sees tickets its department holds now or held before."""
    if not principal.department_scoped:
        return True
    return principal.department is not None and principal.department in set(departments)
