"""Generate infra/template.json from the hand-written infra/template.base.json.

The base holds everything written once; each entry whose logical id starts with `//` is a
marker replaced, in place, by resources generated from data:

- `//inboxes`: per department of chalicelib/catalog/departments.json (plus `operators`,
  `leaders` and `intake`) an SQS inbox and its SNS subscription to the department topic
  (filter policy on `department`; leaders on `level >= 3`), then one queue policy letting the
  topic send to them;
- `//groups`: one Cognito group per role of chalicelib/domain/vocabulary.py ROLES;
- `//alarms`: one CloudWatch alarm per dead-letter queue the template declares;

and the `SlaPolicy` parameter's AllowedValues are the policies in chalicelib/catalog/sla/.

    python -m infra.template --write   # rewrite infra/template.json (make template)
    python -m infra.template --check   # exit 1 if the committed file differs (a test does too)

The generated file stays committed: `chalice package`, the local stack and cfn-lint read it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "infra" / "template.base.json"
TEMPLATE = ROOT / "infra" / "template.json"
DEPARTMENTS = ROOT / "chalicelib" / "catalog" / "departments.json"
SLA_POLICIES = ROOT / "chalicelib" / "catalog" / "sla"

# Inboxes that are not departments: the operators (set-aside tickets, failures) and the
# leaders (every notice at ladder level 3 or above, whatever the department); issue 11: the
# intake desks (`department: intake`: bulletins), which every desk application reads.
EXTRA_INBOXES = ("operators", "leaders", "intake")
LEADERS_MIN_LEVEL = 3
DEAD_LETTERS = "NotificationsDeadLetterQueue"
TOPIC = "DepartmentNotificationsTopic"
ALARM_TOPIC = "AlarmTopic"


def logical_name(code: str) -> str:
    """`billing_support` → `BillingSupport` (infra/local.py's inbox command relies on it)."""
    return "".join(word.capitalize() for word in code.split("_"))


def departments() -> list[str]:
    return [d["code"] for d in json.loads(DEPARTMENTS.read_text())]


def roles() -> tuple[str, ...]:
    from chalicelib.domain.vocabulary import ROLES

    return ROLES


def _dead_letter_target() -> dict[str, Any]:
    return {"deadLetterTargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}}


def inboxes(codes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = [*codes, *EXTRA_INBOXES]
    for code in names:
        inbox = f"{logical_name(code)}Inbox"
        out[inbox] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": f"${{AWS::StackName}}-inbox-{code.replace('_', '-')}"},
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {**_dead_letter_target(), "maxReceiveCount": 10},
            },
        }
        if code == "leaders":
            policy: dict[str, Any] = {"level": [{"numeric": [">=", LEADERS_MIN_LEVEL]}]}
        else:
            policy = {"department": [code]}
        out[f"{logical_name(code)}Subscription"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": TOPIC},
                "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": [inbox, "Arn"]},
                "FilterPolicy": policy,
                "FilterPolicyScope": "MessageAttributes",
                "RawMessageDelivery": True,
                "RedrivePolicy": _dead_letter_target(),
            },
        }
    out["InboxesPolicy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": f"{logical_name(c)}Inbox"} for c in names] + [{"Ref": DEAD_LETTERS}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": "*",
                        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": TOPIC}}},
                    }
                ],
            },
        },
    }
    return out


def groups(names: tuple[str, ...]) -> dict[str, Any]:
    return {
        f"{logical_name(role)}Group": {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "GroupName": role,
                "Description": f"API role {role}",
            },
        }
        for role in names
    }


def dead_letter_queues(resources: dict[str, Any]) -> list[str]:
    """Every queue some queue, subscription or function sends its failures to, in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("deadLetterTargetArn", "TargetArn") and isinstance(inner, dict):
                    target = inner.get("Fn::GetAtt", [None])[0]
                    if target in resources and target not in found:
                        found.append(target)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(resources)
    return [q for q in resources if q in found]


def alarms(resources: dict[str, Any]) -> dict[str, Any]:
    """A message in any dead-letter queue is a failure someone must look at."""
    return {
        f"{queue}Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": {
                    "Fn::Sub": f"${{AWS::StackName}}: messages in the dead-letter queue {queue}"
                },
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
                ],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": ALARM_TOPIC}],
            },
        }
        for queue in dead_letter_queues(resources)
    }


def generate() -> dict[str, Any]:
    base = json.loads(BASE.read_text())
    template = copy.deepcopy(base)
    generated = {
        "//inboxes": inboxes(departments()),
        "//groups": groups(roles()),
    }
    resources: dict[str, Any] = {}
    for logical, value in base["Resources"].items():
        if logical == "//alarms":
            resources[logical] = value  # filled below, once every queue is known
        elif logical.startswith("//"):
            if logical not in generated:
                raise KeyError(f"unknown marker {logical} in {BASE.name}")
            resources.update(generated[logical])
        else:
            resources[logical] = value
    made = alarms(resources)
    template["Resources"] = {
        name: body
        for logical, value in resources.items()
        for name, body in (made.items() if logical == "//alarms" else [(logical, value)])
    }
    sla = template["Parameters"].get("SlaPolicy")
    if sla is not None:
        sla["AllowedValues"] = sorted(p.stem for p in SLA_POLICIES.glob("*.json"))
    return template


def render(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite infra/template.json")
    mode.add_argument("--check", action="store_true", help="fail if infra/template.json drifted")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.write:
        TEMPLATE.write_text(text)
        return 0
    if TEMPLATE.read_text() != text:
        print(
            "infra/template.json differs from what infra/template.py generates: "
            "run `make template` (python -m infra.template --write)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
