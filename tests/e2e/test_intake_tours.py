"""The README's intake tour (a repeat, a suggestion), over HTTP, against the local stack."""

from __future__ import annotations

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
