"""Complaint text → ranked phenomena, and the checks on a phenomenon's required fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.catalog import Catalog, get_catalog
from chalicelib.domain import classify as classifier
from chalicelib.domain.classify import (
    Model,
    Suggestion,
    classify,
    explain_empty,
    features,
    missing_required_fields,
    validate_field_values,
)
from chalicelib.domain.hanzi import to_simplified

DATA = Path(__file__).resolve().parent.parent / "data"
EVAL_SET = DATA / "classifier_eval.jsonl"
REALISTIC_SET = DATA / "classifier" / "eval_realistic.jsonl"
ROOT = DATA.parent.parent
# What the model achieves on the realistic set (89.9 % / 96.2 %, bench/classifier_accuracy.py),
# minus a margin; the target (90 % / 97 %) is not quite met (README, decision 0021).
REALISTIC_FLOOR = (0.88, 0.95)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


@pytest.mark.parametrize(
    ("text", "phenomenon"),
    [
        ("我家楼下信号特别差,只有一两格,打电话老是断", "voice_coverage"),
        ("在外地出差的时候电话打不出去", "roaming_failure"),
        ("通话有很大的回音和杂音", "call_quality"),
        ("短信发不出去,提示发送失败", "sms_send_receive_failure"),
        ("每天收到很多垃圾短信", "spam_messages"),
        ("充值卡充值不成功,提示密码错误", "topup_voucher_failure"),
        ("我从来不上网,为什么有流量费", "gprs_charged_without_use"),
        ("没开过彩铃却每个月扣彩铃费", "ringback_unconsented"),
        ("营业员态度很差,还挂我电话", "staff_attitude"),
        ("12580订的酒店没有预订记录", "service_12580_quality"),
    ],
)
def test_simplified_chinese_ranks_the_right_phenomenon_first(
    catalog: Catalog, text: str, phenomenon: str
) -> None:
    # GIVEN a customer's description in simplified Chinese
    # WHEN it is classified
    suggestions = classify(text, catalog)
    # THEN the right phenomenon comes first, with its category
    assert suggestions[0].phenomenon == phenomenon
    assert suggestions[0].category == catalog.phenomena[phenomenon].category


@pytest.mark.parametrize(
    ("text", "phenomenon"),
    [
        ("我家裡手機訊號很差,一直斷線", "voice_coverage"),
        ("簡訊發不出去", "sms_send_receive_failure"),
        ("帳單上有上網費,我根本沒有上網", "gprs_charged_without_use"),
        ("一直收到垃圾簡訊", "spam_messages"),
        ("我嘅手機喺屋企冇訊號", "voice_coverage"),
    ],
)
def test_traditional_chinese_is_folded_before_matching(
    catalog: Catalog, text: str, phenomenon: str
) -> None:
    # GIVEN a description in traditional Chinese (Taiwan or Hong Kong wording)
    # WHEN it is classified / THEN it ranks like its simplified equivalent
    assert classify(text, catalog)[0].phenomenon == phenomenon


@pytest.mark.parametrize(
    ("text", "phenomenon"),
    [
        ("No signal at all in my flat, the phone says no service", "voice_coverage"),
        ("I keep getting spam text messages", "spam_messages"),
        ("The staff were rude to me at the store", "staff_attitude"),
        ("I was charged for data but I never use the internet", "gprs_charged_without_use"),
        ("Harassing calls every night", "harassing_calls"),
    ],
)
def test_english_descriptions_are_classified(catalog: Catalog, text: str, phenomenon: str) -> None:
    # GIVEN an English description / WHEN classified / THEN the right phenomenon is first
    assert classify(text, catalog)[0].phenomenon == phenomenon


def test_a_text_with_two_symptoms_offers_both_first(catalog: Catalog) -> None:
    # GIVEN a customer who names both a coverage and a call-quality symptom
    suggestions = classify("No signal at home, calls keep dropping", catalog)
    # THEN both are the first two suggestions, and the desk asks which it is
    assert {s.phenomenon for s in suggestions[:2]} == {"voice_coverage", "call_quality"}


def test_character_folding_covers_the_common_words() -> None:
    # GIVEN traditional and regional words / WHEN folded / THEN they read as the catalog's
    assert (
        to_simplified("訊號 話費 簡訊 帳單 網路 儲值卡 來電答鈴")
        == "信号 话费 短信 账单 网络 充值卡 彩铃"
    )


def test_suggestions_are_ranked_scored_and_limited(catalog: Catalog) -> None:
    # GIVEN a description that touches several phenomena
    text = "短信发不出去,还收到很多垃圾短信,话费也扣多了"
    # WHEN classified with a limit
    suggestions = classify(text, catalog, limit=3)
    # THEN at most 3 come back, best first, each scored in 0..1
    assert 1 <= len(suggestions) <= 3
    scores = [s.score for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert all(isinstance(s, Suggestion) for s in suggestions)


@pytest.mark.parametrize(
    "text", ["", "   ", "asdf qwer zxcv", "今天天气很好,我想吃饭", "你好", "hello world", "???"]
)
def test_gibberish_and_small_talk_get_no_suggestions(catalog: Catalog, text: str) -> None:
    # GIVEN text that describes no complaint / WHEN classified / THEN nothing is suggested
    assert classify(text, catalog) == []


def test_a_named_category_alone_is_suggested_without_a_phenomenon(catalog: Catalog) -> None:
    # GIVEN a description that names only a category
    suggestions = classify("关于集团业务的问题", catalog)
    # THEN that category is suggested, with no phenomenon
    assert Suggestion("enterprise_services", None, suggestions[0].score) in suggestions


def test_eval_set_accuracy_floor(catalog: Catalog) -> None:
    # GIVEN the labelled evaluation set (customers' own words, zh-Hans, zh-Hant, English)
    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 80
    # WHEN each text is classified
    top1 = top3 = 0
    for row in rows:
        ranked = [s.phenomenon for s in classify(row["text"], catalog, limit=3)]
        top1 += ranked[:1] == [row["phenomenon"]]
        top3 += row["phenomenon"] in ranked
    # THEN the right phenomenon is first for ≥85% and in the top three for ≥95%
    # (the keyword classifier's floor: the trained model must not fall below it)
    assert top1 / len(rows) >= 0.85
    assert top3 / len(rows) >= 0.95


def test_eval_set_labels_exist_in_the_catalog(catalog: Catalog) -> None:
    # GIVEN the evaluation set / THEN every label is a real category and phenomenon pair
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert catalog.phenomena[row["phenomenon"]].category == row["category"]


# --- required fields ----------------------------------------------------------------------------


def test_missing_required_fields_lists_absent_and_blank_ones(catalog: Catalog) -> None:
    # GIVEN the voice coverage guide and an intake with a blank and a missing field
    p = catalog.phenomena["voice_coverage"]
    fields = {"location": "软件园二期观日路", "occurredAt": "  ", "frequency": "frequent"}
    # WHEN the missing fields are computed
    missing = [f.name for f in missing_required_fields(p, fields)]
    # THEN blanks count as missing, in the order the desk asks them
    assert missing == ["occurredAt", "othersAffected", "handsetModel"]


def test_missing_required_fields_with_nothing_given(catalog: Catalog) -> None:
    # GIVEN no fields at all / THEN every required field is missing
    p = catalog.phenomena["sms_delay"]
    assert missing_required_fields(p, None) == list(p.required_fields)


def test_false_and_zero_are_answers_not_blanks(catalog: Catalog) -> None:
    # GIVEN a boolean answered "no" / THEN it is not reported missing
    p = catalog.phenomena["voice_coverage"]
    assert "othersAffected" not in [
        f.name for f in missing_required_fields(p, {"othersAffected": False})
    ]


def test_validate_field_values_accepts_well_formed_values(catalog: Catalog) -> None:
    # GIVEN well-formed values for every type used by the roaming guide
    p = catalog.phenomena["roaming_failure"]
    fields = {
        "roamingCity": "北京",
        "callDirection": "both",
        "occurredAt": "2024-05-01T09:30:00+08:00",
        "announcement": "您拨打的用户暂时无法接通",
        "handsetModel": "华为 Mate 60",
    }
    # WHEN validated / THEN nothing is wrong
    assert validate_field_values(p, fields) == []


def test_validate_field_values_reports_each_wrong_value(catalog: Catalog) -> None:
    # GIVEN wrong values: a bad phone, a bad date-time, a bad enum, a bad number
    interconnection = catalog.phenomena["interconnection"]
    bad = {"otherPartyNumber": "555", "occurredAt": "yesterday", "callDirection": "sideways"}
    charges = catalog.phenomena["sms_charges"]
    # WHEN validated
    problems = dict(validate_field_values(interconnection, bad))
    charge_problems = dict(validate_field_values(charges, {"disputedAmount": "lots"}))
    # THEN each wrong field is named with a message
    assert set(problems) == {"otherPartyNumber", "occurredAt", "callDirection"}
    assert "outgoing" in problems["callDirection"]
    assert set(charge_problems) == {"disputedAmount"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13800138000", True),
        ("+86 138 0013 8000", True),
        ("0592-5201234", True),
        ("10086", True),
        ("1380013800", False),
        ("phone", False),
        (True, False),
    ],
)
def test_phone_numbers(catalog: Catalog, value: object, ok: bool) -> None:
    # GIVEN a phone-typed field / WHEN validated / THEN mobile, landline and service numbers pass
    p = catalog.phenomena["interconnection"]
    assert (validate_field_values(p, {"otherPartyNumber": value}) == []) is ok


def test_blank_values_are_left_to_missing_required_fields(catalog: Catalog) -> None:
    # GIVEN blank or unknown fields / THEN validation does not report them
    p = catalog.phenomena["interconnection"]
    assert validate_field_values(p, {"otherPartyNumber": "", "somethingElse": 1}) == []


# --- the trained model (decision 0021) -------------------------------------------------------


def _accuracy(rows: list[dict[str, str]], catalog: Catalog) -> tuple[float, float]:
    top1 = top3 = 0
    for row in rows:
        ranked = [s.phenomenon for s in classify(row["text"], catalog, limit=3)]
        top1 += ranked[:1] == [row["phenomenon"]]
        top3 += row["phenomenon"] in ranked
    return top1 / len(rows), top3 / len(rows)


def test_realistic_eval_set_accuracy_floor(catalog: Catalog) -> None:
    # GIVEN texts written apart from the training corpus, by another writer, before any tuning
    rows = [json.loads(line) for line in REALISTIC_SET.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500
    assert {r["lang"] for r in rows} == {"zh-Hans", "zh-Hant", "en"}
    # WHEN each is classified / THEN the right phenomenon is first and in the top three at least
    # as often as the committed model achieves, less a margin
    top1, top3 = _accuracy(rows, catalog)
    assert top1 >= REALISTIC_FLOOR[0], top1
    assert top3 >= REALISTIC_FLOOR[1], top3


def test_every_phenomenon_is_learned_and_evaluated(catalog: Catalog) -> None:
    # GIVEN the model, the corpus and the realistic set / THEN each knows every phenomenon
    corpus = {
        json.loads(line)["phenomenon"]
        for path in (DATA / "classifier" / "train").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    evaluated = {
        json.loads(line)["phenomenon"]
        for line in REALISTIC_SET.read_text(encoding="utf-8").splitlines()
    }
    assert set(catalog.phenomena) <= set(classifier.model().classes)
    assert set(catalog.phenomena) <= corpus
    assert set(catalog.phenomena) <= evaluated


def test_the_model_matches_the_corpus_it_ships_with() -> None:
    # GIVEN the committed model / WHEN the corpus or the catalog's keywords changed since
    # THEN this fails: run `make train-classifier`
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.train_classifier import corpus_hash

    assert classifier.model().meta["corpusSha256"] == corpus_hash()


def test_the_model_loads_lazily_and_once() -> None:
    # GIVEN a fresh interpreter that imports the app and the classifier
    code = (
        "import app; from chalicelib.domain import classify as c; "
        "assert c._MODEL is None, 'loaded at import'; "
        "from chalicelib.catalog import get_catalog; c.classify('信号不好', get_catalog()); "
        "m = c._MODEL; c.classify('no signal', get_catalog()); assert c._MODEL is m; print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    # THEN nothing is read at import, and the first classification loads it for good
    assert out.stdout.strip() == "ok", out.stderr


def test_a_model_trained_with_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="retrain"):
        Model({"featuresVersion": -1, "classes": [], "bias": [], "weights": {}})


def test_features_fold_scripts_and_numbers() -> None:
    # GIVEN the same complaint in traditional and simplified characters, with phone numbers
    # THEN the features are the same, and a long number is one token
    assert features("簡訊發不出去 13800138000") == features("短信发不出去 13912345678")
    assert "#0" in features("call 13800138000")
    assert "#charg" in features("I was charged")


@pytest.mark.parametrize(
    ("text", "phenomenon"),
    [
        # the misses the keyword classifier made on customers' own words (issue 13)
        ("信号满格，但是打电话老是掉线，对方听不到我说话", "call_quality"),
        ("my texts don't go through, they just fail to send", "sms_send_receive_failure"),
        (
            "我儿子拿我手机点了一个网页，结果开通了好几个包月业务，每个月扣钱",
            "sp_unknowing_subscription",
        ),
        ("我喺深圳屋企，部手機成日跳咗去香港網絡，收咗好多漫遊費", "border_roaming_charges"),
    ],
)
def test_the_keyword_classifiers_typical_misses(
    catalog: Catalog, text: str, phenomenon: str
) -> None:
    assert phenomenon in [s.phenomenon for s in classify(text, catalog, limit=3)]
    assert classify(text, catalog)[0].phenomenon == phenomenon


def test_confidence_bands() -> None:
    assert Suggestion("x", "y", 0.9).confidence == "high"
    assert Suggestion("x", "y", 0.45).confidence == "medium"
    assert Suggestion("x", "y", 0.1).confidence == "low"


def test_a_vague_text_is_low_or_medium_confidence(catalog: Catalog) -> None:
    # GIVEN a text that could be many things / THEN the top suggestion does not claim "high"
    suggestions = classify("我的手机有问题", catalog)
    assert suggestions and suggestions[0].confidence in {"low", "medium"}
    # AND a clear one does
    assert classify("每天收到很多垃圾短信，推销贷款的", catalog)[0].confidence == "high"


def test_an_empty_answer_is_explained() -> None:
    assert "empty" in explain_empty("  ")
    assert "known" in explain_empty("zzqx qqzx")
    assert "no complaint" in explain_empty("今天天气很好,我想吃饭")
