"""Fault and planned-work bulletins (issue 11), through the API on moto with real executions:
publishing (roles, scope, hostile input, the intake desks' notice and its outbox), amending with
history and optimistic versions, listing, and intake answering matching complaints from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain.bulletins import Bulletin, digest
from chalicelib.domain.values import parse_storage_time
from tests.functional.conftest import Api, fresh_number, wait_until
from tests.functional.inboxes import drain
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

AREA = "思明区"
SCRIPT = "您好，思明区部分基站正在抢修，预计今天18点前恢复，给您带来不便敬请谅解。"


def _at(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def bulletin_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "fault",
        "title": "思明区部分基站故障",
        "areas": [AREA],
        "services": ["语音"],
        "phenomena": ["voice_coverage"],
        "startsAt": _at(timedelta(minutes=-10)),
        "endsAt": _at(timedelta(hours=6)),
        "script": SCRIPT,
        "contact": "网管中心值班室 0592-5550000",
    }
    body.update(overrides)
    return body


def publish(api: Api, role: str = "department", department: str = "network", **over: Any) -> Any:
    status, body, headers = api.call("POST", "/bulletins", role, bulletin_body(**over), department)
    assert status == 201, body
    assert headers["Location"] == f"/bulletins/{body['id']}"
    return body


def complaint(api: Api, **overrides: Any) -> dict[str, Any]:
    """An independent complaint (a customer of its own) about coverage in AREA."""
    fields = {"serviceNumber": fresh_number(), "phenomenon": "voice_coverage", "fields": FIELDS}
    fields.update(overrides)
    return api.create(role="senior_agent", **fields)


@pytest.fixture
def cache_clock() -> Any:
    """The intake cache's clock (monotonic seconds), moved by the test: never a 60 s sleep."""
    from chalicelib.services.context import deps

    cache = deps().active_bulletins
    now = [1000.0]
    real = cache.clock
    cache.clock = lambda: now[0]
    yield now
    cache.clock = real


@pytest.fixture
def clock() -> Any:
    """Move the app's clock ('now' of intake and of the bulletins' windows)."""
    from chalicelib.services.context import deps

    d = deps()
    real = d.clock
    offset = [timedelta()]
    d.clock = lambda: real() + offset[0]
    yield offset
    d.clock = real


# -- publishing ------------------------------------------------------------------------------


def test_a_department_publishes_and_every_intake_desk_is_told_without_personal_data(
    api: Api, aws: Any
) -> None:
    b = publish(api)
    assert b["status"] == "active" and b["department"] == "network" and b["version"] == 1
    assert [h["action"] for h in b["history"]] == ["publish"]
    notices = drain(aws, "IntakeInbox")
    assert len(notices) == 1
    notice = notices[0]
    assert notice["eventType"] == "bulletin" and notice["bulletinId"] == b["id"]
    assert notice["department"] == "intake" and notice["script"] == SCRIPT
    assert notice["_attributes"]["department"] == "intake"
    assert notice["_attributes"]["eventType"] == "bulletin"
    text = json.dumps(notice, ensure_ascii=False)
    assert "contact" not in notice and "0592" not in text and "createdBy" not in notice
    assert drain(aws, "NetworkInbox") == []  # addressed to the intake desks only
    # any signed-in role reads it
    for role in ("agent", "auditor", "leader"):
        status, got, headers = api.call("GET", f"/bulletins/{b['id']}", role)
        assert status == 200 and got["id"] == b["id"] and headers["ETag"] == '"1"'


def test_a_failed_publish_keeps_the_bulletin_and_the_sweep_delivers_the_notice(
    api: Api, aws: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    def broken(*args: Any) -> None:
        raise RuntimeError("SNS is down")

    monkeypatch.setattr(deps().notifier, "department", broken)
    b = publish(api)
    monkeypatch.undo()
    assert drain(aws, "IntakeInbox") == []
    assert deps().bulletins.get(b["id"]).notice == "pending"  # type: ignore[union-attr]
    assert bulletins.deliver_pending(deps()) == 0  # left to its request a moment longer
    clock[0] = timedelta(minutes=1)
    # the scheduled sweep delivers it
    event = api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    assert api.client.lambda_.invoke("sweep", event).payload["bulletin_notices"] == 1
    assert [n["bulletinId"] for n in drain(aws, "IntakeInbox")] == [b["id"]]
    assert deps().bulletins.get(b["id"]).notice is None  # type: ignore[union-attr]
    assert bulletins.deliver_pending(deps()) == 0  # once


def test_roles_and_department_scope(api: Api) -> None:
    for role in ("agent", "senior_agent", "complaint_admin", "leader", "auditor", "operator"):
        status, _, _ = api.call("POST", "/bulletins", role, bulletin_body(), "network")
        assert status == 403, role
    status, _, _ = api.call("POST", "/bulletins", "department", bulletin_body())  # no department
    assert status == 403
    mine = publish(api, department="network")
    managers = publish(api, role="complaint_manager", department=None)
    assert managers["department"] is None
    patch = {"script": "抢修中"}
    # another department's user: refused; the complaint manager: any bulletin
    status, _, _ = api.call("PATCH", f"/bulletins/{mine['id']}", "department", patch, "marketing")
    assert status == 403
    status, _, _ = api.call("POST", f"/bulletins/{mine['id']}/close", "department", None, "it")
    assert status == 403
    status, _, _ = api.call("PATCH", f"/bulletins/{mine['id']}", "agent", patch)
    assert status == 403
    status, got, _ = api.call("PATCH", f"/bulletins/{mine['id']}", "complaint_manager", patch)
    assert status == 200 and got["script"] == "抢修中"
    status, _, _ = api.call("GET", "/bulletins/B0NOSUCHBULLETIN", "agent")
    assert status == 404
    status, _, _ = api.call("GET", "/bulletins", "agent", headers={"Authorization": "Bearer x"})
    assert status == 401


def test_refusals_and_writes_are_audited(api: Api) -> None:
    b = publish(api)
    api.call("PATCH", f"/bulletins/{b['id']}", "agent", {"script": "x"})
    status, page, _ = api.call("GET", f"/audit?ticketId={b['id']}", "auditor")
    assert status == 200
    seen = {(e["action"], e["outcome"]) for e in page["items"]}
    assert ("bulletin_publish", "ok") in seen
    assert ("bulletin_amend", "refused:403/forbidden") in seen


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phenomena": ["no_such_phenomenon"]}, "phenomena[0]"),
        ({"phenomena": []}, "phenomena"),
        ({"areas": []}, "areas"),
        ({"areas": ["\u0000"]}, "areas[0]"),
        ({"type": "rumour"}, "type"),
        ({"title": "a\u0007b"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"script": " "}, "script"),
        ({"startsAt": "2026-11-20T09:00:00"}, "startsAt"),
        ({"startsAt": "1999-12-31T09:00:00+08:00"}, "startsAt"),
        ({"endsAt": _at(timedelta(hours=-1))}, "endsAt"),
        ({"services": ["x"] * 51}, "services"),
        ({"surprise": 1}, "surprise"),
        ({"contact": 12}, "contact"),
    ],
)
def test_hostile_bodies_are_400s_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    status, problem, headers = api.call(
        "POST", "/bulletins", "department", bulletin_body(**change), "network"
    )
    assert status == 400, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in problem["errors"]], problem


def test_hostile_patches_queries_and_headers_are_400s(api: Api) -> None:
    b = publish(api)
    path = f"/bulletins/{b['id']}"
    for body, field in (
        ({}, "body"),
        ({"script": None}, "script"),
        ({"endsAt": "tomorrow"}, "endsAt"),
        ({"areas": ["湖里区"]}, "areas"),  # the areas are what was published
        ({"endsAt": b["startsAt"]}, "endsAt"),
    ):
        status, problem, _ = api.call("PATCH", path, "department", body, "network")
        assert status == 400 and field in [e["field"] for e in problem["errors"]], body
    status, problem, _ = api.call(
        "PATCH", path, "department", {"script": "x"}, "network", headers={"If-Match": "W/1"}
    )
    assert status == 400 and problem["errors"][0]["field"] == "If-Match"
    for query, field in (
        ("active=yes", "active"),
        ("limit=0", "limit"),
        ("cursor=abc.def", "cursor"),
    ):
        status, problem, _ = api.call("GET", f"/bulletins?{query}", "agent")
        assert status == 400 and problem["errors"][0]["field"] == field, query


# -- amending and closing --------------------------------------------------------------------


def test_each_amendment_is_in_the_history_with_before_and_after(api: Api) -> None:
    b = publish(api)
    path = f"/bulletins/{b['id']}"
    later = _at(timedelta(hours=9))
    status, got, headers = api.call(
        "PATCH",
        path,
        "department",
        {"endsAt": later, "script": "抢修延长至22点"},
        "network",
        user="li",
    )
    assert status == 200 and got["version"] == 2 and headers["ETag"] == '"2"'
    amend = got["history"][-1]
    assert amend["action"] == "amend" and amend["actor"] == "li" and amend["role"] == "department"
    # a script by its length and hash (the item stays small), never its text
    assert amend["changes"]["script"] == {
        "before": digest(SCRIPT),
        "after": digest("抢修延长至22点"),
    }
    assert amend["changes"]["endsAt"]["before"] == b["endsAt"]
    assert datetime.fromisoformat(amend["changes"]["endsAt"]["after"]) == datetime.fromisoformat(
        later
    )
    # the same values again change nothing: no version, no history entry
    status, same, _ = api.call("PATCH", path, "department", {"script": "抢修延长至22点"}, "network")
    assert status == 200 and same["version"] == 2 and len(same["history"]) == 2
    # a stale If-Match is refused and changes nothing
    status, problem, _ = api.call(
        "PATCH", path, "department", {"title": "新标题"}, "network", headers={"If-Match": '"1"'}
    )
    assert status == 409 and problem["code"] == "stale_version"
    status, got, _ = api.call(
        "PATCH", path, "department", {"title": "新标题"}, "network", headers={"If-Match": '"2"'}
    )
    assert status == 200 and got["version"] == 3
    # open-ended, then closed: closing is final
    status, got, _ = api.call("PATCH", path, "department", {"endsAt": None}, "network")
    assert status == 200 and got["endsAt"] is None
    status, closed, _ = api.call(
        "POST", f"{path}/close", "department", {"reason": "故障已恢复"}, "network"
    )
    assert status == 200 and closed["status"] == "closed" and closed["closeReason"] == "故障已恢复"
    assert closed["history"][-1]["action"] == "close"
    status, problem, _ = api.call("POST", f"{path}/close", "department", None, "network")
    assert status == 409 and problem["code"] == "bulletin_closed"
    status, problem, _ = api.call("PATCH", path, "department", {"script": "x"}, "network")
    assert status == 409 and problem["code"] == "bulletin_closed"


def test_concurrent_amendments_are_never_lost(api: Api) -> None:
    """Two amendments without If-Match, the second written from a stale read: it reads again."""
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    b = publish(api)
    d = deps()
    real_get = d.bulletins.get
    stale = real_get(b["id"], True)
    calls = [0]

    def racing_get(bulletin_id: str, consistent: bool = False) -> Bulletin | None:
        calls[0] += 1
        if calls[0] == 1:  # another request amends between this read and its write
            status, _, _ = api.call(
                "PATCH", f"/bulletins/{b['id']}", "department", {"title": "甲"}, "network"
            )
            assert status == 200
            return stale
        return real_get(bulletin_id, consistent)

    d.bulletins.get = racing_get  # type: ignore[method-assign]
    try:
        from tests.functional.conftest import token  # noqa: F401

        caller = _caller()
        got = bulletins.amend(caller, b["id"], {"script": "乙"}, None, d)
    finally:
        d.bulletins.get = real_get  # type: ignore[method-assign]
    assert got.title == "甲" and got.script == "乙" and got.version == 3
    assert [h["action"] for h in got.history] == ["publish", "amend", "amend"]


def _caller() -> Any:
    from chalicelib.domain.auth import Principal
    from chalicelib.services.context import Caller

    return Caller(Principal("u-1", "wang", ("department",), "network"))


def test_lists_by_activity_and_area_a_page_at_a_time(api: Api) -> None:
    live = [publish(api, areas=[AREA, "湖里区"]) for _ in range(3)]
    other = publish(api, areas=["集美区"])
    later = publish(api, startsAt=_at(timedelta(hours=1)))
    ended = publish(api)
    api.call("POST", f"/bulletins/{ended['id']}/close", "department", None, "network")

    def ids(query: str) -> list[str]:
        out: list[str] = []
        cursor = None
        while True:
            q = query + (f"&cursor={cursor}" if cursor else "")
            status, page, _ = api.call("GET", f"/bulletins?{q}", "agent")
            assert status == 200 and len(page["items"]) <= 2
            out += [b["id"] for b in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                return out

    assert set(ids("active=true&area=湖里区&limit=2")) == {b["id"] for b in live}
    assert set(ids("active=true&limit=2")) == {b["id"] for b in [*live, other]}
    assert ids("active=false&limit=2") == [ended["id"]]
    everything = set(ids("limit=2"))
    assert {later["id"], ended["id"], other["id"]} <= everything


# -- answering at intake ---------------------------------------------------------------------


def test_a_matching_complaint_is_answered_from_the_bulletin(api: Api) -> None:
    b = publish(api)
    t = complaint(api, location={"area": AREA, "landmark": "中山路"})
    assert t["status"] == "answered" and t["step"] == "reply"
    assert t["bulletinId"] == b["id"] and t["answerScript"] == SCRIPT and t["answer"] == SCRIPT
    assert t["answeredAt"] == t["createdAt"]
    history = api.call("GET", f"/tickets/{t['id']}/history", "complaint_manager")[1]["items"]
    assert history[0]["details"]["bulletinId"] == b["id"]


@pytest.mark.parametrize(
    ("bulletin", "ticket"),
    [
        ({"areas": ["湖里区"]}, {}),  # another area
        ({"phenomena": ["call_quality"], "services": []}, {}),  # another phenomenon
        ({"startsAt": _at(timedelta(hours=1))}, {}),  # not started yet
        ({}, {"location": None}),  # no area to match
    ],
    ids=["area", "phenomenon", "before-start", "no-area"],
)
def test_a_complaint_that_does_not_match_is_not_answered(
    api: Api, bulletin: dict[str, Any], ticket: dict[str, Any]
) -> None:
    publish(api, **bulletin)
    t = complaint(api, **ticket)
    assert t["status"] == "accepted" and "bulletinId" not in t and t["step"] == "dispatch"


def test_a_service_it_names_matches_too(api: Api) -> None:
    b = publish(api, phenomena=["call_quality"], services=["VoLTE高清通话"])
    t = complaint(api, fields={**FIELDS, "serviceName": "volte高清通话"}, location={"area": AREA})
    assert t["bulletinId"] == b["id"] and t["status"] == "answered"


def test_an_ended_or_closed_bulletin_answers_nothing(api: Api, clock: Any) -> None:
    ending = publish(api, endsAt=_at(timedelta(hours=1)))
    assert complaint(api)["bulletinId"] == ending["id"]
    clock[0] = timedelta(hours=1, minutes=1)  # past its end
    assert "bulletinId" not in complaint(api)
    clock[0] = timedelta()
    api.call("POST", f"/bulletins/{ending['id']}/close", "department", None, "network")
    assert "bulletinId" not in complaint(api)


def test_the_cache_is_at_most_a_minute_stale_and_read_once_a_minute(
    api: Api, cache_clock: Any
) -> None:
    """A bulletin published by another container (straight into the table) reaches this one's
    intake within 60 s; a closing too. Between refreshes intake reads nothing."""
    from chalicelib.adapters.bulletins_repo import BulletinModel
    from chalicelib.services.context import deps

    cache = deps().active_bulletins
    assert "bulletinId" not in complaint(api)  # warms the cache: no bulletin yet
    refreshes = cache.refreshes
    b = publish(api)
    cache_clock[0] += 1
    # another container's view: this one's own publish cleared its cache, so put it back to a
    # fresh index without the bulletin, as a container that never saw the publish has
    cache.index(lambda: [])
    assert "bulletinId" not in complaint(api)
    cache_clock[0] += 59.9
    assert "bulletinId" not in complaint(api)
    cache_clock[0] += 0.2  # 60 s after that read
    assert complaint(api)["bulletinId"] == b["id"]
    assert cache.refreshes == refreshes + 2  # the stand-in's read, then one a minute later
    # closed elsewhere (written straight to the table): still answered until the next refresh
    item = BulletinModel.get(b["id"])
    item.update(
        actions=[
            BulletinModel.closedAt.set(item.startsAt),
            BulletinModel.endsKey.set(item.startsAt),
        ]
    )
    assert complaint(api)["bulletinId"] == b["id"]
    cache_clock[0] += 60
    assert "bulletinId" not in complaint(api)


def test_the_agent_dispatches_despite_a_matching_bulletin(api: Api) -> None:
    b = publish(api)
    t = complaint(api, dispatchDespiteBulletin={"reason": "客户家中长期无信号，与本次故障无关"})
    assert t["status"] == "accepted" and "bulletinId" not in t and t["step"] == "dispatch"
    history = api.call("GET", f"/tickets/{t['id']}/history", "complaint_manager")[1]["items"]
    assert history[0]["details"]["bulletinOverride"] == {
        "reason": "客户家中长期无信号，与本次故障无关",
        "matched": b["id"],
    }
    status, problem, _ = api.call(
        "POST", "/tickets", "agent", {**_ticket_json(), "dispatchDespiteBulletin": {"reason": ""}}
    )
    assert status == 400 and problem["errors"][0]["field"] == "dispatchDespiteBulletin.reason"


def _ticket_json() -> dict[str, Any]:
    from tests.functional.conftest import ticket_body

    return ticket_body(serviceNumber=fresh_number())


def test_a_repeat_of_an_open_ticket_stays_a_repeat(api: Api) -> None:
    number = fresh_number()
    original = complaint(api, serviceNumber=number)
    assert "bulletinId" not in original
    publish(api)
    repeat = complaint(api, serviceNumber=number)
    assert repeat["repeatOf"] == original["id"] and "bulletinId" not in repeat


def test_an_answered_ticket_is_replied_and_revisited_and_the_created_event_names_the_bulletin(
    api: Api, aws: Any
) -> None:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="ticket-events-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=aws.refs["TicketEventsTopic"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    b = publish(api)
    t = api.create(
        role="agent", serviceNumber=fresh_number(), phenomenon="voice_coverage", fields=FIELDS
    )
    tid = t["id"]
    assert t["bulletinId"] == b["id"]
    _waiting(api, tid, "reply")
    _act(api, tid, "reply", "agent", {"content": SCRIPT, "method": "phone"})
    _waiting(api, tid, "revisit")
    done = _act(api, tid, "revisit", "agent", {"satisfaction": "satisfied"})
    assert done["status"] == "revisited" and done["bulletinId"] == b["id"]

    def created() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]

    events = wait_until(created)
    mine = [e for e in events if e["ticketId"] == tid and e["eventType"] == "created"]
    assert mine and mine[0]["bulletinId"] == b["id"]


# -- review fixes ----------------------------------------------------------------------------


def test_a_list_cursor_keeps_its_instant_and_its_filter(api: Api, clock: Any) -> None:
    """Every page queries with the first page's instant (DynamoDB refuses a start key outside
    the key condition), and a cursor of one `active` filter is a 400 under another."""
    from chalicelib.services.context import deps

    ending = publish(api, endsAt=_at(timedelta(minutes=5)))
    others = [publish(api) for _ in range(2)]
    first_at = deps().clock()
    status, page, _ = api.call("GET", "/bulletins?active=true&limit=1", "agent")
    assert status == 200 and [b["id"] for b in page["items"]] == [ending["id"]]
    assert "history" not in page["items"][0]  # lists carry no history (not projected)
    state = deps().cursors.decode(page["nextCursor"])
    assert state["active"] is True and set(state) == {"key", "active", "at"}
    assert abs(parse_storage_time(state["at"]) - first_at) < timedelta(seconds=5)
    seen: list[datetime] = []
    real = deps().bulletins.page
    deps().bulletins.page = lambda at, *a: seen.append(at) or real(at, *a)  # type: ignore
    try:
        clock[0] = timedelta(minutes=10)  # the page's last item has ended meanwhile
        status, nxt, _ = api.call(
            "GET", f"/bulletins?active=true&limit=1&cursor={page['nextCursor']}", "agent"
        )
    finally:
        deps().bulletins.page = real  # type: ignore[method-assign]
    assert status == 200 and nxt["items"][0]["id"] in {b["id"] for b in others}
    assert seen == [parse_storage_time(state["at"])]  # the first page's instant, not now
    for query in ("active=false", "", "active=false&area=x"):
        status, problem, _ = api.call(
            "GET", f"/bulletins?{query}&cursor={page['nextCursor']}", "agent"
        )
        assert status == 400 and problem["errors"][0]["field"] == "cursor", query
    # a cursor in the old shape (the bare position) is refused, not sent to DynamoDB
    bare = deps().cursors.encode(state["key"])
    status, problem, _ = api.call("GET", f"/bulletins?active=true&cursor={bare}", "agent")
    assert status == 400 and problem["errors"][0]["field"] == "cursor"


def test_a_department_user_without_a_department_changes_no_bulletin(api: Api) -> None:
    managers = publish(api, role="complaint_manager", department=None)
    path = f"/bulletins/{managers['id']}"
    status, _, _ = api.call("PATCH", path, "department", {"script": "抢修中"}, None)
    assert status == 403
    status, _, _ = api.call("POST", f"{path}/close", "department", None, None)
    assert status == 403
    assert api.call("GET", path, "agent")[1]["version"] == 1


def test_publish_honours_the_idempotency_key(api: Api, aws: Any) -> None:
    drain(aws, "IntakeInbox")
    body = bulletin_body()
    key = {"Idempotency-Key": "bulletin-0001"}
    status, first, h1 = api.call("POST", "/bulletins", "department", body, "network", headers=key)
    assert status == 201 and "Idempotent-Replayed" not in h1
    status, again, h2 = api.call("POST", "/bulletins", "department", body, "network", headers=key)
    assert status == 201 and again["id"] == first["id"] and h2["Idempotent-Replayed"] == "true"
    assert len(drain(aws, "IntakeInbox")) == 1  # told once
    other = {**body, "title": "另一条"}
    status, problem, _ = api.call("POST", "/bulletins", "department", other, "network", headers=key)
    assert status == 409 and problem["code"] == "idempotency_key_reused"
    status, problem, _ = api.call(
        "POST", "/bulletins", "department", body, "network", headers={"Idempotency-Key": "x" * 129}
    )
    assert status == 400 and problem["errors"][0]["field"] == "Idempotency-Key"
    status, listed, _ = api.call("GET", "/bulletins?active=true&limit=100", "agent")
    assert [b["id"] for b in listed["items"]].count(first["id"]) == 1


def test_a_write_from_a_copy_read_while_pending_never_sends_the_notice_twice(
    api: Api, aws: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import bulletins as rules
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    d = deps()
    monkeypatch.setattr(d.notifier, "department", lambda *a: (_ for _ in ()).throw(RuntimeError()))
    b = publish(api)
    monkeypatch.undo()
    stale = d.bulletins.get(b["id"], True)
    assert stale is not None and stale.notice == "pending"
    clock[0] = timedelta(minutes=1)
    assert bulletins.deliver_pending(d) == 1 and len(drain(aws, "IntakeInbox")) == 1
    # a PATCH that read the bulletin while pending does not write the flag back
    changed = rules.amend(stale, {"title": "甲"}, "wang", "department", d.clock())
    assert changed is not None and not d.bulletins.replace(changed, stale.version)
    status, got, _ = api.call(
        "PATCH", f"/bulletins/{b['id']}", "department", {"title": "甲"}, "network"
    )
    assert status == 200 and got["version"] == 2
    assert d.bulletins.get(b["id"], True).notice is None  # type: ignore[union-attr]
    assert bulletins.deliver_pending(d) == 0 and drain(aws, "IntakeInbox") == []


def test_a_bulletin_closed_before_its_notice_went_out_is_not_announced(
    api: Api, aws: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import bulletins
    from chalicelib.services.context import deps

    d = deps()
    monkeypatch.setattr(d.notifier, "department", lambda *a: (_ for _ in ()).throw(RuntimeError()))
    b = publish(api)
    status, _, _ = api.call("POST", f"/bulletins/{b['id']}/close", "department", None, "network")
    monkeypatch.undo()
    assert status == 200
    clock[0] = timedelta(minutes=1)
    assert bulletins.deliver_pending(d) == 0 and drain(aws, "IntakeInbox") == []
    assert d.bulletins.get(b["id"], True).notice is None  # type: ignore[union-attr]  # off the outbox


def test_a_transaction_conflict_is_tried_again_not_a_500(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB cancels a transaction that meets a concurrent one (TransactionConflict); moto
    never does, so the cancellation is injected on the first tries."""
    from pynamodb.exceptions import CancellationReason, TransactWriteError

    from chalicelib.adapters import bulletins_repo

    b = publish(api)
    real = bulletins_repo.TransactWrite
    failures = [2]

    class Cancelled(TransactWriteError):
        @property
        def cancellation_reasons(self) -> list[CancellationReason | None]:
            return [CancellationReason(code="TransactionConflict"), None]

    class Conflicting(real):  # type: ignore[misc, valid-type]
        def __exit__(self, *exc: Any) -> None:
            if failures[0] > 0 and exc[0] is None:
                failures[0] -= 1
                raise Cancelled("cancelled")
            super().__exit__(*exc)

    monkeypatch.setattr(bulletins_repo, "TransactWrite", Conflicting)
    status, got, _ = api.call(
        "PATCH", f"/bulletins/{b['id']}", "department", {"title": "甲"}, "network"
    )
    assert status == 200 and got["version"] == 2 and failures[0] == 0
    status, _, _ = api.call("POST", "/bulletins", "department", bulletin_body(), "network")
    assert status == 201
    failures[0] = 99  # never settles: a 503 with Retry-After, never a 500
    status, problem, headers = api.call(
        "PATCH", f"/bulletins/{b['id']}", "department", {"title": "乙"}, "network"
    )
    assert status == 503 and headers["Retry-After"] == "1", problem


def test_a_publish_already_ended_is_refused_naming_endsAt(api: Api) -> None:
    body = bulletin_body(startsAt=_at(timedelta(hours=-3)), endsAt=_at(timedelta(hours=-1)))
    status, problem, _ = api.call("POST", "/bulletins", "department", body, "network")
    assert status == 400 and [e["field"] for e in problem["errors"]] == ["endsAt"]
    b = publish(api)
    later = _at(timedelta(hours=7))  # past its end (6 h)
    status, problem, _ = api.call(
        "PATCH", f"/bulletins/{b['id']}", "department", {"startsAt": later}, "network"
    )
    assert status == 400 and [e["field"] for e in problem["errors"]] == ["startsAt"]


def test_an_empty_list_page_is_audited(api: Api) -> None:
    status, page, _ = api.call("GET", "/bulletins?area=无此区&active=true", "agent", user="zhao")
    assert status == 200 and page["items"] == []
    status, audit, _ = api.call("GET", "/audit?actor=zhao", "auditor")
    assert status == 200, audit
    assert [e["action"] for e in audit["items"]].count("bulletin_list") == 1


def test_a_billing_dispute_naming_a_listed_service_is_not_answered_with_the_outage(
    api: Api,
) -> None:
    publish(api, services=["畅享套餐"])
    fields = {"billingMonth": "2026-10", "planName": "畅享套餐", "disputedAmount": 30}
    t = complaint(api, phenomenon="discount_not_applied", fields=fields, location={"area": AREA})
    assert "bulletinId" not in t


def test_an_unconfirmed_guess_answers_only_when_its_phenomenon_matches(api: Api) -> None:
    """The classifier's guess (unconfirmed) may answer from a bulletin of its phenomenon, never
    from one that only lists a service the ticket names."""
    b = publish(api, phenomena=["voice_coverage"], services=["畅享套餐"])

    def guessed(description: str) -> dict[str, Any]:
        return api.create(
            role="senior_agent",
            serviceNumber=fresh_number(),
            description=description,
            fields={**FIELDS, "planName": "畅享套餐"},
        )

    coverage = guessed("家里手机信号不好，只有一两格，通话断断续续")
    assert coverage["classification"]["confirmed"] is False
    assert coverage["phenomenon"] == "voice_coverage" and coverage["bulletinId"] == b["id"]
    billing = guessed("畅享套餐的优惠没有生效，这个月多扣了三十元话费")
    assert billing["classification"]["confirmed"] is False
    assert billing.get("phenomenon") != "voice_coverage" and "bulletinId" not in billing


def test_an_input_stored_before_bulletins_existed_still_starts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first state announces `$.bulletinId`: an input stored at intake before this field
    existed (its start failed, the sweep starts it later) gets it filled in, not a failure."""
    from chalicelib.services import repair, steps
    from chalicelib.services.context import deps

    d = deps()

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Step Functions is down")

    monkeypatch.setattr(d.workflows, "start", down)
    t = complaint(api, location=None)
    monkeypatch.undo()
    stored = d.repo.get(t["id"], consistent=True)
    assert stored is not None and stored.workflow_input is not None
    old = json.loads(stored.workflow_input)
    del old["bulletinId"]  # as stored before bulletins
    before = json.dumps(old)
    assert steps.stored_input(stored.workflow_input) == stored.workflow_input  # byte-identical
    assert json.loads(steps.stored_input(before))["bulletinId"] is None
    repair.resume(stored.with_changes(workflow_input=before), d.clock(), d, first=True)
    assert _waiting(api, t["id"], "dispatch")  # past the announcement
