"""What is already stored cannot take the system down: an item that does not decode is left out
of lists and the sweep, answered as a clear problem on its own, and reported to the operators
once per ticket and version."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import boto3

from chalicelib import config
from tests.functional.conftest import Api
from tests.functional.inboxes import drain
from tests.functional.test_sweep import _deps, _notices, _tickets, clock  # noqa: F401

BAD = {
    # an instant outside any sane window (a year-1 date, not even fixed width)
    "T0BADTIME": lambda item: item.update(occurredAt={"S": "1-01-01T00:00:00.000000Z"}),
    # a version that is not a number
    "T0BADVERSION": lambda item: item.update(version={"S": "seven"}),
    # a required attribute missing
    "T0BADMISSING": lambda item: item.pop("description"),
}


def _corrupt_copies(ticket_id: str) -> None:
    """Beside the good tickets, items that do not decode, written straight into the table."""
    db = boto3.client("dynamodb")
    table = config.tickets_table()
    good = db.get_item(TableName=table, Key={"id": {"S": ticket_id}}, ConsistentRead=True)["Item"]
    for bad_id, spoil in BAD.items():
        item = {**good, "id": {"S": bad_id}, "description": {"S": "坏数据 13912345678"}}
        spoil(item)
        db.put_item(TableName=table, Item=item)


def _set_aside_notices(aws: Any) -> list[dict[str, Any]]:
    return [m for m in drain(aws, "OperatorsInbox") if m["eventType"] == "ticket_set_aside"]


def test_lists_leave_unreadable_tickets_out_and_operators_hear_once(api: Api, aws) -> None:
    good = _tickets(api, 2)
    _corrupt_copies(good[0])
    state = api.call("GET", f"/tickets/{good[0]}", "complaint_manager")[1]["status"]

    for _ in range(2):
        for path in (
            "/tickets",
            f"/tickets?status={state}",
            "/customers/13800138000/tickets",
        ):
            status, page, _ = api.call("GET", path, "complaint_manager")
            assert status == 200, page
            assert {t["id"] for t in page["items"]} == set(good), path

    notices = _set_aside_notices(aws)
    assert Counter(n["ticketId"] for n in notices) == Counter(list(BAD))  # once each, however read
    by_id = {n["ticketId"]: n for n in notices}
    assert by_id["T0BADVERSION"]["version"] == "?"
    assert by_id["T0BADTIME"]["reason"].startswith("occurredAt")
    assert by_id["T0BADMISSING"]["reason"] == "description: missing"
    for n in notices:  # never the stored item
        assert "坏数据" not in str(n) and "1-01-01" not in str(n) and "seven" not in str(n)
        assert n["_attributes"]["department"] == "operators"


def test_reading_an_unreadable_ticket_is_a_clear_problem(api: Api, aws) -> None:
    good = _tickets(api, 1)
    _corrupt_copies(good[0])

    for method, path, body in [
        ("GET", "/tickets/T0BADTIME", None),
        ("GET", "/tickets/T0BADTIME/history", None),
        ("POST", "/tickets/T0BADTIME/note", {"text": "补充"}),
    ]:
        status, body, headers = api.call(method, path, "complaint_manager", body)
        assert status == 503, body
        assert headers["Content-Type"] == "application/problem+json"
        assert body["code"] == "ticket_unreadable" and int(headers["Retry-After"]) > 0
    assert [n["ticketId"] for n in _set_aside_notices(aws)] == ["T0BADTIME"]
    assert api.call("GET", f"/tickets/{good[0]}", "complaint_manager")[0] == 200


def test_the_sweep_skips_unreadable_tickets_takes_them_off_the_index_and_goes_on(
    api: Api,
    aws,
    clock,  # noqa: F811
) -> None:
    from chalicelib.services import sweep

    good = _tickets(api, 2)
    _corrupt_copies(good[0])
    clock[0] = timedelta(minutes=25)  # past 50 % and 80 % of the 30-minute dispatch step

    first = sweep.run(_deps())

    assert first["read"] == 2 and first["set_aside"] == len(BAD)
    sent = Counter(n for _, n, _ in _notices(aws))  # drains OperatorsInbox too
    assert sent == {"warn:1:0.5": 2, "warn:1:0.8": 2}
    second = sweep.run(_deps())
    assert second["read"] == 0 and second["set_aside"] == 0  # off the due-index
    clock[0] = timedelta(days=2)
    third = sweep.run(_deps())
    assert third["read"] == 2 and third["set_aside"] == 0
    db = boto3.client("dynamodb")
    for bad_id in BAD:
        item = db.get_item(TableName=config.tickets_table(), Key={"id": {"S": bad_id}})["Item"]
        assert "dueKey" not in item and "nextDueAt" not in item


def test_the_operators_are_told_once_across_sweeps(api: Api, aws, clock) -> None:  # noqa: F811
    from chalicelib.services import sweep

    good = _tickets(api, 1)
    _corrupt_copies(good[0])
    clock[0] = timedelta(minutes=25)
    sweep.run(_deps())
    # put it back on the due-index as it was: the next sweep reads it again
    _corrupt_copies(good[0])
    sweep.run(_deps())

    assert Counter(n["ticketId"] for n in _set_aside_notices(aws)) == Counter(list(BAD))
