"""Stand up what infra/template.json declares on an AWS endpoint (moto), from that one file.

moto's CloudFormation ignores TTL and DefinitionSubstitutions and hides state machines from
execution, so this creates each resource with plain API calls instead, resolving the few
intrinsic functions the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::Join). Resources that only
make sense on AWS (IAM, Cognito, log groups, the Chalice-generated API; CloudWatch alarms are not
created either) are skipped, and so are resources whose Condition is false.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.json"
ACCOUNT = "123456789012"
FAKE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/complaint-tickets-local"
SKIPPED = ("AWS::IAM::", "AWS::Cognito::", "AWS::Logs::", "AWS::Lambda::")


class Stack:
    """Resolved names and ARNs of the created resources, by logical id."""

    def __init__(
        self,
        name: str,
        region: str,
        template: dict[str, Any],
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.region = region
        self.template = template
        # Stack parameters: the template's defaults, overridden by what the caller passes.
        self.parameters = {
            k: str(v["Default"])
            for k, v in template.get("Parameters", {}).items()
            if "Default" in v
        }
        self.parameters.update(parameters or {})
        self.refs: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.attrs: dict[tuple[str, str], str] = {}

    # -- intrinsic functions -----------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self.attrs[(arg[0], arg[1])]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::StackName": self.name,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def repl(m: re.Match[str]) -> str:
            token = m.group(1)
            if token in variables:
                return str(self.resolve(variables[token]))
            if "." in token and not token.startswith("AWS::"):
                logical, attr = token.split(".", 1)
                return self.attrs[(logical, attr)]
            return self._ref(token)

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def condition(self, name: str) -> bool:
        """A template condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) under the
        stack's parameters, as CloudFormation evaluates it."""
        return self._holds(self.template.get("Conditions", {})[name])

    def _holds(self, value: Any) -> bool:
        ((key, arg),) = value.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            return bool(self.resolve(arg[0]) == self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self._holds(arg[0])
        if key == "Fn::And":
            return all(self._holds(v) for v in arg)
        if key == "Fn::Or":
            return any(self._holds(v) for v in arg)
        raise ValueError(f"unsupported condition {key}")

    def environment(self) -> dict[str, str]:
        variables = self.template["Globals"]["Function"]["Environment"]["Variables"]
        return {k: self._dynamic(str(self.resolve(v))) for k, v in variables.items()}

    def _dynamic(self, value: str) -> str:
        """CloudFormation resolves `{{resolve:secretsmanager:ARN:SecretString}}` at deploy time;
        here it is the secret this stack generated."""
        return re.sub(
            r"\{\{resolve:secretsmanager:(.+?):SecretString\}\}",
            lambda m: self.secrets.get(m.group(1), m.group(0)),
            value,
        )


def predicted_environment(stack_name: str, region: str = "us-east-1") -> dict[str, str]:
    """The table names a stack will have, before it exists (pynamodb reads them at import)."""
    template = load_template()
    stack = Stack(stack_name, region, template)
    env: dict[str, str] = {}
    for key, value in template["Globals"]["Function"]["Environment"]["Variables"].items():
        if isinstance(value, dict) and value.get("Ref") in template["Resources"]:
            res = template["Resources"][value["Ref"]]
            if res["Type"] == "AWS::DynamoDB::Table":
                env[key] = stack.resolve(res["Properties"]["TableName"])
    return env


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def create_all(
    session: Any,
    stack_name: str,
    template: dict[str, Any] | None = None,
    app: Any = None,
    parameters: dict[str, str] | None = None,
) -> Stack:
    """Create every supported resource in dependency order; returns the resolved stack.
    With `app`, its Lambda functions are registered in moto too (infra/lambdas.py);
    `parameters` are the stack parameters (e.g. AllowedOrigins, SlaPolicy), else the template's
    defaults."""
    template = template or load_template()
    region = session.region_name
    stack = Stack(stack_name, region, template, parameters)
    resources = template["Resources"]
    by_type: dict[str, list[str]] = {}
    for logical, res in resources.items():
        kind = res.get("Type")
        if kind is None or kind.startswith(SKIPPED):
            continue
        if "Condition" in res and not stack.condition(res["Condition"]):
            continue  # e.g. the alarm e-mail subscription when no AlarmEmail is given
        by_type.setdefault(kind, []).append(logical)
    ddb = session.client("dynamodb")
    sns = session.client("sns")
    sqs = session.client("sqs")
    sfn = session.client("stepfunctions")
    for logical in by_type.get("AWS::DynamoDB::Table", []):
        _table(ddb, stack, logical, resources[logical]["Properties"])
    for logical in by_type.get("AWS::SecretsManager::Secret", []):
        value = secrets.token_urlsafe(36)
        arn = session.client("secretsmanager").create_secret(
            Name=f"{stack.name}-{logical}", SecretString=value
        )["ARN"]
        stack.refs[logical], stack.secrets[arn] = arn, value
    queues = by_type.get("AWS::SQS::Queue", [])
    # dead-letter queues first: other queues' redrive policies point at them
    queues.sort(key=lambda q: "RedrivePolicy" in resources[q].get("Properties", {}))
    for logical in queues:
        _queue(sqs, stack, logical, resources[logical].get("Properties", {}))
    for logical in by_type.get("AWS::SNS::Topic", []):
        props = stack.resolve(resources[logical]["Properties"])
        arn = sns.create_topic(Name=props["TopicName"])["TopicArn"]
        stack.refs[logical] = arn
        stack.attrs[(logical, "TopicArn")] = arn
        stack.attrs[(logical, "TopicName")] = props["TopicName"]
    for logical in by_type.get("AWS::SNS::Subscription", []):
        props = stack.resolve(resources[logical]["Properties"])
        attrs = {}
        if "FilterPolicy" in props:
            attrs["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if props.get("RawMessageDelivery"):
            attrs["RawMessageDelivery"] = "true"
        for key in ("FilterPolicyScope",):
            if key in props:
                attrs[key] = props[key]
        if "RedrivePolicy" in props:
            attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sub = sns.subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attrs,
            ReturnSubscriptionArn=True,
        )
        stack.refs[logical] = sub["SubscriptionArn"]
    if app is not None:
        from infra.lambdas import register

        register(session, stack, app)
    for logical in by_type.get("AWS::Serverless::StateMachine", []):
        _state_machine(sfn, stack, logical, resources[logical]["Properties"])
    return stack


def _table(ddb: Any, stack: Stack, logical: str, raw: dict[str, Any]) -> None:
    props = stack.resolve(raw)
    args = {
        k: props[k]
        for k in (
            "TableName",
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "GlobalSecondaryIndexes",
        )
        if k in props
    }
    desc = ddb.create_table(**args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
    stack.refs[logical] = props["TableName"]
    stack.attrs[(logical, "Arn")] = desc["TableArn"]


def _queue(sqs: Any, stack: Stack, logical: str, raw: dict[str, Any]) -> None:
    props = stack.resolve(raw)
    attributes = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds"):
        if key in props:
            attributes[key] = str(props[key])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.refs[logical] = url
    stack.attrs[(logical, "Arn")] = arn
    stack.attrs[(logical, "QueueName")] = props["QueueName"]
    stack.attrs[(logical, "QueueUrl")] = url


def _state_machine(sfn: Any, stack: Stack, logical: str, raw: dict[str, Any]) -> None:
    name = stack.resolve(raw["Name"])
    definition = (ROOT / "infra" / raw["DefinitionUri"]).resolve().read_text()
    substitutions = {
        k: str(stack.resolve(v)) for k, v in raw.get("DefinitionSubstitutions", {}).items()
    }
    definition = substitute(definition, substitutions)
    arn = sfn.create_state_machine(name=name, definition=definition, roleArn=FAKE_ROLE)[
        "stateMachineArn"
    ]
    stack.refs[logical] = arn
    stack.attrs[(logical, "Arn")] = arn
    stack.attrs[(logical, "Name")] = name


def substitute(definition: str, values: dict[str, str]) -> str:
    """What DefinitionSubstitutions does on AWS: replace ${Name}; unknown names are an error."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise KeyError(f"state machine placeholder ${{{m.group(1)}}} has no substitution")
        return values[m.group(1)]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", repl, definition)
