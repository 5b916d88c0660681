"""boto3 clients, built on first use and cached: nothing connects or loads at import (cold start).

Local runs and tests only set AWS_ENDPOINT_URL; botocore honours it for every service. boto3
itself is never imported on the request path: botocore clients are all the app needs.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_lock = threading.Lock()


@cache
def _client(service: str) -> Any:
    """A client from the same botocore session pynamodb uses: one session per process (thread)
    loads endpoint and model data once, which is most of a cold start's AWS set-up."""
    from .query import connection

    with _lock:  # botocore sessions are not thread-safe while they build clients
        return connection().session.create_client(service)


@cache
def dynamodb() -> DynamoDBClient:
    """For the few raw calls pynamodb cannot express (a BatchGetItem across tables, conditions
    on a value of any type): the very client of pynamodb's transaction connection, so the
    create path builds one DynamoDB client, not two."""
    from .query import connection

    with _lock:
        client: DynamoDBClient = connection().client  # type: ignore[assignment]
    return client


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
    dynamodb.cache_clear()
