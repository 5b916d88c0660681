"""Metrics and traces of the Lambdas: CloudWatch metrics as EMF lines on stdout (Powertools
Metrics; no API call) and X-Ray subsegments (Powertools Tracer).

Both load on first use, never at import. The tracer exists only where tracing is on (a Lambda
with active tracing, `POWERTOOLS_TRACE_DISABLED` not set): loading the X-Ray SDK is the one cost
tracing adds to a cold start, and nothing else pays it. `POWERTOOLS_METRICS_DISABLED=true`
silences metrics (the test suite and the local stack set it; `POWERTOOLS_METRICS_DISABLED=false
make run` prints them as CloudWatch would read them).

Metric names are the ones the stack's alarms watch (infra/template.base.json): namespace
`complaint-tickets`, dimension `service=complaint-tickets`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

NAMESPACE = "complaint-tickets"
SERVICE = "complaint-tickets"

# The sweep's outcomes (services/sweep.OUTCOMES) as metric names.
SWEEP_METRICS = {
    "read": "SweepTicketsRead",
    "sent": "SweepNoticesSent",
    "breached": "Breaches",
    "repaired": "WorkflowsRepaired",
    "stale": "SweepStaleReads",
    "failed": "SweepFailures",
}

F = TypeVar("F", bound=Callable[..., Any])


def count(name: str, value: float = 1) -> None:
    counts({name: value})


def counts(values: Mapping[str, float]) -> None:
    """Emit the counts as one EMF record (zeros too: an alarm then sees data, not a gap)."""
    if not values:
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()


def sweep_outcomes(result: Mapping[str, int]) -> None:
    counts({metric: result.get(outcome, 0) for outcome, metric in SWEEP_METRICS.items()})


def tracing_on() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


@functools.cache
def tracer() -> Any:
    """The Powertools Tracer, boto calls patched (one subsegment per AWS call); None when off."""
    if not tracing_on():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, auto_patch=False, patch_modules=["botocore"])


def traced(func: F) -> F:
    """A subsegment around each call of `func` (named after it, with its error if it raises);
    just the call when tracing is off."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = tracer()
        if t is None:
            return func(*args, **kwargs)
        return t.capture_method(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
