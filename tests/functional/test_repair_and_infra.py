"""A failure between two services never strands a ticket; the deployable template is valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from chalicelib.api.edges import GENERATED
from tests.functional.conftest import Api, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_a_ticket_whose_execution_failed_to_start_is_started_by_the_sweep(
    api: Api, client, aws, monkeypatch
) -> None:
    # GIVEN Step Functions is unreachable when the ticket is created
    from chalicelib.adapters.workflow import Workflows

    real_start = Workflows.start

    def broken(self, ticket_id, *args, **kwargs):
        raise ConnectionError("states endpoint unreachable")

    monkeypatch.setattr(Workflows, "start", broken)
    monkeypatch.setenv("WORKFLOW_START_GRACE_SECONDS", "0")
    ticket = api.create()
    # THEN the client still gets its ticket, marked as waiting for its workflow
    assert ticket["workflow"]["status"] == "pending"
    sfn = boto3.client("stepfunctions")
    sm = aws.refs["LifecycleStateMachine"]
    assert sfn.list_executions(stateMachineArn=sm)["executions"] == []
    # WHEN Step Functions is back and the scheduled sweep runs after the grace period
    monkeypatch.setattr(Workflows, "start", real_start)
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    result = client.lambda_.invoke("sweep", event).payload
    # THEN the sweep read only that ticket and started its execution under the ticket's id
    assert result["read"] == 1 and result["repaired"] == 1
    wait_until(
        lambda: api.call("GET", f"/tickets/{ticket['id']}")[1]["workflow"]["status"] == "started"
    )
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=sm)["executions"]]
    assert names == [ticket["id"]]
    # AND the next sweep finds nothing due
    again = client.lambda_.invoke("sweep", event).payload
    assert again["read"] == 0 and again["repaired"] == 0


def _log_lines(emit) -> list[dict]:
    import io

    from chalicelib.logs import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    old = handler.setStream(stream)
    try:
        emit(logger)
    finally:
        handler.setStream(old)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_phone_numbers_are_masked_in_logs() -> None:
    lines = _log_lines(
        lambda log: log.warning(
            "customer 13800138000 called from 0592-5201234", extra={"n": "13912345678"}
        )
    )
    out = json.dumps(lines, ensure_ascii=False)
    assert "138****8000" in out and "139****5678" in out
    assert "13800138000" not in out and "13912345678" not in out and "5201234" not in out


def test_package_writes_a_sam_template_that_cfn_lint_accepts(tmp_path: Path) -> None:
    # a packaging shell that still says AUTH_MODE=local cannot drop the authorizer any more
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AUTH_MODE": "local"}
    bindir = Path(sys.executable).parent
    # as `make package` does: the package ships bytecode, so a cold start compiles nothing
    compile_args = ["-m", "compileall", "-q", "--invalidation-mode", "checked-hash"]
    subprocess.run(
        [sys.executable, *compile_args, "app.py", "chalicelib"],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(
        [
            str(bindir / "chalice"),
            "package",
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "json",
            "--merge-template",
            "infra/template.json",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    template = json.loads((tmp_path / "sam.json").read_text())
    with zipfile.ZipFile(tmp_path / "deployment.zip") as bundle:
        names = set(bundle.namelist())
    assert "chalicelib/domain/__pycache__/values.cpython-311.pyc" in names
    lint = subprocess.run(
        [str(bindir / "cfn-lint"), str(tmp_path / "sam.json")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    resources = template["Resources"]
    # every route app.py declares but /health and /openapi.json is behind the Cognito authorizer
    # of the user pool; the generated preflights and 405s (no data) are not
    from app import app

    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]
    declared = {
        (path, method.lower())
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not getattr(entry.view_function, GENERATED, False)
    }
    public = {("/health", "get"), ("/openapi.json", "get")}
    for path, methods in definition["paths"].items():
        assert "options" in methods, path
        for method, op in methods.items():
            secured = bool(op.get("security"))
            assert secured == ((path, method) in declared - public), (path, method)
    assert declared <= {(p, m) for p, ms in definition["paths"].items() for m in ms}
    # API Gateway's own answers are problem+json with the CORS headers; a missing route is 404
    gateway = definition["x-amazon-apigateway-gateway-responses"]
    assert set(gateway) == {
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    assert gateway["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert gateway["UNAUTHORIZED"]["statusCode"] == "401"
    assert gateway["ACCESS_DENIED"]["statusCode"] == "403"
    for kind, answer in gateway.items():
        params = answer["responseParameters"]
        assert params["gatewayresponse.header.Content-Type"] == "'application/problem+json'", kind
        assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == (
            "method.request.header.origin"
        )
        assert params["gatewayresponse.header.Vary"] == "'Origin'"
        json.loads(answer["responseTemplates"]["application/json"])
    # the CORS origins are a stack parameter feeding the Lambda environment
    assert template["Parameters"]["AllowedOrigins"]["Type"] == "String"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}
    assert "AUTH_MODE" not in variables
    auth = resources["RestAPI"]["Properties"]["DefinitionBody"]["securityDefinitions"]
    assert auth["CognitoAuth"]["x-amazon-apigateway-authorizer"]["providerARNs"] == [
        {"Fn::GetAtt": ["UserPool", "Arn"]}
    ]
    groups = {
        r["Properties"]["GroupName"]
        for r in resources.values()
        if r["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    from chalicelib.domain.vocabulary import ROLES

    assert groups == set(ROLES)
    assert resources["AuditTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True
    sm = resources["LifecycleStateMachine"]["Properties"]
    assert set(sm["DefinitionSubstitutions"]) >= {"TicketsTable", "EventsTable"}
    _check_deployment_settings(template)
    _check_alarms(template)
    _check_access_logs_and_tracing(template)


def _check_access_logs_and_tracing(template: dict) -> None:
    resources = template["Resources"]
    api = resources["RestAPI"]["Properties"]
    # API Gateway's access log names the route template, never the path as requested (which
    # holds service numbers: /customers/{n}/tickets, /blacklist/{n}), nor a query string
    fields = json.loads(api["AccessLogSetting"]["Format"])
    assert fields["route"] == "$context.resourcePath" and fields["status"] == "$context.status"
    assert fields["ip"] == "$context.identity.sourceIp"
    assert not any(
        v in ("$context.path", "$context.requestOverride.path") or "querystring" in v.lower()
        for v in fields.values()
    ), fields
    log_group = api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert resources[log_group]["Properties"]["RetentionInDays"] > 0
    # API Gateway writes to CloudWatch through the account's role, set before the stage is
    assert resources["RestAPI"]["DependsOn"] == ["ApiGatewayAccount"]
    assert api["TracingEnabled"] is True
    functions = [r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all(f["Properties"]["Tracing"] == "Active" for f in functions)
    statements = resources["AppPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any("xray:PutTraceSegments" in s["Action"] for s in statements)


def _check_deployment_settings(template: dict) -> None:
    resources, variables = template["Resources"], template["Globals"]["Function"]["Environment"]
    # users cannot write their department: the client declares what it may write, and that
    # list (declared: left out, Cognito picks a default set) leaves custom:department out
    client = resources["UserPoolClient"]["Properties"]
    assert client["WriteAttributes"] and "custom:department" not in client["WriteAttributes"]
    assert set(client["WriteAttributes"]) <= set(client["ReadAttributes"])
    assert "custom:department" in client["ReadAttributes"]
    [department] = resources["UserPool"]["Properties"]["Schema"]
    assert department["Name"] == "department" and department["Mutable"] is False
    # a newcomer can get a token with `aws cognito-idp initiate-auth --auth-flow USER_PASSWORD_AUTH`
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(
        client["ExplicitAuthFlows"]
    )
    # the deploy's parameter overrides exist and feed the Lambda environment or the alarms
    parameters = template["Parameters"]
    assert {"AllowedOrigins", "SlaPolicy", "AlarmEmail"} <= set(parameters)
    assert variables["Variables"]["SLA_POLICY"] == {"Ref": "SlaPolicy"}
    shipped = sorted(p.stem for p in (ROOT / "chalicelib" / "catalog" / "sla").glob("*.json"))
    assert parameters["SlaPolicy"]["AllowedValues"] == shipped
    assert parameters["SlaPolicy"]["Default"] == "default"
    for name, function in resources.items():
        if function["Type"] == "AWS::Serverless::Function":
            own = function["Properties"].get("Environment", {}).get("Variables", {})
            assert "SLA_POLICY" not in own and "ALLOWED_ORIGINS" not in own, name
    mail = resources["AlarmEmailSubscription"]
    assert mail["Condition"] == "HasAlarmEmail" and mail["Properties"]["Protocol"] == "email"
    assert mail["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert mail["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    # where the API is, once deployed
    api_url = template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert api_url.startswith("https://${RestAPI}.execute-api.") and api_url.endswith("/api")
    assert {"UserPoolId", "UserPoolClientId"} <= set(template["Outputs"])


def _dead_letter_queues(value, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("deadLetterTargetArn", "TargetArn") and "Fn::GetAtt" in inner:
                found.add(inner["Fn::GetAtt"][0])
            _dead_letter_queues(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _dead_letter_queues(inner, found)
    return found


def _check_alarms(template: dict) -> None:
    resources = template["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # every dead-letter queue, whoever sends to it (queues, subscriptions, the sweep), has one
    dlqs = _dead_letter_queues(resources, set())
    assert dlqs == {
        "NotificationsDeadLetterQueue",
        "SweepDeadLetterQueue",
        "TaskTokenDeadLetterQueue",
        "KpiEventsDeadLetterQueue",  # issue 12 (KPIs): the aggregator's queue
    }
    watched = {
        d["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["Namespace"] == "AWS/SQS"
        for d in a["Dimensions"]
        if d["Name"] == "QueueName"
    }
    assert dlqs <= watched
    assert all(resources[q]["Type"] == "AWS::SQS::Queue" for q in dlqs)
    metrics = {(a["Namespace"], a["MetricName"]): a for a in alarms}
    failed = metrics[("AWS/States", "ExecutionsFailed")]
    assert failed["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "LifecycleStateMachine"}}
    ]
    assert {("complaint-tickets", "Breaches"), ("complaint-tickets", "TicketsSetAside")} <= set(
        metrics
    )


@pytest.mark.parametrize("table", ["AuditTable", "IdempotencyTable"])
def test_local_stack_tables_have_ttl(aws, table) -> None:
    ddb = boto3.client("dynamodb")
    ttl = ddb.describe_time_to_live(TableName=aws.refs[table])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expiresAt"


def test_logging_is_json() -> None:
    [record] = _log_lines(lambda log: log.warning("hello", extra={"ticketId": "T1"}))
    assert record["message"] == "hello" and record["ticketId"] == "T1"
    assert record["level"] == "WARNING" and record["service"] == "complaint-tickets"
