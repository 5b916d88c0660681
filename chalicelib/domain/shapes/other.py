"""The bodies of `POST /catalog/classify` and `PUT /blacklist/{n}`."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from .base import (
    Shape,
    _text,
)

# -- other bodies ----------------------------------------------------------------------------


class ClassifyBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "收到很多垃圾短信", "limit": 3}]}
    )

    text: _text(2000, "A customer's words.", "收到很多垃圾短信")
    limit: Annotated[int, Field(ge=1, le=10, description="How many suggestions, 1 to 10.")] = 5


class BlacklistBody(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "多次恶意投诉"}]})

    reason: _text(500, example="多次恶意投诉")
