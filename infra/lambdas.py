"""Local-only: the app's Lambda functions on moto, run in-process instead of in Docker.

moto runs Lambda code only through Docker, which this machine lacks. The state machine's Lambda
task (`escalate_step`) and the task-token queue's event source (`handle_task_token`) must still
run our real handlers, so each Chalice function is registered in moto under the logical id that
`chalice package` gives it, and `LambdaFunction._invoke_lambda` is replaced by a call into the
imported app. Same handlers, same events as on AWS; only the transport differs.
"""

from __future__ import annotations

import io
import json
import threading
import traceback
import zipfile
from typing import Any

from chalice.utils import to_cfn_resource_name

from infra.resources import ACCOUNT, Stack

_installed = False
_lock = threading.Lock()
ROLE_NAME = "complaint-tickets-local-lambda"


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "# the real code runs in-process (infra/lambdas.py)\n")
    return buf.getvalue()


def register(session: Any, stack: Stack, app: Any) -> dict[str, str]:
    """Create a moto function per Chalice Lambda and the SQS event-source mappings.
    Call before the state machines are created (they reference the functions' ARNs)."""
    install_hook()
    iam = session.client("iam")
    lam = session.client("lambda")
    try:
        role = iam.create_role(
            RoleName=ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
    names: dict[str, str] = {}
    handlers = [(f.name, None) for f in app.pure_lambda_functions]
    handlers += [(e.name, e) for e in app.event_sources if hasattr(e, "queue")]
    for name, source in handlers:
        fn = lam.create_function(
            FunctionName=f"{stack.name}-{name}",
            Runtime="python3.11",
            Role=role,
            Handler=f"app.{name}",
            Code={"ZipFile": _dummy_zip()},
            Timeout=60,
        )
        logical = to_cfn_resource_name(name)
        stack.refs[logical] = fn["FunctionName"]
        stack.attrs[(logical, "Arn")] = fn["FunctionArn"]
        names[fn["FunctionName"]] = name
        if source is not None:
            queue_name = stack._sub(source.queue)
            queue_arn = next(
                arn
                for (lid, attr), arn in stack.attrs.items()
                if attr == "Arn" and stack.attrs.get((lid, "QueueName")) == queue_name
            )
            lam.create_event_source_mapping(
                EventSourceArn=queue_arn,
                FunctionName=fn["FunctionArn"],
                BatchSize=source.batch_size,
            )
    _FUNCTIONS.update(names)
    return names


_FUNCTIONS: dict[str, str] = {}


class _Context:
    function_name = "local"
    aws_request_id = "local"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def install_hook() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from moto.awslambda.models import LambdaFunction

        def invoke(self: Any, event: Any = None) -> tuple[str, bool, str]:
            import app as app_module

            name = _FUNCTIONS.get(self.function_name)
            if name is None:
                return json.dumps({"errorMessage": f"unknown {self.function_name}"}), True, ""
            payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
            try:
                result = getattr(app_module, name)(payload, _Context())
            except Exception as err:
                return (
                    json.dumps({"errorMessage": str(err), "errorType": type(err).__name__}),
                    True,
                    traceback.format_exc(),
                )
            # issue 12 (KPIs): a partial batch response (ReportBatchItemFailures) names the
            # messages to redeliver. moto hands one message per invocation, so a named failure
            # fails the invocation: moto makes that message visible again, and the queue's
            # redrive policy sends it to the dead-letter queue after its receives, as on AWS.
            if isinstance(result, dict) and result.get("batchItemFailures"):
                return json.dumps(result), True, "batchItemFailures"
            return json.dumps(result if result is not None else {}), False, ""

        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]
        _installed = True
