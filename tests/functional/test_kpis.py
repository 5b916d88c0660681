"""Issue 12 (KPIs): counters kept from the real ticket-events topic and its SQS queue, each event
counted once, and the report, its CSV and its chart over HTTP."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from infra.local import LOCAL_ALLOWED_ORIGINS
from tests.conftest import STACK
from tests.functional.conftest import Api, auth, fresh_number, wait_until
from tests.functional.test_lifecycle_paths import FIELDS, _act, _waiting

ALLOWED = LOCAL_ALLOWED_ORIGINS.split(",")[0].replace("*", "5173")
ROLES_ALLOWED = ("complaint_manager", "leader")


def _deps() -> Any:
    from chalicelib.services.context import deps

    return deps()


def _create(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {"phenomenon": "voice_coverage", "fields": FIELDS, "serviceNumber": fresh_number()}
    body.update(overrides)
    return api.create(role="senior_agent", **body)


def _applied(ticket_id: str, version: int | None = None) -> tuple[int, str, Any]:
    """Wait until the aggregator has applied the ticket's events (up to `version`)."""

    def done() -> Any:
        got = _deps().kpis.applied(ticket_id)
        want = version or _last_change(ticket_id)
        return got if got is not None and got[0] >= want else None

    result: tuple[int, str, Any] = wait_until(done)
    return result


def _last_change(ticket_id: str) -> int:
    """The version the ticket's last recorded change (its last published event) wrote; the
    workflow's token bookkeeping bumps the stored version without a change to publish."""
    return max(e.version or 1 for e in _deps().repo.history(ticket_id))


def _day(ticket: dict[str, Any]) -> str:
    return str(ticket["createdAt"][:10])  # the API writes instants in Asia/Shanghai


def _report(api: Api, day: str, role: str = "complaint_manager", **extra: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in {"from": day, "to": day, **extra}.items())
    status, body, headers = api.call("GET", f"/reports/kpis?{query}", role)
    assert status == 200, body
    assert "Accept" in headers["Vary"]
    return body  # type: ignore[no-any-return]


def _kpi(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(k for k in report["kpis"] if k["code"] == code)


def _through_archive(api: Api, tid: str, satisfaction: str = "satisfied") -> None:
    _waiting(api, tid, "dispatch")
    body = {"department": "network", "note": "弱覆盖"}
    _act(api, tid, "dispatch", "senior_agent", body, user="senior")
    _waiting(api, tid, "accept")
    body = {"cause": "weak_coverage", "result": "已调整天线"}
    _act(api, tid, "resolve", "department", body, department="network")
    _waiting(api, tid, "reply")
    _act(api, tid, "reply", "agent", {"content": "已处理", "method": "sms"})
    _waiting(api, tid, "revisit")
    _act(api, tid, "revisit", "agent", {"satisfaction": satisfaction})
    if satisfaction != "unsatisfied":
        _waiting(api, tid, "archive")
        _act(api, tid, "archive", "complaint_manager", {"analysis": "覆盖问题"})


def _kpi_queue(aws: Any) -> str:
    return str(aws.refs["KpiEventsQueue"])


def _pause_aggregator() -> None:
    """Disable the queue's event source mapping: messages wait in the queue (as when the
    aggregator is down), for the test to receive and hand to the handler itself."""
    lam = boto3.client("lambda")
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        if mapping["EventSourceArn"].endswith(f"{STACK}-kpi-events"):
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _received(aws: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=_kpi_queue(aws), MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        new = [m for m in got if m["MessageId"] not in {o["MessageId"] for o in out}]
        if not new:
            return out
        out += new


def _sqs_event(messages: list[tuple[str, str]]) -> dict[str, Any]:
    """The event Lambda hands an SQS handler (what moto builds for the local stack)."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"rh-{message_id}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{STACK}-kpi-events",
                "awsRegion": "us-east-1",
            }
            for message_id, body in messages
        ]
    }


def _handle(messages: list[tuple[str, str]]) -> dict[str, Any]:
    import app

    class Context:
        function_name = "test"
        aws_request_id = "test"
        memory_limit_in_mb = 512

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 60_000

    result: dict[str, Any] = app.aggregate_kpis(_sqs_event(messages), Context())
    return result


def _counter_items(day: str, where: str = "*|*") -> list[dict[str, Any]]:
    d = date.fromisoformat(day)
    return sorted(_deps().kpis.read(d, d, where).items, key=lambda i: str(i["pk"] + i["sk"]))


def _all_counter_items() -> list[dict[str, Any]]:
    """Every counter item of every scope (a Scan: tests only)."""
    client, table = boto3.client("dynamodb"), _deps().kpis.table
    items = client.scan(TableName=table)["Items"]
    out = [  # zeros left by ADDs that cancelled out are no count
        {k: (int(v["N"]) if "N" in v else v["S"]) for k, v in i.items() if v != {"N": "0"}}
        for i in items
        if not i["pk"]["S"].startswith(("ticket#", "incident#"))
    ]
    return sorted(out, key=lambda i: str(i["pk"] + i["sk"]))


# -- through the topic and the queue ----------------------------------------------------------


def test_a_complaint_through_its_lifecycle_is_counted_from_its_events(api: Api, aws: Any) -> None:
    ticket = _create(api)
    tid, day = ticket["id"], _day(ticket)
    version, event_id, facts = _applied(tid, 1)
    assert event_id == f"{tid}:{version}"  # the `created` event, published by the execution
    assert facts["counters"] == {"complaints": 1} and facts["day"] == day

    _through_archive(api, tid)
    final = _last_change(tid)
    version, event_id, facts = _applied(tid, final)
    assert (version, event_id) == (final, f"{tid}:{final}")
    assert facts["counters"]["satisfied"] == 1 and facts["counters"]["replied"] == 1

    report = _report(api, day)
    assert (report["from"], report["to"]) == (day, day)
    assert _kpi(report, "reply_rate") | {"name": ""} == {
        "code": "reply_rate",
        "name": "",
        "numerator": 1,
        "denominator": 1,
        "value": 1.0,
        "target": 1.0,
        "direction": "at_least",
        "met": True,
        "unit": "fraction",
    }
    assert _kpi(report, "satisfaction")["value"] == 1.0
    assert _kpi(report, "on_time_reply_rate")["met"] is True
    assert _kpi(report, "repeat_rate")["value"] == 0.0
    assert [d["department"] for d in report["departments"]] == ["network"]
    assert report["itemsRead"] == 1  # one day × one department


def test_an_unsatisfied_revisit_and_the_department_filter(api: Api, aws: Any) -> None:
    happy, unhappy = _create(api), _create(api)
    _through_archive(api, happy["id"])
    _through_archive(api, unhappy["id"], "unsatisfied")
    for t in (happy, unhappy):
        _applied(t["id"])
    day = _day(happy)
    report = _report(api, day, department="network")
    assert _kpi(report, "satisfaction") | {"name": ""} == {
        "code": "satisfaction",
        "name": "",
        "numerator": 1,
        "denominator": 2,
        "value": 0.5,
        "target": 0.9,
        "direction": "at_least",
        "met": False,
        "unit": "fraction",
    }
    assert report["department"] == "network"
    # the unsatisfied one went back to the department: no reply any more, so far
    assert _kpi(report, "reply_rate")["numerator"] == 1
    other = _report(api, day, department="billing_support")
    assert _kpi(other, "satisfaction")["value"] is None and other["departments"] == []
    assert _kpi(_report(api, day, channel="app"), "reply_rate")["denominator"] == 0
    category = _report(api, day, category="basic_communication")
    assert _kpi(category, "reply_rate")["denominator"] == 2


def test_a_suggestion_is_not_counted(api: Api, aws: Any) -> None:
    s = api.create(
        kind="suggestion", description="建议增加营业厅周末营业时间", serviceNumber=fresh_number()
    )
    wait_until(lambda: _deps().kpis.applied(s["id"]))
    assert _deps().kpis.applied(s["id"])[2] is None  # type: ignore[index]
    assert _kpi(_report(api, _day(s)), "reply_rate")["denominator"] == 0


def test_a_redelivered_event_is_counted_once(api: Api, aws: Any) -> None:
    _pause_aggregator()
    ticket = _create(api)
    tid, day = ticket["id"], _day(ticket)
    _waiting(api, tid, "dispatch")  # the execution has published `created`
    messages = wait_until(lambda: _received(aws))
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["eventType"] for b in bodies] == ["created"]
    assert bodies[0]["eventId"] == f"{tid}:1" and bodies[0]["kpi"]["counters"] == {"complaints": 1}
    # no personal data in the event: the number, the name and the contact are not in it
    assert "13800138000" not in messages[0]["Body"] and "张三" not in messages[0]["Body"]

    pairs = [(m["MessageId"], m["Body"]) for m in messages]
    assert _handle(pairs) == {"batchItemFailures": []}
    before = _counter_items(day)
    # SQS delivers at least once: the same message again, and the same change re-published
    assert _handle(pairs) == {"batchItemFailures": []}
    from chalicelib.services import notifications

    stored = _deps().repo.get(tid, consistent=True)
    notifications.state_changed(stored, "note", _deps())
    notifications.state_changed(stored, "note", _deps())
    again = [(m["MessageId"], m["Body"]) for m in _received(aws)]
    assert len(again) == 3  # the first one, never deleted here, and the two re-publishes
    assert _handle(again) == {"batchItemFailures": []}
    assert _handle(again) == {"batchItemFailures": []}
    after = _counter_items(day)
    assert [i["complaints"] for i in before] == [i["complaints"] for i in after] == [1]
    assert _kpi(_report(api, day), "reply_rate")["denominator"] == 1


def test_one_poison_message_never_blocks_the_batch(api: Api, aws: Any) -> None:
    _pause_aggregator()
    ticket = _create(api)
    tid = ticket["id"]
    _waiting(api, tid, "dispatch")
    good = wait_until(lambda: _received(aws))[0]
    bad_facts = json.loads(good["Body"])
    bad_facts["kpi"]["department"] = "net|work"  # would write another cell's attribute
    batch = [
        ("poison-1", "this is not JSON"),
        (good["MessageId"], good["Body"]),
        ("poison-2", json.dumps(bad_facts)),
        ("poison-3", json.dumps({"eventId": "x", "ticketId": tid, "version": True, "kpi": None})),
    ]
    result = _handle(batch)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "poison-1"},
            {"itemIdentifier": "poison-2"},
            {"itemIdentifier": "poison-3"},
        ]
    }
    assert _deps().kpis.applied(tid)[1] == f"{tid}:1"  # type: ignore[index]


def test_a_poison_message_on_the_queue_is_retried_then_dead_lettered(api: Api, aws: Any) -> None:
    sqs = boto3.client("sqs")
    queue = _kpi_queue(aws)
    sqs.send_message(QueueUrl=queue, MessageBody="{not json")  # the aggregator runs and fails
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])
    assert json.loads(attrs["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 5
    # still there, visible again for the next receive: it was not deleted as a success
    seen = 0
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages", [])
        if not got:
            break
        seen += 1
    assert 1 <= seen <= 5
    dlq = aws.refs["KpiEventsDeadLetterQueue"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{not json"]
    # and the aggregator goes on: the next ticket is counted
    ticket = _create(api)
    _applied(ticket["id"], 1)


# -- the snapshot's rules on the real table ---------------------------------------------------


def _facts(department: str, **counters: int) -> dict[str, Any]:
    return {
        "day": "2026-11-23",
        "department": department,
        "category": "basic_communication",
        "channel": "hotline",
        "counters": {"complaints": 1, **counters},
        "incidentId": None,
    }


def test_an_older_event_after_a_newer_one_changes_nothing(aws: Any) -> None:
    repo, now = _deps().kpis, datetime(2026, 11, 23, tzinfo=UTC)
    assert repo.apply("T9:5", "T9", 5, _facts("crc", replied=1), now).outcome == "applied"
    assert repo.apply("T9:3", "T9", 3, _facts("network"), now).outcome == "stale"
    assert repo.apply("T9:5", "T9", 5, _facts("crc", replied=1), now).outcome == "duplicate"
    items = _counter_items("2026-11-23", "basic_communication|hotline")
    assert [(i["department"], i["replied"]) for i in items] == [("crc", 1)]


def test_a_ticket_moving_department_moves_its_counts(aws: Any) -> None:
    repo, now = _deps().kpis, datetime(2026, 11, 23, tzinfo=UTC)
    repo.apply("T8:1", "T8", 1, _facts("network"), now)
    applied = repo.apply("T8:4", "T8", 4, _facts("marketing", transfers=1, transferred=1), now)
    # the snapshot, and the four scopes (cell and rollups) of each department: one transaction
    assert applied.items_written == 1 + 4 + 4
    for where in ("basic_communication|hotline", "basic_communication|*", "*|hotline", "*|*"):
        by_dept = {i["department"]: i for i in _counter_items("2026-11-23", where)}
        assert by_dept["network"]["complaints"] == 0
        assert by_dept["marketing"]["complaints"] == 1
        assert by_dept["marketing"]["transfers"] == 1


def test_each_incident_counts_once(aws: Any) -> None:
    repo, now = _deps().kpis, datetime(2026, 11, 23, tzinfo=UTC)
    for n in range(3):
        facts = _facts("network", incident_tickets=1)
        facts["incidentId"] = "I1"
        repo.apply(f"T{n}:1", f"T{n}", 1, facts, now)
    for where in ("basic_communication|hotline", "*|*"):
        item = _counter_items("2026-11-23", where)[0]
        assert (item["incident_tickets"], item["incidents"]) == (3, 1)


def test_the_rebuild_gives_the_same_counters(api: Api, aws: Any) -> None:
    a, c = _create(api), _create(api, channel="app")
    b = api.create(role="agent", phenomenon="voice_coverage", serviceNumber=fresh_number())
    _through_archive(api, a["id"])
    _waiting(api, b["id"], "review")  # a junior agent's ticket is reviewed first
    _act(api, b["id"], "review", "senior_agent", {"valid": False, "reason": "信息不实"})
    for t in (a, b, c):
        _applied(t["id"])
    day = _day(a)
    before = _all_counter_items()
    # hotline and app complaints of one category: 2 cells, 2 channel rollups, 1 category, 1 all
    assert len(before) == 6
    report = _report(api, day)

    from infra import rebuild_kpis

    result = rebuild_kpis.run()
    assert result["complaints"] == 3 and result["unreadable"] == []
    after = _all_counter_items()
    assert after == before
    assert _report(api, day) == report
    # the snapshots are the tickets' versions: a later event applies on top, once
    for t in (a, b, c):
        stored = _deps().repo.get(t["id"], consistent=True)
        assert _deps().kpis.applied(t["id"])[0] == stored.version  # type: ignore[index]


# -- the report over HTTP ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "senior_agent", "department", "operator", "auditor"])
def test_other_roles_are_refused(api: Api, aws: Any, role: str) -> None:
    department = "network" if role == "department" else None
    status, body, _ = api.call(
        "GET", "/reports/kpis?from=2026-11-01&to=2026-11-30", role, department=department
    )
    assert status == 403 and body["code"] == "forbidden"
    status, _, _ = api.call("GET", "/reports/kpis.svg?from=2026-11-01&to=2026-11-30", role)
    assert status == 403


def test_no_token_is_a_401(client: Any, aws: Any) -> None:
    assert client.http.get("/reports/kpis?from=2026-11-01&to=2026-11-30").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2026-11-30", "from"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-30&to=2026-11-01", "from"),
        ("from=2025-01-01&to=2026-11-30", "to"),
        ("from=2026-11-01&to=2026-11-30&department=nowhere", "department"),
        ("from=2026-11-01&to=2026-11-30&channel=pigeon", "channel"),
        ("from=2026-11-01&to=2026-11-30&limit=10", "limit"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(api: Api, aws: Any, query: str, field: str) -> None:
    for path in ("/reports/kpis", "/reports/kpis.svg"):
        status, body, headers = api.call("GET", f"{path}?{query}", "leader")
        assert status == 400, body
        assert headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in body["errors"]] == [field]


def test_an_empty_period_reports_null_values(api: Api, aws: Any) -> None:
    report = _report(api, "2020-02-29", role="leader")
    assert report["itemsRead"] == 0 and report["departments"] == []
    assert all(k["value"] is None and k["met"] is None for k in report["kpis"])


def test_the_csv_and_the_chart(api: Api, aws: Any, client: Any) -> None:
    ticket = _create(api)
    _applied(ticket["id"], 1)
    day = _day(ticket)
    path = f"/reports/kpis?from={day}&to={day}"
    headers = {**auth("complaint_manager"), "Accept": "text/csv"}
    resp = client.http.get(path, headers=headers)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="kpis-{day}-{day}.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.body.decode())))
    reply = next(r for r in rows if r["code"] == "reply_rate" and r["department"] == "")
    assert (reply["numerator"], reply["denominator"], reply["value"]) == ("0", "1", "0.0")
    assert {r["department"] for r in rows} == {"", "network"}

    refused = client.http.get(path, headers={**auth("leader"), "Accept": "image/png"})
    assert refused.status_code == 406
    assert json.loads(refused.body)["code"] == "not_acceptable"

    svg = client.http.get(path.replace("/kpis?", "/kpis.svg?"), headers=auth("leader"))
    assert svg.status_code == 200
    assert svg.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(svg.body)
    text = " ".join(t for t in root.itertext())
    assert "network" in text and "target: Complaint satisfaction ≥ 90%" in text


def test_cors_on_the_report(client: Any, aws: Any) -> None:
    preflight = client.http.options(
        "/reports/kpis",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    got = client.http.get(
        "/reports/kpis?from=2026-11-01&to=2026-11-02",
        headers={**auth("leader"), "Origin": ALLOWED, "Accept": "text/csv"},
    )
    assert got.status_code == 200
    assert got.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert {"Origin", "Accept"} <= {v.strip() for v in got.headers["Vary"].split(",")}
    wrong = client.http.post("/reports/kpis", headers={**auth("leader"), "Origin": ALLOWED})
    assert wrong.status_code == 405
