"""Local-only fixes to moto so the local stack and tests behave like the real services.

moto's DynamoDB `transact_write_items` deep-copies whole tables without a lock; concurrent
transactions (the threaded local server, concurrency tests) then crash inside moto with
"dictionary changed size during iteration". DynamoDB serialises conflicting transactions itself,
so serialising them here changes no outcome our code can observe.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.RLock()
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    DynamoDBBackend.transact_write_items = locked  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item"):
        fn = getattr(DynamoDBBackend, name)

        def make(fn: Any) -> Any:
            @functools.wraps(fn)
            def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
                with _lock:
                    return fn(self, *args, **kwargs)

            return wrapped

        setattr(DynamoDBBackend, name, make(fn))
    _applied = True
