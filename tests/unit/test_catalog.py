"""The shipped complaint catalog is complete and consistent, and a broken one fails at load."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chalicelib.catalog import (
    Catalog,
    CatalogError,
    Phenomenon,
    get_catalog,
    load_catalog,
)
from chalicelib.catalog import model as catalog_model

CATALOG_DIR = Path(catalog_model.__file__).resolve().parent
API_ROLES = {"department", "complaint_admin", "complaint_manager", "leader"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


# --- the shipped catalog ------------------------------------------------------------------------


def test_shipped_catalog_has_the_ten_categories_of_the_handbook(catalog: Catalog) -> None:
    # GIVEN the catalog shipped with the Lambda
    # WHEN its categories are listed
    codes = set(catalog.categories)
    # THEN they are the 10 categories of DOMAIN.md §3
    assert codes == {
        "basic_communication",
        "information_security",
        "business_support",
        "communication_charges",
        "monternet",
        "own_services",
        "marketing",
        "service_quality",
        "enterprise_services",
        "service_12580",
    }


def test_shipped_catalog_lists_every_phenomenon_of_the_handbook(catalog: Catalog) -> None:
    # GIVEN the shipped catalog / THEN it has at least the 40 phenomena DOMAIN.md §3 lists
    assert len(catalog.phenomena) >= 40
    for code in (
        "voice_coverage",
        "roaming_failure",
        "call_quality",
        "interconnection",
        "sms_delay",
        "sms_duplicated",
        "sms_send_receive_failure",
        "inter_network_sms",
        "data_security",
        "spam_messages",
        "harassing_calls",
        "topup_voucher_failure",
        "gprs_charged_without_use",
        "ringback_unconsented",
        "staff_attitude",
        "mas_service",
        "service_12580_quality",
    ):
        assert catalog.phenomenon(code) is not None, code
    # AND every category has phenomena, each of which points back at it
    for category in catalog.categories.values():
        assert category.phenomena
        for code in category.phenomena:
            assert catalog.phenomena[code].category == category.code


def test_every_route_and_ladder_department_exists(catalog: Catalog) -> None:
    # GIVEN the shipped catalog / THEN every route names a known department
    for category in catalog.categories.values():
        assert catalog.department(category.route) is not None, category.code
    for p in catalog.phenomena.values():
        assert catalog.department(p.route) is not None, p.code
    for rung in catalog.ladder:
        assert rung.department is None or catalog.department(rung.department) is not None
    assert {"crc", "network", "billing_support", "it_support", "marketing"} <= set(
        catalog.departments
    )
    assert {"enterprise", "value_added", "service_quality"} <= set(catalog.departments)
    assert any(d.kind == "branch" for d in catalog.departments.values())


@pytest.mark.parametrize("code", sorted(get_catalog().phenomena))
def test_every_phenomenon_is_a_complete_handling_guide(catalog: Catalog, code: str) -> None:
    # GIVEN one phenomenon of the shipped catalog
    p = catalog.phenomena[code]
    # THEN it can be recognised, checked, dispatched and answered
    assert p.keywords and p.causes and p.checks
    assert p.name_zh and p.name_en
    assert set(p.scripts) == {c.code for c in p.causes}
    assert all(script.strip() for script in p.scripts.values())
    # AND the front desk asks at most five questions
    assert 1 <= len(p.required_fields) <= 5
    for f in p.required_fields:
        assert f.type in {"string", "phone", "datetime", "number", "enum", "boolean"}
        assert bool(f.options) == (f.type == "enum")
    assert p.sla_level in "ABCDEF"


def test_phenomenon_codes_are_unique_across_the_catalog(catalog: Catalog) -> None:
    # GIVEN all categories' member lists / THEN no phenomenon appears twice
    members = [code for c in catalog.categories.values() for code in c.phenomena]
    assert len(members) == len(set(members)) == len(catalog.phenomena)


def test_ladder_goes_from_handler_to_vice_president(catalog: Catalog) -> None:
    # GIVEN the escalation ladder
    ladder = catalog.ladder
    # THEN it has levels 0..4 in order, with the CRC's complaint manager at level 2
    assert [r.level for r in ladder] == [0, 1, 2, 3, 4]
    assert [r.role for r in ladder] == [
        "department",
        "complaint_admin",
        "complaint_manager",
        "leader",
        "leader",
    ]
    assert ladder[0].department is None and ladder[1].department is None
    assert ladder[2].department == "crc"
    assert {r.role for r in ladder} <= API_ROLES


def test_to_json_is_the_get_catalog_body(catalog: Catalog) -> None:
    # WHEN the catalog is rendered for GET /catalog
    body = catalog.to_json()
    # THEN it is camelCase JSON with categories → full phenomena, departments and ladder
    json.dumps(body, ensure_ascii=False)
    assert set(body) == {"categories", "departments", "ladder"}
    assert len(body["categories"]) == 10
    first = body["categories"][0]
    assert set(first) == {"code", "nameZh", "nameEn", "route", "phenomena"}
    phenomenon = first["phenomena"][0]
    assert {"code", "category", "nameZh", "nameEn", "keywords", "causes", "checks"} <= set(
        phenomenon
    )
    assert {"requiredFields", "route", "slaLevel", "scripts", "standardSolution"} <= set(phenomenon)
    assert {"name", "type", "prompt"} <= set(phenomenon["requiredFields"][0])
    assert set(body["departments"][0]) == {"code", "nameZh", "nameEn", "kind"}
    assert set(body["ladder"][0]) == {"level", "code", "nameZh", "nameEn", "role", "department"}
    assert sum(len(c["phenomena"]) for c in body["categories"]) == len(catalog.phenomena)


def test_loaded_catalog_is_read_only(catalog: Catalog) -> None:
    # GIVEN a loaded phenomenon / WHEN code tries to change it / THEN it cannot
    p: Phenomenon = catalog.phenomena["voice_coverage"]
    with pytest.raises(AttributeError):
        p.route = "crc"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog.phenomena["x"] = p  # type: ignore[index]


def test_get_catalog_is_cached() -> None:
    # GIVEN two calls / THEN the same object (one load per Lambda container)
    assert get_catalog() is get_catalog()


# --- broken catalogs ----------------------------------------------------------------------------


@pytest.fixture
def copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _edit(path: Path, change: Callable[[list[Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _first(data: list[Any]) -> dict[str, Any]:
    entry: dict[str, Any] = data[0]
    return entry


BROKEN: list[tuple[str, str, Callable[[list[Any]], None], tuple[str, ...]]] = [
    (
        "unknown route",
        "phenomena/basic_communication.json",
        lambda d: _first(d).update(route="nowhere"),
        ("phenomena/basic_communication.json", "voice_coverage", "route", "nowhere"),
    ),
    (
        "script for a cause missing",
        "phenomena/basic_communication.json",
        lambda d: _first(d)["scripts"].pop("weak_coverage"),
        ("voice_coverage", "scripts.weak_coverage"),
    ),
    (
        "too many required fields",
        "phenomena/monternet.json",
        lambda d: _first(d)["requiredFields"].extend(
            {"name": f"extra{i}", "type": "string", "prompt": "?"} for i in range(5)
        ),
        ("phenomena/monternet.json", "sp_unknowing_subscription", "requiredFields"),
    ),
    (
        "bad field type",
        "phenomena/marketing.json",
        lambda d: _first(d)["requiredFields"][0].update(type="text"),
        ("campaign_plan", "requiredFields[0].type", "text"),
    ),
    (
        "enum without options",
        "phenomena/basic_communication.json",
        lambda d: _first(d)["requiredFields"][2].pop("options"),
        ("voice_coverage", "requiredFields[2].options"),
    ),
    (
        "bad SLA level",
        "phenomena/service_12580.json",
        lambda d: _first(d).update(slaLevel="Z"),
        ("service_12580_value_added", "slaLevel"),
    ),
    (
        "empty keywords",
        "phenomena/own_services.json",
        lambda d: _first(d).update(keywords=[]),
        ("ringback_unconsented", "keywords"),
    ),
    (
        "misspelt field",
        "phenomena/own_services.json",
        lambda d: _first(d).update(requiredfields=[]),
        ("ringback_unconsented", "requiredfields", "unknown field"),
    ),
    (
        "duplicate phenomenon code",
        "phenomena/marketing.json",
        lambda d: d.append(dict(_first(d))),
        ("phenomena/marketing.json", "campaign_plan", "duplicate"),
    ),
    (
        "category mismatch",
        "phenomena/marketing.json",
        lambda d: _first(d).update(category="monternet"),
        ("campaign_plan", "category", "monternet"),
    ),
    (
        "category with unknown route",
        "categories.json",
        lambda d: _first(d).update(route="mars"),
        ("categories.json", "basic_communication", "route", "mars"),
    ),
    (
        "department with unknown kind",
        "departments.json",
        lambda d: _first(d).update(kind="alien"),
        ("departments.json", "crc", "kind"),
    ),
    (
        "ladder with a gap",
        "ladder.json",
        lambda d: d.pop(1),
        ("ladder.json", "crc_manager", "level"),
    ),
    (
        "ladder with unknown role",
        "ladder.json",
        lambda d: d[3].update(role="king"),
        ("ladder.json", "leader_in_charge", "role"),
    ),
]


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [(file, change, expected) for _, file, change, expected in BROKEN],
    ids=[name for name, *_ in BROKEN],
)
def test_broken_catalog_fails_naming_file_entry_and_field(
    copy_catalog: Path,
    file: str,
    change: Callable[[list[Any]], None],
    expected: tuple[str, ...],
) -> None:
    # GIVEN a copy of the catalog with one mistake
    _edit(copy_catalog / file, change)
    # WHEN it is loaded
    with pytest.raises(CatalogError) as error:
        load_catalog(copy_catalog)
    # THEN the error names where the mistake is
    for part in expected:
        assert part in str(error.value)


def test_unbroken_copy_loads(copy_catalog: Path) -> None:
    # GIVEN an untouched copy / THEN it loads like the shipped one
    assert set(load_catalog(copy_catalog).phenomena) == set(get_catalog().phenomena)


def test_invalid_json_names_the_file(copy_catalog: Path) -> None:
    # GIVEN a truncated file
    (copy_catalog / "phenomena" / "monternet.json").write_text("[{", encoding="utf-8")
    # WHEN loaded / THEN the error names it
    with pytest.raises(CatalogError, match=r"phenomena/monternet\.json: invalid JSON"):
        load_catalog(copy_catalog)


def test_missing_file_names_the_file(copy_catalog: Path) -> None:
    # GIVEN a catalog without its departments
    (copy_catalog / "departments.json").unlink()
    # WHEN loaded / THEN the error says which file is missing
    with pytest.raises(CatalogError, match=r"departments\.json: file is missing"):
        load_catalog(copy_catalog)


def test_category_without_phenomena_fails(copy_catalog: Path) -> None:
    # GIVEN a category whose phenomena file is gone
    (copy_catalog / "phenomena" / "service_12580.json").unlink()
    # WHEN loaded / THEN the category is named
    with pytest.raises(CatalogError, match=r"service_12580.*no phenomena"):
        load_catalog(copy_catalog)


def test_stray_phenomena_file_fails(copy_catalog: Path) -> None:
    # GIVEN a phenomena file for a category that does not exist
    shutil.copy(
        copy_catalog / "phenomena" / "marketing.json", copy_catalog / "phenomena" / "sales.json"
    )
    # WHEN loaded / THEN the file is named
    with pytest.raises(CatalogError, match=r"phenomena/sales\.json"):
        load_catalog(copy_catalog)


# --- issue 13 (catalog): sources and the intake rule, broken ------------------------------------

BROKEN_SOURCES: list[tuple[str, Callable[[list[Any]], None], tuple[str, ...]]] = [
    (
        "source missing",
        lambda d: _first(d).pop("source"),
        ("voice_coverage", "'source'"),
    ),
    (
        "unknown guide origin",
        lambda d: _first(d)["source"].update(guide="folklore"),
        ("voice_coverage", "source.guide", "folklore"),
    ),
    (
        "seed guide without a section",
        lambda d: _first(d)["source"].update(refs=[]),
        ("voice_coverage", "source.refs"),
    ),
    (
        "not a seed file",
        lambda d: _first(d)["source"]["refs"][0].update(seed="handbook.pdf"),
        ("voice_coverage", "source.refs[0].seed", "handbook.pdf"),
    ),
    (
        "standard solution without its origin",
        lambda d: _first(d)["source"].pop("standardSolution"),
        ("voice_coverage", "source.standardSolution"),
    ),
    (
        "origin without a standard solution",
        lambda d: d[4]["source"].update(standardSolution="project"),
        ("sms_delay", "source.standardSolution", "no standardSolution"),
    ),
    (
        "intake rule on a free-text field",
        lambda d: _first(d)["answerAtIntake"]["when"].update(location=["x"]),
        ("voice_coverage", "answerAtIntake.when.location"),
    ),
    (
        "intake rule with an unknown option",
        lambda d: _first(d)["answerAtIntake"]["when"].update(frequency=["sometimes"]),
        ("voice_coverage", "answerAtIntake.when.frequency", "sometimes"),
    ),
    (
        "intake rule with an unknown cause",
        lambda d: _first(d)["answerAtIntake"].update(cause="aliens"),
        ("voice_coverage", "answerAtIntake.cause", "aliens"),
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in BROKEN_SOURCES],
    ids=[name for name, *_ in BROKEN_SOURCES],
)
def test_broken_source_or_intake_rule_fails_naming_the_field(
    copy_catalog: Path, change: Callable[[list[Any]], None], expected: tuple[str, ...]
) -> None:
    # GIVEN a copy of the catalog with one bad source or intake rule
    _edit(copy_catalog / "phenomena/basic_communication.json", change)
    # WHEN loaded THEN the error names the file, the phenomenon and the field
    with pytest.raises(CatalogError) as info:
        load_catalog(copy_catalog)
    for part in ("phenomena/basic_communication.json", *expected):
        assert part in str(info.value)
