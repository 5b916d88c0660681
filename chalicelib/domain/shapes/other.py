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


# -- issue 11: incidents ------------------------------------------------------------------------


class ResolveIncidentBody(Shape):
    """`POST /incidents/{id}/resolve`: what was found and done, and what the desk tells each
    customer when it replies."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cause": "cable_theft",
                    "result": "思明区基站故障已修复",
                    "script": "您好，您反映的信号问题是基站故障所致，现已修复。",
                }
            ]
        }
    )

    cause: _text(500, "A cause code of the incident's phenomenon (`GET /catalog`).", "cable_theft")
    result: _text(4000, "What was done.", "思明区基站故障已修复")
    script: _text(2000, "What the desk tells each customer at the reply.", "现已修复")
