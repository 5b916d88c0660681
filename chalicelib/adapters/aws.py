"""boto3 clients, built on first use and cached: nothing connects or loads at import (cold start).

Local runs and tests only set AWS_ENDPOINT_URL; botocore honours it for every service.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_lock = threading.Lock()


@cache
def _client(service: str) -> Any:
    import boto3  # deferred: boto3 costs ~100 ms to import

    with _lock:  # boto3's default session is not thread-safe while it builds clients
        return boto3.session.Session().client(service)  # type: ignore[call-overload]


def sfn() -> SFNClient:
    client: SFNClient = _client("stepfunctions")
    return client


def sns() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def reset() -> None:
    """Forget cached clients (tests that restart the AWS endpoint)."""
    _client.cache_clear()
