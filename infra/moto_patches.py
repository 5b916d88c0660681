"""Local-only fixes to moto so the local stack and tests behave like the real services.

moto's DynamoDB backend reads and writes its tables without a lock (`transact_write_items`
deep-copies whole tables): concurrent calls — the threaded local server, executions running on
moto's threads beside the API, concurrency tests — crash inside moto with "dictionary changed
size during iteration". DynamoDB isolates each call itself, so serialising the backend's calls
here changes no outcome our code can observe.
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
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    # The whole call — the backend's work and the response built from live items — under one
    # lock: moto's `update_item` changes items in place while another thread may serialise them.
    @functools.wraps(original)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    DynamoHandler.call_action = locked  # type: ignore[method-assign]
    _applied = True
