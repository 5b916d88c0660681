"""Entry-level checks for catalog JSON, with errors that point at the exact file, entry and field.

Catalog files are edited by hand by operations staff; a typo must stop the deployment at load
with a message they can act on, not surface later as a KeyError inside a ticket workflow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from chalicelib.catalog.model import (
    DEPARTMENT_KINDS,
    FIELD_TYPES,
    GUIDE_ORIGINS,
    LADDER_ROLES,
    SLA_LEVELS,
    SOLUTION_ORIGINS,
    CatalogError,
    Cause,
    Department,
    IntakeAnswer,
    LadderLevel,
    Phenomenon,
    RequiredField,
    Source,
    SourceRef,
)

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
MAX_REQUIRED_FIELDS = 5  # the front desk asks 3-5 questions at most [001]
SEED_FILE_RE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")  # a seed document's file name

PHENOMENON_KEYS = frozenset(
    {
        "code",
        "category",
        "nameZh",
        "nameEn",
        "keywords",
        "causes",
        "checks",
        "requiredFields",
        "route",
        "slaLevel",
        "scripts",
        "standardSolution",
        "source",
        "answerAtIntake",
    }
)


class Entry:
    """One JSON object of a catalog file, read field by field with located errors."""

    def __init__(self, file: str, index: int, data: object, keys: frozenset[str]) -> None:
        self.file = file
        self.label = f"#{index}"
        if not isinstance(data, dict):
            self.fail("", "entry must be a JSON object")
        self.data: dict[str, Any] = data
        code = data.get("code")
        if isinstance(code, str) and code:
            self.label = code
        unknown = sorted(set(data) - keys)
        if unknown:
            # Unknown keys are usually misspelt known ones ("requiredfield"); silently ignoring
            # them would drop data the author meant to ship.
            self.fail(unknown[0], "unknown field")

    def fail(self, field: str, message: str) -> NoReturn:
        where = f"{self.file}: entry {self.label!r}"
        if field:
            where += f": field {field!r}"
        raise CatalogError(f"{where}: {message}")

    def text(self, field: str) -> str:
        value = self.data.get(field)
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "must be a non-empty string")
        return str(value).strip()

    def code(self, field: str = "code") -> str:
        value = self.text(field)
        if not CODE_RE.match(value):
            self.fail(field, f"{value!r} is not a lowercase snake_case code")
        return value

    def optional_text(self, field: str) -> str | None:
        if self.data.get(field) is None:
            return None
        return self.text(field)

    def texts(self, field: str, *, min_items: int = 1) -> tuple[str, ...]:
        value = self.data.get(field)
        if not isinstance(value, list) or len(value) < min_items:
            self.fail(field, f"must be a list of at least {min_items} string(s)")
        items: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{field}[{i}]", "must be a non-empty string")
            items.append(item.strip())
        if len(set(items)) != len(items):
            self.fail(field, "contains duplicates")
        return tuple(items)

    def objects(self, field: str, *, min_items: int = 0) -> list[dict[str, Any]]:
        value = self.data.get(field)
        if not isinstance(value, list) or len(value) < min_items:
            self.fail(field, f"must be a list of at least {min_items} object(s)")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{field}[{i}]", "must be an object")
        return list(value)


def _sub_text(entry: Entry, item: Mapping[str, Any], path: str, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        entry.fail(f"{path}.{key}", "must be a non-empty string")
    return str(value).strip()


def parse_department(file: str, index: int, data: object) -> Department:
    e = Entry(file, index, data, frozenset({"code", "nameZh", "nameEn", "kind"}))
    kind = e.text("kind")
    if kind not in DEPARTMENT_KINDS:
        e.fail("kind", f"{kind!r} is not one of {sorted(DEPARTMENT_KINDS)}")
    return Department(e.code(), e.text("nameZh"), e.text("nameEn"), kind)


def parse_ladder_level(file: str, index: int, data: object) -> LadderLevel:
    e = Entry(
        file, index, data, frozenset({"level", "code", "nameZh", "nameEn", "role", "department"})
    )
    level = e.data.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or level != index:
        e.fail("level", f"must be the integer {index} (levels are ordered from 0 without gaps)")
    role = e.text("role")
    if role not in LADDER_ROLES:
        e.fail("role", f"{role!r} is not one of {sorted(LADDER_ROLES)}")
    department = e.data.get("department")
    if department is not None:
        department = e.code("department")
    return LadderLevel(index, e.code(), e.text("nameZh"), e.text("nameEn"), role, department)


def _required_field(e: Entry, i: int, item: Mapping[str, Any]) -> RequiredField:
    path = f"requiredFields[{i}]"
    unknown = sorted(set(item) - {"name", "type", "prompt", "options"})
    if unknown:
        e.fail(f"{path}.{unknown[0]}", "unknown field")
    name = _sub_text(e, item, path, "name")
    if not FIELD_NAME_RE.match(name):
        e.fail(f"{path}.name", f"{name!r} is not camelCase")
    type_ = _sub_text(e, item, path, "type")
    if type_ not in FIELD_TYPES:
        e.fail(f"{path}.type", f"{type_!r} is not one of {sorted(FIELD_TYPES)}")
    raw_options = item.get("options", [])
    if not isinstance(raw_options, list) or not all(
        isinstance(o, str) and o.strip() for o in raw_options
    ):
        e.fail(f"{path}.options", "must be a list of non-empty strings")
    options = tuple(str(o).strip() for o in raw_options)
    if type_ == "enum" and not options:
        e.fail(f"{path}.options", "an enum field needs options")
    if type_ != "enum" and options:
        e.fail(f"{path}.options", "only enum fields take options")
    return RequiredField(name, type_, _sub_text(e, item, path, "prompt"), options)


def parse_phenomenon(file: str, index: int, data: object) -> Phenomenon:
    e = Entry(file, index, data, PHENOMENON_KEYS)
    code = e.code()

    causes: list[Cause] = []
    for i, item in enumerate(e.objects("causes", min_items=1)):
        path = f"causes[{i}]"
        cause_code = _sub_text(e, item, path, "code")
        if not CODE_RE.match(cause_code):
            e.fail(f"{path}.code", f"{cause_code!r} is not a lowercase snake_case code")
        if any(c.code == cause_code for c in causes):
            e.fail(f"{path}.code", f"duplicate cause {cause_code!r}")
        causes.append(
            Cause(
                cause_code, _sub_text(e, item, path, "nameZh"), _sub_text(e, item, path, "nameEn")
            )
        )

    fields = [_required_field(e, i, item) for i, item in enumerate(e.objects("requiredFields"))]
    if len(fields) > MAX_REQUIRED_FIELDS:
        e.fail("requiredFields", f"has {len(fields)} fields; the front desk asks at most 5")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        e.fail("requiredFields", "field names must be unique")

    sla = e.text("slaLevel")
    if sla not in SLA_LEVELS:
        e.fail("slaLevel", f"{sla!r} is not one of A-F")

    raw_scripts = e.data.get("scripts")
    if not isinstance(raw_scripts, dict):
        e.fail("scripts", "must be an object mapping cause code to reply script")
    cause_codes = [c.code for c in causes]
    for key, value in raw_scripts.items():
        if key not in cause_codes:
            e.fail(f"scripts.{key}", "is not one of this phenomenon's causes")
        if not isinstance(value, str) or not value.strip():
            e.fail(f"scripts.{key}", "must be a non-empty string")
    for cause_code in cause_codes:
        if cause_code not in raw_scripts:
            e.fail(f"scripts.{cause_code}", "every cause needs a reply script")

    standard_solution = e.optional_text("standardSolution")
    source = _source(e, standard_solution is not None)
    answer_at_intake = _answer_at_intake(e, fields, cause_codes)
    return Phenomenon(
        code=code,
        category=e.code("category"),
        name_zh=e.text("nameZh"),
        name_en=e.text("nameEn"),
        keywords=e.texts("keywords"),
        causes=tuple(causes),
        checks=e.texts("checks"),
        required_fields=tuple(fields),
        route=e.code("route"),
        sla_level=sla,
        scripts=MappingProxyType({c: str(raw_scripts[c]).strip() for c in cause_codes}),
        source=source,
        standard_solution=standard_solution,
        answer_at_intake=answer_at_intake,
    )


def _source(e: Entry, has_solution: bool) -> Source:
    """``source``: which seed sections name or describe the phenomenon, who wrote its guide and,
    when it has one, its standard solution (the issue asks the catalog to say which is which)."""
    raw = e.data.get("source")
    if not isinstance(raw, dict):
        e.fail("source", "must be an object {guide, refs, standardSolution?, note?}")
    unknown = sorted(set(raw) - {"guide", "refs", "standardSolution", "note"})
    if unknown:
        e.fail(f"source.{unknown[0]}", "unknown field")
    guide = raw.get("guide")
    if guide not in GUIDE_ORIGINS:
        e.fail("source.guide", f"{guide!r} is not one of {sorted(GUIDE_ORIGINS)}")
    raw_refs = raw.get("refs")
    if not isinstance(raw_refs, list):
        e.fail("source.refs", "must be a list of {seed, section}")
    refs: list[SourceRef] = []
    for i, item in enumerate(raw_refs):
        path = f"source.refs[{i}]"
        if not isinstance(item, dict) or set(item) != {"seed", "section"}:
            e.fail(path, "must be an object with exactly 'seed' and 'section'")
        seed = _sub_text(e, item, path, "seed")
        if not SEED_FILE_RE.match(seed):
            e.fail(f"{path}.seed", f"{seed!r} is not a seed file name (NNN_<16 hex>.txt)")
        refs.append(SourceRef(seed, _sub_text(e, item, path, "section")))
    if guide != "project" and not refs:
        e.fail("source.refs", f"a {guide!r} guide must name the seed section it comes from")
    solution = raw.get("standardSolution")
    if has_solution and solution not in SOLUTION_ORIGINS:
        e.fail(
            "source.standardSolution",
            f"{solution!r} is not one of {sorted(SOLUTION_ORIGINS)} (who wrote the solution)",
        )
    if not has_solution and solution is not None:
        e.fail("source.standardSolution", "set, but the phenomenon has no standardSolution")
    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        e.fail("source.note", "must be a non-empty string")
    return Source(str(guide), tuple(refs), solution, note.strip() if note else None)


def _answer_at_intake(
    e: Entry, fields: list[RequiredField], cause_codes: list[str]
) -> IntakeAnswer | None:
    """``answerAtIntake``: {when: {enum field: [options]}, cause}: such a complaint is answered
    at intake with the cause's script instead of being dispatched."""
    raw = e.data.get("answerAtIntake")
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"when", "cause"}:
        e.fail("answerAtIntake", "must be an object with exactly 'when' and 'cause'")
    cause = raw["cause"]
    if cause not in cause_codes:
        e.fail("answerAtIntake.cause", f"{cause!r} is not one of this phenomenon's causes")
    when = raw["when"]
    if not isinstance(when, dict) or not when:
        e.fail("answerAtIntake.when", "must map at least one required field to its values")
    enums = {f.name: f.options for f in fields if f.type == "enum"}
    parsed: dict[str, tuple[str, ...]] = {}
    for name, values in when.items():
        path = f"answerAtIntake.when.{name}"
        if name not in enums:
            e.fail(path, "is not one of this phenomenon's enum required fields")
        if not isinstance(values, list) or not values:
            e.fail(path, "must be a non-empty list of the field's options")
        for value in values:
            if value not in enums[name]:
                e.fail(path, f"{value!r} is not one of the field's options {list(enums[name])}")
        parsed[name] = tuple(values)
    return IntakeAnswer(MappingProxyType(parsed), str(cause))
