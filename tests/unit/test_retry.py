"""The one bounded retry every optimistic write uses (domain/retry.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain.retry import until_settled


def test_it_returns_the_first_settled_result_sleeping_with_backoff_between_tries() -> None:
    answers = iter([None, None, "done", "never asked"])
    slept: list[float] = []
    result = until_settled(
        lambda: next(answers), attempts=5, sleep=slept.append, give_up=lambda: "gave up"
    )
    assert result == "done"
    assert slept == [0.01, 0.02]


def test_after_the_last_try_it_gives_up_without_sleeping_again() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def attempt() -> None:
        calls.append(1)

    assert until_settled(attempt, attempts=3, sleep=slept.append, give_up=lambda: "x") == "x"
    assert len(calls) == 3 and len(slept) == 2


def test_giving_up_may_raise() -> None:
    def give_up() -> str:
        raise RuntimeError("kept changing")

    with pytest.raises(RuntimeError, match="kept changing"):
        until_settled(lambda: None, attempts=2, sleep=lambda s: None, give_up=give_up)
