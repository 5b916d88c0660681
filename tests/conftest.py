"""Shared fixtures: fake credentials and table names are set before the app is imported."""

from __future__ import annotations

import os

STACK = "complaint-tickets-test"
# Signs the tests' tokens; infra/local_auth.install makes the test client verify them.
TOKEN_SECRET = "test-secret-of-at-least-32-bytes!"
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",  # tests that read metrics turn them on
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from infra.resources import predicted_environment  # noqa: E402

os.environ.update(predicted_environment(STACK))
