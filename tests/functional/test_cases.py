"""Issue 12 item 4 (cases): the case library through the API, on moto with the lifecycle really
executed — archiving with `addToCaseLibrary`, searching, the knowledge base (POST /cases) and the
top cases offered at dispatch; personal data never reaches a case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.api import views
from tests.functional.conftest import Api, fresh_number
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

SECRETS = ("13800138000", "0013", "张三", "中山路步行街", "350203199001011234", "zhangsan@")


def _archived_with_case(api: Api) -> tuple[str, dict[str, Any]]:
    """A ticket taken through to `archive` with hostile personal data in every free text."""
    number = fresh_number()
    ticket = api.create(
        role="senior_agent",
        phenomenon="voice_coverage",
        fields=FIELDS,
        serviceNumber=number,
        description=f"张三（{number}）家在中山路步行街，信号只有一两格，打13800138000回拨",
    )
    tid = ticket["id"]
    _waiting(api, tid, "dispatch")
    _act(api, tid, "dispatch", "senior_agent", {"department": "network", "note": "弱覆盖"})
    _waiting(api, tid, "accept")
    _act(
        api,
        tid,
        "resolve",
        "department",
        {
            "cause": "weak_coverage",  # a cause of the phenomenon (resolve checks it)
            "result": "中山路步行街基站天线下倾角过大，调整天线后张三确认恢复，身份证350203199001011234已核实，"
            "回访电话 138 0013 8000，邮箱 zhangsan@example.com",
        },
        department="network",
    )
    _waiting(api, tid, "reply")
    _act(
        api,
        tid,
        "reply",
        "agent",
        {"content": "张三您好，信号已恢复。如再有问题请拨１３８００１３８０００", "method": "sms"},
    )
    _waiting(api, tid, "revisit")
    _act(api, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    _waiting(api, tid, "archive")
    done = _act(
        api,
        tid,
        "archive",
        "complaint_manager",
        {
            "analysis": "典型弱覆盖：张三 一三八零零一三八零零零 反映，先查天线",
            "addToCaseLibrary": True,
        },
    )
    assert done["status"] == "archived"
    history = api.call("GET", f"/tickets/{tid}/history", "complaint_manager")[1]["items"]
    archive = next(e for e in history if e["action"] == "archive")
    return tid, archive


def test_archiving_into_the_library_stores_a_scrubbed_case_any_role_reads(api: Api, aws) -> None:
    # GIVEN a ticket archived with addToCaseLibrary
    tid, archive = _archived_with_case(api)
    case_id = archive["details"]["caseId"]
    assert archive["details"]["caseLibrary"] is True
    # WHEN anyone signed in reads the case
    for role, dept in (("agent", None), ("department", "billing_support"), ("auditor", None)):
        status, case, _ = api.call("GET", f"/cases/{case_id}", role, department=dept)
        assert status == 200, case
    # THEN it is the ticket's phenomenon, cause, solution, script and analysis
    views.CaseView.model_validate(case)  # as documented, nothing undeclared
    assert case["phenomenon"] == "voice_coverage" and case["category"] == "basic_communication"
    assert case["sourceTicketId"] == tid and case["source"] == "archive"
    assert case["createdBy"] and case["createdAt"]
    assert case["cause"] == "weak_coverage" and "调整天线" in case["solution"]
    assert "信号已恢复" in case["script"] and "先查天线" in case["analysis"]
    # AND no number, name, address or e-mail of the customer is left anywhere in it
    text = json.dumps(case, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, secret
    assert "[号码]" in case["solution"] and "[姓名]" in case["script"]
    assert "[地址]" in case["solution"] and "[邮箱]" in case["solution"]
    # AND a search by its phenomenon finds it
    status, page, _ = api.call("GET", "/cases?phenomenon=voice_coverage", "agent")
    assert status == 200 and [c["id"] for c in page["items"]] == [case_id]
    views.CasePage.model_validate(page)


def test_an_unknown_case_is_404_and_a_hostile_id_too(api: Api, aws) -> None:
    for path in ("/cases/C0000000000000000000000000", "/cases/%E2%80%AEx", "/cases/a'b"):
        status, problem, _ = api.call("GET", path, "agent")
        assert status == 404, (path, problem)


def _add(api: Api, role: str = "senior_agent", **body: Any) -> tuple[int, Any]:
    payload = {"phenomenon": "voice_coverage", "title": "车库无信号", "solution": "新增室分"}
    payload.update(body)
    status, out, headers = api.call("POST", "/cases", role, payload)
    if status == 201:
        assert headers["Location"] == f"/cases/{out['id']}"
    return status, out


def test_post_cases_is_for_seniors_and_managers_only(api: Api, aws) -> None:
    for role in ("agent", "department", "complaint_admin", "leader", "operator", "auditor"):
        status, problem = _add(api, role)
        assert status == 403, (role, problem)
    for role in ("senior_agent", "complaint_manager"):
        status, case = _add(api, role)
        assert status == 201 and case["source"] == "knowledge_base", case
    # AND each add is in the audit log
    status, audit, _ = api.call("GET", "/audit?actor=complaint_manager", "auditor")
    assert status == 200, audit
    assert "add_case" in [e["action"] for e in audit["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phenomenon": "no_such_thing"}, "phenomenon"),
        ({"title": ""}, "title"),
        ({"title": "a\u0000b"}, "title"),
        ({"solution": "x" * 4001}, "solution"),
        ({"solution": 42}, "solution"),
        ({"cause": ["list"]}, "cause"),
        ({"ticketId": "../../etc"}, "ticketId"),
        ({"createdBy": "someone_else"}, "createdBy"),
        ({"sourceTicketId": "T1"}, "sourceTicketId"),
    ],
)
def test_post_cases_refuses_hostile_bodies_naming_the_field(
    api: Api, aws, body: dict[str, Any], field: str
) -> None:
    status, problem = _add(api, **body)
    assert status == 400, problem
    assert problem["code"] == "validation"
    assert field in [e["field"] for e in problem["errors"]], problem


def test_post_cases_refuses_what_is_not_a_json_object(api: Api, aws) -> None:
    for raw in ("[]", '"text"', "{", "null"):
        status, problem, _ = api.call("POST", "/cases", "senior_agent", raw)
        assert status == 400, (raw, problem)


def test_a_posted_case_is_scrubbed_and_its_ticket_must_exist(api: Api, aws) -> None:
    ticket = api.create(phenomenon="voice_coverage", fields=FIELDS, serviceNumber=fresh_number())
    status, case = _add(
        api,
        ticketId=ticket["id"],
        title="张三 家中山路步行街无信号",
        solution="回拨 +86 138-0013-8000 确认",
        analysis="张三 的号码 13800138000",
    )
    assert status == 201, case
    text = json.dumps(case, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text, secret
    assert case["sourceTicketId"] == ticket["id"]
    status, problem = _add(api, ticketId="T0000000000000000000000000")
    assert status == 404, problem


def test_search_by_phenomenon_and_words_with_a_cursor(api: Api, aws) -> None:
    for title, solution in (
        ("地下车库信号很差", "新增室分系统"),
        ("高层住宅信号差", "调整天线下倾角"),
        ("地铁站通话断续", "扩容基站"),
    ):
        assert _add(api, title=title, solution=solution)[0] == 201
    assert _add(api, phenomenon="spam_messages", title="垃圾短信", solution="拦截")[0] == 201

    def search(query: str, role: str = "agent") -> dict[str, Any]:
        status, page, _ = api.call("GET", f"/cases?{query}", role)
        assert status == 200, page
        return page  # type: ignore[no-any-return]

    # by phenomenon: newest first, its own cases only
    titles = [c["title"] for c in search("phenomenon=voice_coverage")["items"]]
    assert titles == ["地铁站通话断续", "高层住宅信号差", "地下车库信号很差"]
    # with words: every word, Chinese by its characters
    got = search("phenomenon=voice_coverage&q=%E4%BF%A1%E5%8F%B7%E5%B7%AE")["items"]  # 信号差
    assert [c["title"] for c in got] == ["高层住宅信号差", "地下车库信号很差"]
    got = search("phenomenon=voice_coverage&q=%E5%A4%A9%E7%BA%BF")["items"]  # 天线
    assert [c["title"] for c in got] == ["高层住宅信号差"]
    # a page at a time
    first = search("phenomenon=voice_coverage&limit=2")
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = search(f"phenomenon=voice_coverage&limit=2&cursor={first['nextCursor']}")
    assert [c["title"] for c in second["items"]] == ["地下车库信号很差"]
    # a cursor of one search is refused by another (400 naming cursor), a forged one too
    status, problem, _ = api.call(
        "GET", f"/cases?phenomenon=spam_messages&cursor={first['nextCursor']}", "agent"
    )
    assert status == 400 and problem["errors"][0]["field"] == "cursor"
    status, problem, _ = api.call("GET", "/cases?phenomenon=voice_coverage&cursor=a.b", "agent")
    assert status == 400 and problem["errors"][0]["field"] == "cursor"
    # q without a phenomenon: the classifier's top phenomena are searched
    page = search("q=%E4%BF%A1%E5%8F%B7%E4%B8%8D%E5%A5%BD%20%E5%A4%A9%E7%BA%BF")  # 信号不好 天线
    assert "voice_coverage" in page["phenomena"]
    page = search("q=%E5%9E%83%E5%9C%BE%E7%9F%AD%E4%BF%A1")  # 垃圾短信
    assert page["phenomena"][0] == "spam_messages"
    assert [c["title"] for c in page["items"]] == ["垃圾短信"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "phenomenon"),
        ("phenomenon=nope", "phenomenon"),
        ("phenomenon=voice_coverage&limit=0", "limit"),
        ("q=%00", "q"),
        ("q=" + "x" * 201, "q"),
        ("phenomenon=voice_coverage&extra=1", "extra"),
    ],
)
def test_a_bad_search_is_a_400_naming_the_field(api: Api, aws, query: str, field: str) -> None:
    status, problem, _ = api.call("GET", f"/cases?{query}", "agent")
    assert status == 400, problem
    assert field in [e["field"] for e in problem["errors"]], problem


def test_the_dispatch_desk_is_offered_the_top_cases_of_the_tickets_phenomenon(
    api: Api, aws
) -> None:
    for i in range(4):
        assert _add(api, title=f"案例{i}", solution="处理")[0] == 201
    assert _add(api, phenomenon="spam_messages", title="垃圾短信", solution="拦截")[0] == 201
    ticket = api.create(phenomenon="voice_coverage", fields=FIELDS, serviceNumber=fresh_number())
    tid = ticket["id"]
    status, top, _ = api.call("GET", f"/tickets/{tid}/cases", "senior_agent")
    assert status == 200, top
    views.TicketCases.model_validate(top)
    assert top["ticketId"] == tid and top["phenomenon"] == "voice_coverage"
    assert [c["title"] for c in top["items"]] == ["案例3", "案例2", "案例1"]
    # GET /tickets/{id} itself carries no cases (it costs what it did)
    assert "cases" not in api.call("GET", f"/tickets/{tid}", "senior_agent")[1]
    # out of scope: a department user who never held the ticket gets 404, like a missing one
    status, problem, _ = api.call(
        "GET", f"/tickets/{tid}/cases", "department", department="billing_support"
    )
    assert status == 404, problem
    status, problem, _ = api.call("GET", "/tickets/T0000000000000000000000000/cases", "agent")
    assert status == 404, problem
