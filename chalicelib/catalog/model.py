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
# Who wrote a phenomenon's handling guide (causes, checks, scripts): the seed in full, the seed in
# part (the rest is the project's), or the project alone; and who wrote its standard solution.
GUIDE_ORIGINS = frozenset({"seed", "partial", "project"})
SOLUTION_ORIGINS = frozenset({"seed", "project"})


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
class SourceRef:
    """A place in a seed document (``/work/shared/seeds`` in the project's sources)."""

    seed: str
    section: str

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "section": self.section}


@dataclass(frozen=True)
class Source:
    """Where a phenomenon comes from: the seed sections that name or describe it (``refs``), who
    wrote its handling guide (``guide``) and, when it has one, its standard solution."""

    guide: str
    refs: tuple[SourceRef, ...]
    standard_solution: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "guide": self.guide,
            "refs": [r.to_json() for r in self.refs],
            "standardSolution": self.standard_solution,
            "note": self.note,
        }


@dataclass(frozen=True)
class IntakeAnswer:
    """A complaint answered at intake with a cause's script when its required fields say so
    (e.g. coverage: ``frequency`` occasional → the busy-network script and "please observe")."""

    when: Mapping[str, tuple[str, ...]]
    cause: str

    def applies(self, fields: Mapping[str, Any]) -> bool:
        return all(fields.get(name) in values for name, values in self.when.items())

    def to_json(self) -> dict[str, Any]:
        return {"when": {k: list(v) for k, v in self.when.items()}, "cause": self.cause}


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
    source: Source
    standard_solution: str | None = None
    answer_at_intake: IntakeAnswer | None = None

    def cause(self, code: str) -> Cause | None:
        return next((c for c in self.causes if c.code == code), None)

    def intake_answer(self, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        """(cause, script) when this phenomenon's intake rule answers a complaint with these
        required fields at once; None when it must go on (dispatch)."""
        rule = self.answer_at_intake
        if rule is None or not rule.applies(fields):
            return None
        return rule.cause, self.scripts[rule.cause]

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
            "source": self.source.to_json(),
            "answerAtIntake": self.answer_at_intake.to_json() if self.answer_at_intake else None,
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
