"""Typed, immutable view of the complaint catalog.

The catalog is business data (DOMAIN.md §3): which categories and phenomena exist, what the front
desk must ask before dispatching, where a ticket goes and how fast. Code reads these types, never
the raw JSON, so a deployment can change the data without touching any rule that consumes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIELD_TYPES = frozenset({"string", "phone", "datetime", "number", "enum", "boolean"})
SLA_LEVELS = frozenset("ABCDEF")
DEPARTMENT_KINDS = frozenset({"crc", "support", "branch", "provincial", "external"})
# The API's roles that can own a rung of the escalation ladder.
LADDER_ROLES = frozenset({"department", "complaint_admin", "complaint_manager", "leader"})


class CatalogError(ValueError):
    """A catalog file is missing, malformed or inconsistent; the message names file, entry, field."""


@dataclass(frozen=True)
class RequiredField:
    name: str
    type: str
    prompt: str
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "prompt": self.prompt}
        if self.options:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True)
class Cause:
    code: str
    name_zh: str
    name_en: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "nameZh": self.name_zh, "nameEn": self.name_en}


@dataclass(frozen=True)
class Phenomenon:
    code: str
    category: str
    name_zh: str
    name_en: str
    keywords: tuple[str, ...]
    causes: tuple[Cause, ...]
    checks: tuple[str, ...]
    required_fields: tuple[RequiredField, ...]
    route: str
    sla_level: str
    scripts: Mapping[str, str]
    standard_solution: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "category": self.category,
            "nameZh": self.name_zh,
            "nameEn": self.name_en,
            "keywords": list(self.keywords),
            "causes": [c.to_json() for c in self.causes],
            "checks": list(self.checks),
            "requiredFields": [f.to_json() for f in self.required_fields],
            "route": self.route,
            "slaLevel": self.sla_level,
            "scripts": dict(self.scripts),
            "standardSolution": self.standard_solution,
        }


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    route: str
    phenomena: tuple[str, ...]


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "nameZh": self.name_zh,
            "nameEn": self.name_en,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class LadderLevel:
    level: int
    code: str
    name_zh: str
    name_en: str
    role: str
    # None means "the ticket's own department" (levels 0 and 1 follow the ticket).
    department: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "nameZh": self.name_zh,
            "nameEn": self.name_en,
            "role": self.role,
            "department": self.department,
        }


# eq=False keeps identity hashing, so a catalog can key caches (e.g. the classifier's index).
@dataclass(frozen=True, eq=False)
class Catalog:
    categories: Mapping[str, Category]
    phenomena: Mapping[str, Phenomenon]
    departments: Mapping[str, Department]
    ladder: tuple[LadderLevel, ...]

    def category(self, code: str) -> Category | None:
        return self.categories.get(code)

    def phenomenon(self, code: str) -> Phenomenon | None:
        return self.phenomena.get(code)

    def department(self, code: str) -> Department | None:
        return self.departments.get(code)

    def to_json(self) -> dict[str, Any]:
        """The body of ``GET /catalog``: categories with their full phenomena, departments, ladder."""
        return {
            "categories": [
                {
                    "code": c.code,
                    "nameZh": c.name_zh,
                    "nameEn": c.name_en,
                    "route": c.route,
                    "phenomena": [self.phenomena[p].to_json() for p in c.phenomena],
                }
                for c in self.categories.values()
            ],
            "departments": [d.to_json() for d in self.departments.values()],
            "ladder": [rung.to_json() for rung in self.ladder],
        }
