"""The README's intake tours (a repeat, a suggestion; a fault bulletin answering a complaint), over
HTTP, against the local stack."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Stack


def _new(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    created = stack.call("POST", "/tickets", body=body)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _complaint(number: str, name: str, description: str) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "channel": "hotline",
        "serviceNumber": number,
        "complainant": {"name": name, "contactNumber": number},
        "phenomenon": "voice_coverage",
        "description": description,
    }


def _suggestion(number: str, name: str, description: str) -> dict[str, Any]:
    return {
        "kind": "suggestion",
        "channel": "hotline",
        "serviceNumber": number,
        "complainant": {"name": name, "contactNumber": number},
        "description": description,
    }


def test_the_readme_repeat_tour(stack: Stack) -> None:
    first = _new(stack, _complaint("13700001111", "王五", "家里信号差，通话断断续续"))
    again = _new(stack, _complaint("13700001111", "王五", "还是没信号，催一下"))
    assert again["repeatOf"] == first["id"] and again["repeat"] is True
    assert again["priority"] == "high" and again["repeatDecision"] == "progress_answer"
    assert again["status"] == "answered"
    screen = stack.call("GET", "/customers/13700001111/tickets?phenomenon=voice_coverage")
    assert screen.status_code == 200 and screen.json()["wouldRepeatOf"] == first["id"]


def test_the_readme_suggestion_tour(stack: Stack) -> None:
    first = _new(stack, _suggestion("13700002222", "赵六", "建议营业厅周末延长营业时间"))
    again = _new(stack, _suggestion("13700003333", "钱七", "建议营业厅周末延长营业时间！"))
    assert first["status"] == again["status"] == "archived"
    assert again["repeatOf"] == first["id"] and again["repeatRule"] == "same_text"
    assert stack.call("GET", f"/tickets/{first['id']}").json()["count"] == 2


def test_the_readme_bulletin_tour(stack: Stack) -> None:
    """Publish a bulletin, file a matching complaint, see it answered; extend, then close it."""
    network = {"role": "department", "department": "network"}
    published = stack.call(
        "POST",
        "/bulletins",
        body={
            "type": "fault",
            "title": "集美区部分基站故障",
            "areas": ["集美区"],
            "phenomena": ["voice_coverage"],
            "startsAt": datetime.now(UTC).isoformat(),
            "script": "您好，集美区部分基站正在抢修，预计今晚恢复，给您带来不便敬请谅解。",
        },
        **network,
    )
    assert published.status_code == 201, published.text
    bulletin = published.json()
    assert bulletin["status"] == "active"
    inbox = subprocess.run(
        [sys.executable, "-m", "infra.local", "inbox", "intake"],
        env={**os.environ, "LOCAL_STATE_DIR": str(stack.state_dir)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"eventType": "bulletin"' in inbox and bulletin["id"] in inbox
    body = {
        **_complaint("13700004444", "孙八", "手机突然没信号了"),
        "location": {"area": "集美区"},
    }
    answered = _new(stack, body)
    assert answered["status"] == "answered" and answered["step"] == "reply"
    assert answered["bulletinId"] == bulletin["id"]
    assert answered["answerScript"] == bulletin["script"]
    listed = stack.call("GET", "/bulletins?active=true&area=%E9%9B%86%E7%BE%8E%E5%8C%BA")
    assert listed.status_code == 200
    assert bulletin["id"] in [b["id"] for b in listed.json()["items"]]
    later = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
    amended = stack.call(
        "PATCH",
        f"/bulletins/{bulletin['id']}",
        body={"endsAt": later, "script": "抢修延长至明早，敬请谅解。"},
        **network,
    )
    assert amended.status_code == 200 and amended.json()["history"][-1]["action"] == "amend"
    closed = stack.call(
        "POST", f"/bulletins/{bulletin['id']}/close", body={"reason": "故障已恢复"}, **network
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    after = _new(
        stack,
        {
            **body,
            "serviceNumber": "13700005555",
            "complainant": {"name": "周九", "contactNumber": "13700005555"},
        },
    )
    assert after["status"] == "accepted" and "bulletinId" not in after
