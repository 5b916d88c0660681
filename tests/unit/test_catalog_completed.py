"""Issue 13 item 2: the catalog completed from the seeds (new sub-types, seed 001's template)."""

from __future__ import annotations

import pytest

from chalicelib.catalog import Catalog, get_catalog
from chalicelib.domain.classify import classify, missing_required_fields


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


# (category, code, name) of the sub-types seed 000 ch.2 names and seed 001's template.
NEW_PHENOMENA = [
    ("basic_communication", "cannot_call_out", "无法主叫"),
    ("marketing", "early_number_release", "提前放号"),
    ("marketing", "basic_service_rules", "基础业务规定"),
    ("marketing", "basic_service_process", "基础业务流程"),
    ("enterprise_services", "enterprise_customer_service", "集团客户服务"),
    ("enterprise_services", "enterprise_marketing", "集团营销"),
    ("information_security", "other_security", "其他安全问题"),
    ("business_support", "charge_reminder_billing", "话费提醒/帐单服务"),
    ("communication_charges", "cdr_dispute", "话单质疑"),
]


@pytest.mark.parametrize(("category", "code", "name"), NEW_PHENOMENA)
def test_new_sub_types_are_in_their_category(
    catalog: Catalog, category: str, code: str, name: str
) -> None:
    # GIVEN a sub-type the seeds name / THEN the catalog has it, in the seed's category
    p = catalog.phenomenon(code)
    assert p is not None
    assert p.category == category
    assert code in catalog.categories[category].phenomena
    assert name in p.name_zh


# Texts a front desk hears, each with the new phenomenon it must rank first.
NEW_TEXTS = [
    # seed 001's own FAQ example (客户:反映无法使用移动电话…无法打出,接听是正常的)
    ("反映无法使用移动电话。无法打出,接听是正常的", "cannot_call_out"),
    ("我无法打出，接听是正常的", "cannot_call_out"),
    ("手机能接电话但是打不出去", "cannot_call_out"),
    ("交了费以后还是打不出去，别人打我能接", "cannot_call_out"),
    ("I can receive calls but cannot call out", "cannot_call_out"),
    ("我的号码停机才两个月就被提前放号给别人了", "early_number_release"),
    ("营业厅说过户必须本人到场,这个规定不合理", "basic_service_rules"),
    ("办个业务手续太多,跑了好几个营业厅说法不一样", "basic_service_process"),
    ("我们集团客户经理一直找不到人", "enterprise_customer_service"),
    ("单位统一办的集团活动承诺的优惠没兑现", "enterprise_marketing"),
    ("手机点了链接中毒了,卡被复制", "other_security"),
    ("没收到余额提醒就停机了", "charge_reminder_billing"),
    ("账单一直没收到", "charge_reminder_billing"),
    ("详单上有好多我没打过的号码", "cdr_dispute"),
]


@pytest.mark.parametrize(("text", "code"), NEW_TEXTS)
def test_new_sub_types_are_recognised(catalog: Catalog, text: str, code: str) -> None:
    # WHEN the text is classified / THEN the new phenomenon comes first
    suggestions = classify(text, catalog)
    assert suggestions and suggestions[0].phenomenon == code, suggestions


def test_a_coverage_complaint_that_cannot_call_is_still_coverage(catalog: Catalog) -> None:
    # GIVEN no signal at all (calls fail because there is no network, not because of a barring)
    suggestions = classify("小区地下车库完全没信号,电话根本打不出去", catalog)
    # THEN coverage stays first: "cannot call out" needs incoming calls to work
    assert suggestions[0].phenomenon == "voice_coverage"


@pytest.mark.parametrize(
    "text", ["未上网，却产生GPRS费", "未上网却产生GPRS费", "我没上网,却产生了GPRS费"]
)
def test_gprs_charged_without_use_ranks_first(catalog: Catalog, text: str) -> None:
    # GIVEN the seed's own title for the phenomenon (regression: it ranked the "with plan" one)
    suggestions = classify(text, catalog)
    # THEN "GPRS charged without use" is first
    assert suggestions[0].phenomenon == "gprs_charged_without_use", suggestions


def test_gprs_charged_despite_a_plan_still_ranks_first(catalog: Catalog) -> None:
    suggestions = classify("办了流量包还扣GPRS费", catalog)
    assert suggestions[0].phenomenon == "gprs_charged_with_plan"


def test_cannot_call_out_carries_seed_001s_dispatch_template(catalog: Catalog) -> None:
    # GIVEN seed 001's template 基本语音业务--网内无法接通--无法主叫
    p = catalog.phenomena["cannot_call_out"]
    # THEN its required fields are the template's ticket elements (手机号码 and 联系电话 are on
    # every ticket already): handset type, time, place with a landmark, announcement, call function
    assert [f.name for f in p.required_fields] == [
        "handsetModel",
        "occurredAt",
        "location",
        "announcement",
        "callFunction",
    ]
    assert "标志性建筑" in p.required_fields[2].prompt
    # AND its checks are the template's pre-processing steps, in order
    checks = " ".join(p.checks)
    for step in ("呼出限制", "终端、SIM卡", "线路2", "复机后无法主叫"):
        assert step in checks
    # AND it is dispatched to the network department (省网管中心) with a cause per check
    assert p.route == "network"
    assert {"outgoing_barred", "handset_or_sim", "line2_setting", "data_not_synced"} <= {
        c.code for c in p.causes
    }
    # AND the template's missing elements are reported in the order the desk asks them
    missing = missing_required_fields(p, {"handsetModel": "Nokia", "occurredAt": "2026-05-01"})
    assert [f.name for f in missing] == ["location", "announcement", "callFunction"]


# --- sources and standard solutions -------------------------------------------------------------

SEEDS = {"000_d5b96aa90228a18f.txt", "001_196433bf836cce64.txt"}


@pytest.mark.parametrize("code", sorted(get_catalog().phenomena))
def test_every_phenomenon_says_where_it_comes_from(catalog: Catalog, code: str) -> None:
    # GIVEN one phenomenon / THEN its source names who wrote the guide and the seed sections
    source = catalog.phenomena[code].source
    assert source.guide in {"seed", "partial", "project"}
    assert all(r.seed in SEEDS and r.section.strip() for r in source.refs)
    if source.guide != "project":
        assert source.refs
    # AND a standard solution always says who wrote it
    has_solution = catalog.phenomena[code].standard_solution is not None
    assert (source.standard_solution in {"seed", "project"}) == has_solution


def test_only_the_guides_the_seeds_contain_are_marked_as_seed(catalog: Catalog) -> None:
    # GIVEN DOMAIN.md §11: seed 000 has full guides only for coverage, roaming and call quality
    # (interconnection is cut off); seed 001 gives the cannot-call-out template
    by_guide: dict[str, set[str]] = {}
    for p in catalog.phenomena.values():
        by_guide.setdefault(p.source.guide, set()).add(p.code)
    assert by_guide["seed"] == {"voice_coverage", "roaming_failure", "call_quality"}
    assert by_guide["partial"] == {"interconnection", "cannot_call_out"}
    # AND every other guide is the project's own and says so
    assert len(by_guide["project"]) == len(catalog.phenomena) - 5


def test_the_phenomena_that_escalate_most_have_a_standard_solution(catalog: Catalog) -> None:
    with_solution = {p.code for p in catalog.phenomena.values() if p.standard_solution}
    assert len(with_solution) >= 15
    assert {
        "voice_coverage",
        "call_quality",
        "roaming_failure",
        "abnormal_domestic_calls",
        "cdr_dispute",
        "sp_unknowing_subscription",
        "sp_charged_without_service",
        "own_hall",
        "staff_attitude",
    } <= with_solution
    seed_written = {
        p.code for p in catalog.phenomena.values() if p.source.standard_solution == "seed"
    }
    assert seed_written == {"voice_coverage", "roaming_failure", "call_quality", "cannot_call_out"}


def test_get_catalog_shows_sources_and_the_intake_rule(catalog: Catalog) -> None:
    body = catalog.to_json()
    phenomena = {p["code"]: p for c in body["categories"] for p in c["phenomena"]}
    assert all("source" in p and p["source"]["guide"] for p in phenomena.values())
    coverage = phenomena["voice_coverage"]
    assert coverage["source"]["refs"][0] == {
        "seed": "000_d5b96aa90228a18f.txt",
        "section": "ch.5 pt.1 §1 话音基本业务网络覆盖",
    }
    assert coverage["source"]["standardSolution"] == "seed"
    assert coverage["answerAtIntake"] == {
        "when": {"frequency": ["occasional"]},
        "cause": "network_busy",
    }
    assert phenomena["sms_delay"]["answerAtIntake"] is None
