"""One bounded retry for optimistic writes: read, decide, write conditionally; when the item moved
on meanwhile, read again and decide again — a few times, with backoff, then give up clearly."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until_settled(
    attempt: Callable[[], T | None],
    *,
    attempts: int,
    sleep: Callable[[float], None],
    give_up: Callable[[], T],
    backoff: float = 0.01,
) -> T:
    """Call `attempt` until it returns something other than None (at most `attempts` times,
    sleeping `backoff`·2ⁿ between tries); then return `give_up()` (which may raise instead)."""
    for n in range(attempts):
        result = attempt()
        if result is not None:
            return result
        if n + 1 < attempts:
            sleep(backoff * 2**n)
    return give_up()
