"""Metrics as EMF under the names the stack's alarms watch, and tracing that costs nothing
where it is off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib import telemetry

TEMPLATE = Path(__file__).parents[2] / "infra" / "template.json"


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    return read


def _values(records: list[dict[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for r in records:
        [directive] = r["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == telemetry.NAMESPACE
        assert directive["Dimensions"] == [["service"]] and r["service"] == telemetry.SERVICE
        for m in directive["Metrics"]:
            assert m["Unit"] == "Count"
            value = r[m["Name"]]  # one value, or a list of values
            found[m["Name"]] = found.get(m["Name"], 0) + sum(
                value if isinstance(value, list) else [value]
            )
    return found


def test_sweep_outcomes_are_one_emf_record_zeros_included(emitted: Any) -> None:
    telemetry.sweep_outcomes({"read": 7, "sent": 5, "breached": 2, "failed": 0})
    records = emitted()
    assert len(records) == 1
    values = _values(records)
    assert values["Breaches"] == 2 and values["SweepNoticesSent"] == 5
    assert values["SweepFailures"] == 0 and values["SweepTicketsRead"] == 7


def test_metrics_are_silent_when_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    telemetry.count("TicketsCreated")
    assert capsys.readouterr().out == ""


def test_every_custom_metric_an_alarm_watches_is_one_the_code_emits() -> None:
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    alarms = [
        r["Properties"]
        for r in resources.values()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == telemetry.NAMESPACE
    ]
    assert alarms
    emitted_names = {*telemetry.SWEEP_METRICS.values(), "TicketsSetAside"}
    for alarm in alarms:
        assert alarm["MetricName"] in emitted_names, alarm["MetricName"]
        assert alarm["Dimensions"] == [{"Name": "service", "Value": telemetry.SERVICE}]


def test_tracing_is_off_outside_lambda_and_costs_no_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    telemetry.tracer.cache_clear()
    calls: list[int] = []

    @telemetry.traced
    def work(x: int) -> int:
        calls.append(x)
        return x * 2

    assert work(21) == 42 and calls == [21]
    assert telemetry.tracer() is None
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "complaint-tickets-dev")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    telemetry.tracer.cache_clear()
    assert telemetry.tracer() is None
    telemetry.tracer.cache_clear()


def test_on_lambda_with_tracing_each_call_is_a_subsegment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "complaint-tickets-dev")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    telemetry.tracer.cache_clear()
    try:
        tracer = telemetry.tracer()
        assert tracer is not None
        opened: list[str] = []
        real = tracer.provider.in_subsegment

        def in_subsegment(name: str, **kw: Any) -> Any:
            opened.append(name)
            return real(name, **kw)

        monkeypatch.setattr(tracer.provider, "in_subsegment", in_subsegment)
        tracer.provider.begin_segment("test")  # Lambda opens the segment on AWS

        @telemetry.traced
        def sweep_once() -> str:
            return "done"

        assert sweep_once() == "done"
        tracer.provider.end_segment()
        assert len(opened) == 1 and opened[0].startswith("## ") and opened[0].endswith("sweep_once")
    finally:
        telemetry.tracer.cache_clear()
