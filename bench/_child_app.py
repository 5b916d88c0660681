"""Cold start child: import the app and serve ONE `POST /tickets`, as a fresh Lambda would.

Run by bench/cold_start.py as `python bench/_child_app.py` with the stack's environment, the
bearer token in BENCH_TOKEN, its verified claims in BENCH_CLAIMS and the body in BENCH_BODY. The
handler is called with an API Gateway REST proxy event carrying the claims as the Cognito
authorizer does, exactly as the Lambda runtime calls it. Prints one JSON line of timings.
Only the standard library is imported before the app, so the timings are the app's.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the Lambda's /var/task


def proxy_event(body: str, token: str, claims: dict[str, object]) -> dict[str, object]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Host": "bench.execute-api.us-east-1.amazonaws.com",
    }
    return {
        "resource": "/tickets",
        "path": "/tickets",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/tickets",
            "httpMethod": "POST",
            "path": "/api/tickets",
            "stage": "api",
            "requestId": "bench-cold-start",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": claims},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="complaint-tickets-dev",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:complaint-tickets-dev",
        memory_limit_in_mb=512,
        aws_request_id="bench-cold-start",
        log_group_name="/aws/lambda/complaint-tickets-dev",
        log_stream_name="bench",
        get_remaining_time_in_millis=lambda: 30_000,
    )


def main() -> None:
    claims = json.loads(os.environ["BENCH_CLAIMS"])
    event = proxy_event(os.environ["BENCH_BODY"], os.environ["BENCH_TOKEN"], claims)
    t_start = time.perf_counter()
    from app import app

    t_imported = time.perf_counter()
    print("bench-phase: first request", file=sys.stderr, flush=True)  # splits -X importtime
    profile_to = os.environ.get("BENCH_PROFILE")  # information runs only: cProfile the request
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        response = profiler.runcall(app, event, lambda_context())
        profiler.dump_stats(profile_to)
    else:
        response = app(event, lambda_context())
    t_done = time.perf_counter()
    body = json.loads(response.get("body") or "null")
    print(
        json.dumps(
            {
                "status": response["statusCode"],
                "ticketId": body.get("id") if isinstance(body, dict) else None,
                "detail": None if response["statusCode"] == 201 else body,
                "inside": t_done - T0,
                "import": t_imported - t_start,
                "request": t_done - t_imported,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
