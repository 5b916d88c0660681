"""The complaint catalog: categories, phenomena, departments and the escalation ladder.

Business rules live in the JSON files next to this module so a deployment can change them without
code (DESIGN.md, Principles). This module loads and cross-checks them once, failing fast with a
``CatalogError`` naming the file, entry and field, so a broken file never reaches a ticket.

Files read (anything else in the folder, e.g. the SLA policy, belongs to other modules):
``categories.json``, ``departments.json``, ``ladder.json`` and ``phenomena/<category>.json``.
Each phenomenon says where it comes from (``source``: the seed sections, who wrote its guide
and its standard solution) and may carry an intake rule (``answerAtIntake``: the required-field
answers that let the desk answer at once with a cause's script, e.g. occasional coverage trouble).
A keyword may contain ``*`` ("收不到*短信"): the classifier then accepts a few characters between
the parts, because customers insert words no fixed phrase anticipates.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

from chalicelib.catalog._parse import Entry, parse_department, parse_ladder_level, parse_phenomenon
from chalicelib.catalog.model import (
    Catalog,
    CatalogError,
    Category,
    Cause,
    Department,
    IntakeAnswer,
    LadderLevel,
    Phenomenon,
    RequiredField,
    Source,
    SourceRef,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Category",
    "Cause",
    "Department",
    "IntakeAnswer",
    "LadderLevel",
    "Phenomenon",
    "RequiredField",
    "Source",
    "SourceRef",
    "get_catalog",
    "load_catalog",
]

DEFAULT_DIRECTORY = Path(__file__).resolve().parent


def _read_list(root: Path, relative: str) -> list[Any]:
    path = root / relative
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise CatalogError(f"{relative}: file is missing from {root}") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{relative}: invalid JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise CatalogError(f"{relative}: must contain a non-empty JSON list of entries")
    return data


def _check_unique(file: str, label: str, code: str, seen: dict[str, str], what: str) -> None:
    if code in seen:
        raise CatalogError(
            f"{file}: entry {label!r}: field 'code': duplicate {what} code, first defined in "
            f"{seen[code]}"
        )
    seen[code] = file


def _load_departments(root: Path) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    seen: dict[str, str] = {}
    for i, raw in enumerate(_read_list(root, "departments.json")):
        dept = parse_department("departments.json", i, raw)
        _check_unique("departments.json", dept.code, dept.code, seen, "department")
        departments[dept.code] = dept
    return departments


def _load_ladder(root: Path, departments: dict[str, Department]) -> tuple[LadderLevel, ...]:
    ladder = tuple(
        parse_ladder_level("ladder.json", i, raw)
        for i, raw in enumerate(_read_list(root, "ladder.json"))
    )
    for rung in ladder:
        if rung.department is not None and rung.department not in departments:
            raise CatalogError(
                f"ladder.json: entry {rung.code!r}: field 'department': "
                f"unknown department {rung.department!r}"
            )
    return ladder


def _load_phenomena(
    root: Path, category_codes: list[str], departments: dict[str, Department]
) -> dict[str, list[Phenomenon]]:
    by_category: dict[str, list[Phenomenon]] = {code: [] for code in category_codes}
    seen: dict[str, str] = {}
    folder = root / "phenomena"
    if not folder.is_dir():
        raise CatalogError(f"phenomena/: folder is missing from {root}")
    for path in sorted(folder.glob("*.json")):
        file = f"phenomena/{path.name}"
        if path.stem not in by_category:
            raise CatalogError(f"{file}: file name must be a category code from categories.json")
        for i, raw in enumerate(_read_list(root, file)):
            p = parse_phenomenon(file, i, raw)
            _check_unique(file, p.code, p.code, seen, "phenomenon")
            if p.category != path.stem:
                raise CatalogError(
                    f"{file}: entry {p.code!r}: field 'category': {p.category!r} does not match "
                    f"the file's category {path.stem!r}"
                )
            if p.route not in departments:
                raise CatalogError(
                    f"{file}: entry {p.code!r}: field 'route': unknown department {p.route!r}"
                )
            by_category[p.category].append(p)
    return by_category


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load and validate the catalog in ``directory`` (default: this package's folder)."""
    root = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    departments = _load_departments(root)
    ladder = _load_ladder(root, departments)

    raw_categories: list[tuple[Entry, str]] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(_read_list(root, "categories.json")):
        e = Entry("categories.json", i, raw, frozenset({"code", "nameZh", "nameEn", "route"}))
        code = e.code()
        _check_unique("categories.json", code, code, seen, "category")
        if e.code("route") not in departments:
            e.fail("route", f"unknown department {e.data['route']!r}")
        raw_categories.append((e, code))

    by_category = _load_phenomena(root, [code for _, code in raw_categories], departments)
    categories: dict[str, Category] = {}
    phenomena: dict[str, Phenomenon] = {}
    for e, code in raw_categories:
        members = by_category[code]
        if not members:
            e.fail("code", f"category has no phenomena (expected phenomena/{code}.json)")
        categories[code] = Category(
            code,
            e.text("nameZh"),
            e.text("nameEn"),
            e.code("route"),
            tuple(p.code for p in members),
        )
        phenomena.update((p.code, p) for p in members)

    return Catalog(
        categories=MappingProxyType(categories),
        phenomena=MappingProxyType(phenomena),
        departments=MappingProxyType(departments),
        ladder=ladder,
    )


@functools.cache
def get_catalog() -> Catalog:
    """The shipped catalog, loaded once per process (a Lambda container reuses it)."""
    return load_catalog()
