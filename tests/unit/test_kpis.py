"""Issue 12 (KPIs): a ticket's facts, the manual's formulas (empty periods included), the CSV, the
chart, content negotiation and the report's query. Pure: no AWS."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api.kpi_chart import render
from chalicelib.api.negotiation import choose
from chalicelib.catalog import get_catalog
from chalicelib.domain import kpis
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.shapes import parse
from chalicelib.domain.shapes.reports import KpiQuery
from chalicelib.domain.tickets import Complainant, Ticket

# 2026-11-22 23:30 in UTC is already 2026-11-23 in Shanghai
T0 = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)

BASE = Ticket(
    id="T0001",
    version=4,
    kind="complaint",
    status="accepted",
    channel="hotline",
    complainant=Complainant("王五", "ordinary", "13800138000", "phone"),
    service_number="13800138000",
    description="家里没有信号",
    created_at=T0,
    updated_at=T0,
    created_by="alice",
    category="basic_communication",
    phenomenon="voice_coverage",
    route="network",
    sla_level="B",
    due_at=T0 + timedelta(days=1),
)


def ticket(**changes: Any) -> Ticket:
    return replace(BASE, **changes)


def reply_at(hours: float) -> dict[str, Any]:
    at = (T0 + timedelta(hours=hours)).isoformat()
    return {"content": "已处理", "method": "phone", "by": "carol", "role": "agent", "at": at}


def counters(**values: int) -> dict[str, int]:
    out = dict.fromkeys(kpis.ALL_COUNTERS, 0)
    out.update(values)
    return out


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in rows}


# -- facts ---------------------------------------------------------------------------------------


def test_a_new_complaint_counts_once_on_its_shanghai_creation_day() -> None:
    f = kpis.facts(ticket())
    assert f == {
        "day": "2026-11-23",
        "department": "network",  # not dispatched yet: where its phenomenon routes
        "category": "basic_communication",
        "channel": "hotline",
        "counters": {"complaints": 1},
        "incidentId": None,
    }


def test_suggestions_are_not_complaints() -> None:
    assert kpis.facts(ticket(kind="suggestion")) is None


def test_a_reply_within_the_limit_is_on_time_and_its_delay_is_counted() -> None:
    c = kpis.facts(ticket(reply=reply_at(2)))["counters"]  # type: ignore[index]
    assert c["replied"] == 1 and c["replied_on_time"] == 1 and c["reply_seconds"] == 7200


def test_a_reply_after_the_limit_is_replied_but_not_on_time() -> None:
    c = kpis.facts(ticket(reply=reply_at(30)))["counters"]  # type: ignore[index]
    assert c["replied"] == 1 and "replied_on_time" not in c


def test_a_progress_report_moves_the_limit_to_the_final_answer() -> None:
    moved = ticket(reply=reply_at(30), final_due_at=T0 + timedelta(days=7))
    assert kpis.facts(moved)["counters"]["replied_on_time"] == 1  # type: ignore[index]
    breached = replace(moved, overdue_duties=("reply",))
    assert "replied_on_time" not in kpis.facts(breached)["counters"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("answer", "satisfied"),
    [("satisfied", True), ("basically_satisfied", True), ("unsatisfied", False)],
)
def test_satisfaction_is_the_last_revisit(answer: str, satisfied: bool) -> None:
    revisit = {"satisfaction": answer, "comment": None, "by": "c", "role": "agent", "at": "x"}
    c = kpis.facts(ticket(revisit=revisit))["counters"]  # type: ignore[index]
    assert c.get("satisfied", 0) == int(satisfied)


def test_cross_province_is_sla_level_e_or_another_provinces_source() -> None:
    revisit = {"satisfaction": "satisfied", "comment": None, "by": "c", "role": "a", "at": "x"}
    for t in (ticket(sla_level="E", revisit=revisit), ticket(source="other_province")):
        c = kpis.facts(t)["counters"]  # type: ignore[index]
        assert c["cross_province"] == 1
    c = kpis.facts(ticket(sla_level="E", revisit=revisit))["counters"]  # type: ignore[index]
    assert c["cross_province_satisfied"] == 1
    assert "cross_province" not in kpis.facts(ticket())["counters"]  # type: ignore[index]


def test_big_customers_are_the_complainant_type() -> None:
    big = ticket(complainant=Complainant("某集团", "big_customer", "13800138000", "phone"))
    c = kpis.facts(big)["counters"]  # type: ignore[index]
    assert c["big_customer"] == 1 and "big_customer_satisfied" not in c


def test_the_other_counters() -> None:
    review = {"valid": False, "by": "s", "role": "senior_agent", "at": "x"}
    t = ticket(
        repeat=True,
        review=review,
        breached=True,
        escalation_level=2,
        transfers=3,
        bulletin_id="B1",
        resolution={"cause": "c", "result": "r", "department": "billing_support"},
        department=None,
    )
    f = kpis.facts(t)
    assert f is not None and f["department"] == "billing_support"  # who resolved it
    assert f["counters"] == {
        "complaints": 1,
        "repeats": 1,
        "invalid": 1,
        "breaches": 1,
        "escalated_2": 1,
        "transfers": 3,
        "transferred": 1,
        "bulletin_answered": 1,
    }


def test_delta_moves_a_ticket_between_departments_and_drops_zeros() -> None:
    old = kpis.facts(ticket(department="network"))
    new = kpis.facts(ticket(department="marketing", reply=reply_at(1)))
    d = kpis.delta(old, new)
    day = "2026-11-23"
    scopes = ("basic_communication|hotline", "basic_communication|*", "*|hotline", "*|*")
    for where in scopes:
        assert d[(where, day, "network")] == {"complaints": -1}
        assert d[(where, day, "marketing")]["complaints"] == 1
        assert d[(where, day, "marketing")]["replied"] == 1
    assert len(d) == 8
    assert kpis.delta(new, new) == {}
    assert kpis.delta(None, None) == {}


def test_a_new_incident_is_named_once() -> None:
    assert kpis.new_incident(None, {"incidentId": "I1"}) == "I1"
    assert kpis.new_incident({"incidentId": "I1"}, {"incidentId": "I1"}) is None
    assert kpis.new_incident(None, {"incidentId": None}) is None


def test_each_complaint_counts_in_its_cell_and_the_rollups() -> None:
    def facts(category: str, channel: str, **counters: int) -> dict[str, Any]:
        c = {"complaints": 1, **counters}
        return {"day": "d", "department": "p", "category": category, "channel": channel,
                "counters": c}  # fmt: skip

    items: dict[str, dict[str, int]] = {}
    for f in (facts("a", "hotline"), facts("a", "app", replied=1), facts("b", "app")):
        for (where, _, _), adds in kpis.delta(None, f).items():
            item = items.setdefault(where, {})
            for counter, n in adds.items():
                item[counter] = item.get(counter, 0) + n
    assert items[kpis.scope()]["complaints"] == 3
    assert items[kpis.scope("a")]["complaints"] == 2
    assert items[kpis.scope(channel="app")] == {"complaints": 2, "replied": 1}
    assert items[kpis.scope("a", "app")] == {"complaints": 1, "replied": 1}
    assert kpis.totals([items["*|*"], items["*|*"]])["complaints"] == 6
    assert kpis.totals([{"complaints": 2, "department": "p", "day": "d"}])["replied"] == 0


# -- formulas ------------------------------------------------------------------------------------


def test_every_formula_on_a_period() -> None:
    rows = by_code(
        kpis.report(
            counters(
                complaints=200,
                replied=190,
                replied_on_time=180,
                reply_seconds=190 * 3600,
                repeats=2,
                satisfied=184,
                cross_province=10,
                cross_province_satisfied=8,
                big_customer=20,
                big_customer_satisfied=19,
                invalid=6,
                breaches=12,
                escalated_1=5,
                escalated_2=3,
                escalated_3=1,
                transfers=50,
                transferred=40,
                bulletin_answered=30,
                incident_tickets=24,
                incidents=2,
            )
        )
    )
    assert rows["reply_rate"]["value"] == 0.95 and rows["reply_rate"]["met"] is False
    assert rows["on_time_reply_rate"]["value"] == 0.9
    # repeats / (complaints − repeats): 2 / 198
    assert rows["repeat_rate"]["denominator"] == 198
    assert rows["repeat_rate"]["value"] == round(2 / 198, 6) and rows["repeat_rate"]["met"] is False
    # satisfied / ALL complaints
    assert rows["satisfaction"]["value"] == 0.92 and rows["satisfaction"]["met"] is True
    assert rows["cross_province_satisfaction"]["value"] == 0.8
    assert rows["cross_province_satisfaction"]["met"] is False
    assert rows["big_customer_satisfaction"]["value"] == 0.95
    assert rows["big_customer_satisfaction"]["met"] is True  # exactly at the target
    assert rows["invalid_ticket_ratio"]["value"] == 0.03
    assert rows["invalid_ticket_ratio"]["met"] is True  # ≤ 3 %, exactly at it
    assert rows["breaches"]["numerator"] == 12 and rows["breaches"]["met"] is None
    assert rows["escalations"]["numerator"] == 9
    assert rows["escalations_level_2"]["numerator"] == 3
    assert rows["escalations_level_4"]["numerator"] == 0
    assert rows["ticket_transfer_rate"]["value"] == 0.2
    assert rows["transfers_per_ticket"]["value"] == 0.25
    assert rows["transfers_per_ticket"]["unit"] == "per_ticket"
    assert rows["mean_time_to_reply"]["value"] == 3600
    assert rows["bulletin_answered"]["value"] == 0.15
    assert rows["tickets_per_incident"]["value"] == 12
    targets = {code: r["target"] for code, r in rows.items() if r["target"] is not None}
    assert targets == {
        "reply_rate": 1.0,
        "on_time_reply_rate": 1.0,
        "repeat_rate": 0.01,
        "satisfaction": 0.9,
        "cross_province_satisfaction": 0.85,
        "big_customer_satisfaction": 0.95,
        "invalid_ticket_ratio": 0.03,
    }
    for r in rows.values():
        if r["unit"] == "fraction":
            assert r["value"] is None or 0 <= r["value"] <= 1, r


def test_an_empty_period_has_no_values_and_meets_nothing() -> None:
    rows = kpis.report(counters())
    assert {r["code"] for r in rows} >= {
        "reply_rate",
        "on_time_reply_rate",
        "repeat_rate",
        "satisfaction",
        "cross_province_satisfaction",
        "big_customer_satisfaction",
        "invalid_ticket_ratio",
        "breaches",
        "escalations",
        "transfers_per_ticket",
        "mean_time_to_reply",
        "bulletin_answered",
        "tickets_per_incident",
    }
    for r in rows:
        assert r["value"] is None and r["met"] is None and r["denominator"] == 0, r


def test_a_period_of_repeats_only_has_no_repeat_rate() -> None:
    r = by_code(kpis.report(counters(complaints=3, repeats=3)))["repeat_rate"]
    assert r["denominator"] == 0 and r["value"] is None and r["met"] is None


@pytest.mark.parametrize(
    ("n", "d", "target", "direction", "expected"),
    [
        (9, 10, "0.90", "at_least", True),
        (899, 1000, "0.90", "at_least", False),
        (1, 100, "0.01", "at_most", True),  # exactly 1 %: met
        (101, 10000, "0.01", "at_most", False),
        (3, 100, "0.03", "at_most", True),
        (0, 0, "0.9", "at_least", None),
        (5, 10, None, "at_least", None),
    ],
)
def test_met_compares_exactly_in_the_targets_direction(
    n: int, d: int, target: str | None, direction: Any, expected: bool | None
) -> None:
    assert kpis.met(n, d, target, direction) is expected


def test_fractions_that_floats_round_badly_still_meet_their_target() -> None:
    # 0.1 + 0.2 style: 29 of 290 is exactly 10 %
    assert kpis.met(29, 290, "0.1", "at_most") is True


def test_periods_touch_their_months() -> None:
    from datetime import date

    assert kpis.months(date(2026, 1, 30), date(2026, 3, 1)) == ["2026-01", "2026-02", "2026-03"]
    assert len(kpis.days(date(2024, 1, 1), date(2024, 12, 31))) == 366


# -- CSV -----------------------------------------------------------------------------------------


def _report(departments: list[str] | None = None) -> dict[str, Any]:
    c = counters(complaints=10, replied=10, replied_on_time=9, satisfied=9, repeats=1)
    return {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "kpis": kpis.report(c),
        "departments": [{"department": d, "kpis": kpis.report(c)} for d in departments or []],
    }


def test_the_csv_has_one_row_per_kpi_and_department() -> None:
    text = kpis.to_csv(_report(["network", "crc"]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(kpis.CSV_COLUMNS)
    assert len(rows) == 3 * len(kpis.KPIS)
    first = rows[0]
    assert first["code"] == "reply_rate" and first["department"] == ""
    assert first["value"] == "1.0" and first["met"] == "true" and first["target"] == "1.0"
    assert {r["department"] for r in rows} == {"", "network", "crc"}
    assert text.endswith("\r\n")


def test_the_csv_of_an_empty_period_leaves_values_blank() -> None:
    empty = {"from": "2026-11-01", "to": "2026-11-01", "kpis": kpis.report(counters())}
    rows = list(csv.DictReader(io.StringIO(kpis.to_csv(empty))))
    assert all(r["value"] == "" and r["met"] == "" for r in rows)


def test_csv_cells_never_start_a_formula() -> None:
    report = _report()
    report["kpis"][0] = {**report["kpis"][0], "name": "=HYPERLINK(1)"}
    rows = list(csv.DictReader(io.StringIO(kpis.to_csv(report))))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
    assert rows[1]["numerator"] != "" and not rows[1]["numerator"].startswith("'")


# -- chart ---------------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_is_valid_svg_with_the_departments_and_the_target_lines() -> None:
    svg = render(_report(["network", "billing_support"]))
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    text = " ".join(t.strip() for t in root.itertext() if t.strip())
    assert "network" in text and "billing_support" in text
    assert "target: Complaint satisfaction ≥ 90%" in text
    assert "target: Repeat-complaint rate ≤ 1%" in text
    assert "2026-11-01" in text
    assert root.find(f".//{SVG}script") is None or not any(
        s.get("{http://www.w3.org/1999/xlink}href") for s in root.iter(f"{SVG}script")
    )


def test_the_chart_of_an_empty_period_still_renders() -> None:
    svg = render({"from": "2026-11-01", "to": "2026-11-01", "kpis": [], "departments": []})
    ET.fromstring(svg.encode())


def test_pygal_is_not_imported_with_the_app() -> None:
    import subprocess
    import sys

    code = "import sys, app; print('pygal' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- negotiation and the query -------------------------------------------------------------------

OFFERED = ("application/json", "text/csv")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("text/csv;q=0, */*", "application/json"),
        ("image/png", None),
        ("text/csv;q=oops", None),
        ("application/json;q=0", None),
    ],
)
def test_accept_chooses_the_type(accept: str | None, expected: str | None) -> None:
    assert choose(accept, OFFERED) == expected


def _query(**params: str) -> KpiQuery:
    return parse(KpiQuery, params, catalog=get_catalog())


def _failing_field(**params: str) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        _query(**params)
    return [e.field for e in err.value.errors]


def test_the_query_names_the_failing_field() -> None:
    q = _query(**{"from": "2026-11-01", "to": "2026-11-30", "department": "network"})
    assert (q.start.day, q.end.day, q.department) == (1, 30, "network")
    assert _failing_field(to="2026-11-30") == ["from"]
    assert _failing_field(**{"from": "2026-13-01", "to": "2026-11-30"}) == ["from"]
    assert _failing_field(**{"from": "2026-11-01", "to": "2026-02-30"}) == ["to"]
    assert _failing_field(**{"from": "2026-11-30", "to": "2026-11-01"}) == ["from"]
    assert _failing_field(**{"from": "2025-01-01", "to": "2026-01-02"}) == ["to"]
    assert _failing_field(**{"from": "2026-11-01", "to": "2026-11-30", "category": "nope"}) == [
        "category"
    ]
    assert _failing_field(**{"from": "2026-11-01", "to": "2026-11-30", "channel": "pigeon"}) == [
        "channel"
    ]
    assert _failing_field(**{"from": "2026-11-01", "to": "2026-11-30", "x": "1"}) == ["x"]
    # a leap year's 366 days pass
    _query(**{"from": "2024-01-01", "to": "2024-12-31"})


# -- the infrastructure ----------------------------------------------------------------------------


def test_the_template_subscribes_the_aggregator_to_ticket_events() -> None:
    from infra.resources import load_template

    resources = load_template()["Resources"]
    sub = resources["KpiEventsSubscription"]["Properties"]
    assert sub["TopicArn"] == {"Ref": "TicketEventsTopic"}
    assert sub["Endpoint"] == {"Fn::GetAtt": ["KpiEventsQueue", "Arn"]}
    assert sub["RawMessageDelivery"] is True and "FilterPolicy" not in sub
    queue = resources["KpiEventsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queue["QueueName"] == {"Fn::Sub": "${AWS::StackName}-kpi-events"}
    events = resources["AggregateKpis"]["Properties"]["Events"]
    assert events["AggregateKpisSqsEventSource"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]
    table = resources["KpisTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]


def test_the_queue_name_is_the_apps() -> None:
    import app

    assert app.KPI_EVENTS_QUEUE == "${AWS::StackName}-kpi-events"
    sources = [e for e in app.app.event_sources if getattr(e, "queue", None)]
    assert {e.name for e in sources} >= {"aggregate_kpis"}
