"""Issue 12 items 4-5 (cases): scrubbing personal data out of cases, search matching, and the
pure rules of seniors' ratings (who is blamed, what a mis-transfer is, the report's sums)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import lifecycle, ratings
from chalicelib.domain.errors import Conflict
from chalicelib.domain.library import (
    ADDRESS,
    NAME,
    NUMBER,
    Case,
    case_of_ticket,
    known_values,
    matches,
    scrub,
    terms,
)
from chalicelib.domain.tickets import Complainant, Ticket

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
DIGITS = re.compile(r"\d{7,}")


def _ticket(**changes: Any) -> Ticket:
    t = Ticket(
        id="T0001",
        version=3,
        kind="complaint",
        status="revisited",
        channel="hotline",
        complainant=Complainant(
            "王小明", "ordinary", "13800138000", "phone", "厦门市湖里区金山路8号"
        ),
        service_number="13912345678",
        description="王小明说家里信号差，回拨13800138000，地址厦门市湖里区金山路8号",
        created_at=NOW,
        updated_at=NOW,
        created_by="alice",
        category="basic_communication",
        phenomenon="voice_coverage",
        location={"area": "湖里区", "landmark": "金山小区3号楼"},
        resolution={
            "cause": "金山小区3号楼弱覆盖",
            "result": "已加站，王小明确认",
            "department": "n",
        },
        reply={"content": "小明您好，信号已恢复，如有问题拨打139-1234-5678", "method": "phone"},
    )
    return replace(t, **changes)


# -- scrubbing -------------------------------------------------------------------------------

HOSTILE = [
    "电话13800138000",
    "电话 138 0013 8000",
    "电话138-0013-8000",
    "电话+86 138 0013 8000",
    "电话0086-13800138000",
    "电话１３８００１３８０００",  # full-width
    "电话١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits
    "电话1\u200b3\u200b8\u200b0\u200b0\u200b1\u200b3\u200b8\u200b0\u200b0\u200b0",  # zero-width
    "电话一三八零零一三八零零零",  # Chinese numerals
    "电话幺三八〇〇幺三八〇〇〇",
    "电话138.0013.8000",
    "电话138/0013/8000",
    "电话(0592)1234567",
    "身份证350203199001011234",
    "身份证35020319900101123X",
    "身份证35020319900101123ｘ",
    "银行卡 6222 0212 3456 7890 123",
    "宽带账号 5920012345678",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_scrub_removes_every_spelling_of_a_number(text: str) -> None:
    out = scrub(text)
    assert out is not None and NUMBER in out
    digits = "".join(ch for ch in out if ch.isdigit() or ch in "零〇一幺三八")
    assert len(digits) < 7, out


def test_scrub_keeps_dates_amounts_and_short_numbers() -> None:
    text = "2026-11-29 收费 38.5 元，套餐 128 元，3 号楼，2026.1.5 再次，工单 5 次"
    assert scrub(text) == text


def test_scrub_removes_emails_and_how_agents_write_customers() -> None:
    out = scrub("客户邮箱 zhang.san@example.com，王先生反映，李女士补充，这位先生")
    assert out == "客户邮箱 [邮箱]，[客户]反映，[客户]补充，这位先生"
    assert scrub("mail me: a.b+c @ mail . example . cn") == "mail me: [邮箱]"


def test_scrub_removes_the_tickets_own_values_wherever_they_appear() -> None:
    t = _ticket()
    known = known_values(t)
    out = scrub("王小明在金山小区3号楼，住厦门市湖里区金山路8号，小明说", known)
    assert out == f"{NAME}在{ADDRESS}，住{ADDRESS}，{NAME}说"


def test_a_one_character_value_is_not_removed_from_every_word() -> None:
    assert scrub("信号不好，王先生", [("信", NAME)]) == "信号不好，[客户]"


@given(st.text(alphabet="0123456789 -.()/\u200b１２３٣零一二三幺xX号", max_size=60))
def test_scrub_never_leaves_seven_digits_in_a_row(text: str) -> None:
    out = scrub(f"号码{text}号码") or ""
    assert not DIGITS.search(out), out


def test_a_case_of_an_archived_ticket_holds_no_personal_data() -> None:
    t = _ticket()
    case = case_of_ticket(t, "典型弱覆盖，王小明家附近需加站", "C1", "mgr", NOW)
    assert case is not None
    text = " ".join(str(v) for v in case.to_api().values())
    for secret in (
        "王小明",
        "小明",
        "13800138000",
        "13912345678",
        "1234-5678",
        "金山路8号",
        "金山小区",
    ):
        assert secret not in text, secret
    assert case.solution == f"已加站，{NAME}确认"
    assert case.cause == f"{ADDRESS}弱覆盖"
    assert case.phenomenon == "voice_coverage" and case.source_ticket_id == "T0001"
    assert case.title.startswith(f"{NAME}说家里信号差")


def test_a_ticket_without_a_phenomenon_makes_no_case() -> None:
    assert case_of_ticket(_ticket(phenomenon=None), "x", "C1", "mgr", NOW) is None


# -- search matching ---------------------------------------------------------------------------


def _case(**changes: Any) -> Case:
    c = Case(
        id="C1",
        phenomenon="voice_coverage",
        category="basic_communication",
        title="地下车库信号很差",
        solution="新增室分系统，开启VoWiFi",
        created_by="s",
        created_at=NOW,
        analysis="先查室分覆盖",
    )
    return replace(c, **changes)


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("", True),
        ("车库", True),
        ("vowifi", True),  # case-insensitive
        ("ＶｏＷｉＦｉ", True),  # full-width folded
        ("车库 室分", True),  # every word
        ("车库 退费", False),
        ("信号差", True),  # Chinese by its characters: 信号 and 号差 → half of the pairs
        ("漫游", False),
        ("覆盖规划", False),  # 覆盖 only: 1 pair of 3
        ("地下车库没信号", True),  # 4 of its 6 pairs
        ("地下室漏水", False),  # 1 of 4
    ],
)
def test_matches_words_and_characters_in_title_solution_analysis(q: str, found: bool) -> None:
    assert matches(_case(), terms(q)) is found


def test_cause_and_script_are_not_searched() -> None:
    assert not matches(_case(cause="退费", script="退费"), terms("退费"))


# -- ratings ---------------------------------------------------------------------------------


def _m(kind: str, of: str, note: str | None = None) -> Any:
    return SimpleNamespace(kind=kind, of=of, note=note)


def test_blame_takes_the_agent_from_the_ticket_never_from_the_client() -> None:
    blames = lifecycle.blame(
        [_m("wrong_category", "intake"), _m("wrong_department", "dispatch", "应派计费")],
        intake_agent="alice",
        dispatcher="bob",
        reviewer="senior",
    )
    assert [(b.agent, b.kind, b.of) for b in blames] == [
        ("alice", "wrong_category", "intake"),
        ("bob", "wrong_department", "dispatch"),
    ]
    assert blames[1].to_api()["note"] == "应派计费"


def test_blame_refuses_a_stage_nobody_did_and_the_reviewers_own_work() -> None:
    with pytest.raises(Conflict) as no_one:
        lifecycle.blame([_m("wrong_department", "dispatch")], "alice", None, "senior")
    assert no_one.value.code == "nothing_to_rate"
    assert no_one.value.errors[0].field == "mistakes[0].of"
    with pytest.raises(Conflict) as own:
        lifecycle.blame([_m("x", "intake"), _m("wrong_category", "intake")], "a", None, "a")
    assert own.value.code == "own_work"


def test_a_kind_counts_once_per_stage_and_review() -> None:
    blames = lifecycle.blame([_m("wrong_category", "intake")] * 3, "alice", None, "s")
    assert len(blames) == 1


def test_a_mistransfer_is_a_handoff_by_the_department_the_dispatch_named() -> None:
    t = _ticket(dispatched_by="bob", dispatched_to="network", department="network")
    assert ratings.mistransferred("return", t) == "bob"
    assert ratings.mistransferred("transfer", t) == "bob"
    assert ratings.mistransferred("resolve", t) is None
    moved = replace(t, department="billing_support")  # transferred once already
    assert ratings.mistransferred("transfer", moved) is None
    assert ratings.mistransferred("return", replace(t, dispatched_to=None)) is None
    assert ratings.mistransferred("return", replace(t, dispatched_by=None)) is None


def test_dispatch_memory_starts_at_dispatch_and_ends_when_kept_or_handed_off() -> None:
    t = _ticket(department="network")
    assert ratings.dispatch_memory("dispatch", t) == {"dispatched_to": "network"}
    for action in ("return", "transfer", "resolve"):
        assert ratings.dispatch_memory(action, t) == {"dispatched_to": None}
    assert ratings.dispatch_memory("note", t) == {}


def test_increments_group_by_agent_one_item_each() -> None:
    blames = [
        ratings.Blame("alice", "wrong_category", "intake"),
        ratings.Blame("alice", "missing_information", "intake"),
        ratings.Blame("bob", "wrong_department", "dispatch"),
    ]
    assert ratings.increments(blames, "bob") == {
        "alice": {"m_intake_wrong_category": 1, "m_intake_missing_information": 1},
        "bob": {"m_dispatch_wrong_department": 1, "misTransfers": 1},
    }


def test_months_and_local_days() -> None:
    assert ratings.months(date(2026, 11, 20), date(2027, 2, 1)) == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    assert ratings.local_day(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == "2026-12-01"


def test_report_sums_counters_per_agent() -> None:
    rows = [
        {"agent": "bob", "m_dispatch_wrong_department": 2, "misTransfers": 1},
        {"agent": "alice", "m_intake_wrong_category": 1, "m_dispatch_wrong_category": 1},
        {"agent": "bob", "misTransfers": 3},
    ]
    out = ratings.report(rows)
    assert [r["agent"] for r in out] == ["alice", "bob"]
    assert out[0]["mistakes"] == {
        "wrong_category": 2,
        "missing_information": 0,
        "wrong_department": 0,
        "total": 2,
    }
    assert out[0]["mistakesBy"] == {"intake": 1, "dispatch": 1}
    assert out[1]["misTransfers"] == 4 and out[1]["mistakes"]["total"] == 2
    assert ratings.report([]) == []
