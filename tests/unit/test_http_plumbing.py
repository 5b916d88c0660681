"""Rendering and origin matching of the HTTP plumbing (chalicelib/api)."""

from __future__ import annotations

import json

import pytest

from chalicelib.api import cors, http


def test_a_lone_surrogate_in_stored_data_still_renders() -> None:
    # GIVEN data with a lone surrogate (it cannot be encoded as UTF-8)
    body = {"description": "bad \ud800 text", "name": "张三"}
    # WHEN it is rendered
    text = http.dumps(body)
    # THEN the response falls back to ASCII escapes, encodes, and reads back the same
    text.encode("utf-8")
    assert json.loads(text) == body


def test_ordinary_text_stays_readable_utf8() -> None:
    assert http.dumps({"name": "张三"}) == '{"name": "张三"}'


def test_non_finite_numbers_are_never_rendered_as_json() -> None:
    with pytest.raises(ValueError):
        http.dumps({"x": float("nan")})


SETTING = "https://desk.example.com, http://localhost:*,http://127.0.0.1:*,*,ftp://x"


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("https://desk.example.com", True),
        ("https://DESK.example.com", True),
        ("http://desk.example.com", False),
        ("https://desk.example.com:8443", False),
        ("https://desk.example.com.evil.example", False),
        ("http://localhost:5173", True),
        ("http://localhost", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:", False),
        ("http://localhost:123456", False),
        ("http://localhost:80@evil.example", False),
        ("http://localhost.evil.example", False),
        ("http://localhost:５１７３", False),
        ("https://evil.example", False),
        ("null", False),
        ("", False),
    ],
)
def test_origins_match_exactly_or_on_a_port_wildcard(origin: str, ok: bool) -> None:
    assert cors.allowed(origin, SETTING) is ok


def test_no_setting_allows_no_origin() -> None:
    assert not cors.allowed("http://localhost:3000", "")
