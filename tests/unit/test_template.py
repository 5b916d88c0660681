"""infra/template.json is generated (infra/template.py) and cannot drift from its sources."""

from __future__ import annotations

import json

from chalicelib.domain.vocabulary import ROLES
from infra import template

REGENERATE = "run `make template` (python -m infra.template --write)"


def test_the_committed_template_is_what_the_generator_produces() -> None:
    assert template.TEMPLATE.read_text() == template.render(template.generate()), REGENERATE


def test_check_mode_reports_drift(tmp_path, monkeypatch, capsys) -> None:
    stale = tmp_path / "template.json"
    stale.write_text(template.TEMPLATE.read_text().replace('"GroupName": "auditor"', '"x": 1'))
    monkeypatch.setattr(template, "TEMPLATE", stale)
    assert template.main(["--check"]) == 1
    assert "make template" in capsys.readouterr().err
    assert template.main(["--write"]) == 0 and template.main(["--check"]) == 0


def test_every_department_has_an_inbox_filtered_on_its_code() -> None:
    resources = template.generate()["Resources"]
    codes = [d["code"] for d in json.loads(template.DEPARTMENTS.read_text())]
    assert len(codes) == 16
    for code in codes:
        name = template.logical_name(code)
        sub = resources[f"{name}Subscription"]["Properties"]
        assert sub["FilterPolicy"] == {"department": [code]}
        assert sub["Endpoint"] == {"Fn::GetAtt": [f"{name}Inbox", "Arn"]}
        assert resources[f"{name}Inbox"]["Type"] == "AWS::SQS::Queue"
        assert {"Ref": f"{name}Inbox"} in resources["InboxesPolicy"]["Properties"]["Queues"]
    leaders = resources["LeadersSubscription"]["Properties"]["FilterPolicy"]
    assert leaders == {"level": [{"numeric": [">=", 3]}]}
    assert resources["OperatorsSubscription"]["Properties"]["FilterPolicy"] == {
        "department": ["operators"]
    }


def test_one_group_per_role_and_no_marker_left() -> None:
    resources = template.generate()["Resources"]
    groups = {
        r["Properties"]["GroupName"]
        for r in resources.values()
        if r.get("Type") == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == set(ROLES)
    assert not [k for k in resources if k.startswith("//")]


def test_the_local_stack_skips_the_alarm_mail_unless_an_address_is_given() -> None:
    from infra.resources import Stack

    generated = template.generate()
    assert Stack("s", "us-east-1", generated).condition("HasAlarmEmail") is False
    given = Stack("s", "us-east-1", generated, {"AlarmEmail": "ops@example.com"})
    assert given.condition("HasAlarmEmail") is True
