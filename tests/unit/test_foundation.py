"""Pure pieces of the foundation: ids, masking, tokens, principals, intake validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.auth import Principal, can_see
from chalicelib.domain.errors import Unauthorized, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.masking import mask_phone, mask_value
from chalicelib.domain.shapes import NewTicketBody, parse
from chalicelib.domain.tickets import body_fingerprint
from chalicelib.services.auth import principal_from_claims

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class _Catalog:
    def category(self, code: str):
        return object() if code == "basic_communication" else None

    def phenomenon(self, code: str):
        class P:
            category = "basic_communication"

        return P() if code == "voice_coverage" else None


def _body(**kw):
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "complainant": {"name": "王五", "contactNumber": "+86 138 0013 8000"},
        "serviceNumber": "0592-5201234",
        "description": "没有信号",
    }
    body.update(kw)
    return body


def test_ids_sort_by_time_and_are_unique() -> None:
    earlier = [new_id("T", NOW) for _ in range(50)]
    later = new_id("T", NOW + timedelta(milliseconds=1))
    assert len(set(earlier)) == 50
    assert all(i < later for i in earlier)
    assert len(later) == 27 and later.startswith("T")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13800138000 now", "call 138****8000 now"),
        ("+8613912345678", "139****5678"),
        ("0592-5201234", "0592***1234"),
        ("order 1234567890123456", "order 1234567890123456"),
        # any spelling a person types: spaced, dashed, dotted, full-width, prefixed
        ("tel +86 139 1234 5678.", "tel 139****5678."),
        ("139-1234-5678 / 139.1234.5678", "139****5678 / 139****5678"),
        ("手机１３９１２３４５６７８", "手机139****5678"),
        ("0086 13912345678", "139****5678"),
        ("13800138000 13912345678", "138****8000 139****5678"),
        # ID-card numbers and e-mail addresses
        ("身份证 11010519491231002X", "身份证 110***********002X"),
        ("mail zhang.san@example.com", "mail z***@example.com"),
        # dates, times and amounts stay readable
        ("2026-11-20 09:00, 1234567 元", "2026-11-20 09:00, 1234567 元"),
        ("at 2026-11-23T16:25:42+08:00", "at 2026-11-23T16:25:42+08:00"),
    ],
)
def test_mask_phone(text: str, masked: str) -> None:
    assert mask_phone(text) == masked


def test_mask_value_reaches_nested_data() -> None:
    data = {"a": ["13800138000", {"b": "tel 13912345678"}], "n": 5}
    assert mask_value(data) == {"a": ["138****8000", {"b": "tel 139****5678"}], "n": 5}


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["", " ", "-", "."]),
    st.sampled_from(["", "+86", "+86 ", "0086"]),
)
def test_every_mobile_number_is_masked_however_spelled(number: str, sep: str, prefix: str) -> None:
    spelled = prefix + sep.join((number[:3], number[3:7], number[7:]))
    masked = mask_phone(f"客户 {spelled} 来电")
    assert masked == f"客户 {number[:3]}****{number[-4:]} 来电"


def test_principal_from_cognito_claims() -> None:
    p = principal_from_claims(
        {
            "sub": "1",
            "cognito:username": "li",
            "cognito:groups": "[department]",
            "custom:department": "network",
        }
    )
    assert p == Principal("1", "li", ("department",), "network")
    with pytest.raises(Unauthorized):
        principal_from_claims({"sub": "1", "cognito:groups": ["janitor"]})


@pytest.mark.parametrize(
    "groups",
    ["[agent, department]", "agent,department", "[agent department]", ["agent", "department"]],
)
def test_groups_as_a_list_or_as_api_gateway_flattens_them(groups) -> None:
    # GIVEN the groups of a user in two Cognito groups, as a JSON list or a flattened string
    p = principal_from_claims({"sub": "1", "cognito:groups": groups})
    # THEN both roles count
    assert p.roles == ("agent", "department")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "1", "cognito:groups": 5},
        {"sub": "1", "cognito:groups": {"agent": True}},
        {"sub": "1", "cognito:groups": ["agent", 7]},
        {"sub": "1", "cognito:groups": [["agent"]]},
        {"sub": 1, "cognito:groups": ["agent"]},
        {"sub": {"id": 1}, "cognito:groups": ["agent"]},
        {"sub": "1", "cognito:groups": ["agent"], "cognito:username": ["x"]},
        {"sub": "1", "cognito:groups": ["agent"], "custom:department": 3},
        {"cognito:groups": ["agent"]},
        "not a dict",
        None,
    ],
)
def test_claims_of_any_other_shape_are_401_never_500(claims) -> None:
    # WHEN claims have a shape this API never issues THEN the caller is unauthorized (no 500)
    with pytest.raises(Unauthorized):
        principal_from_claims(claims)


def test_department_scope() -> None:
    dept = Principal("1", "li", ("department",), "network")
    manager = Principal("2", "zh", ("complaint_manager",))
    assert can_see(dept, ["billing_support", "network"]) and not can_see(dept, ["billing_support"])
    assert can_see(manager, [])
    assert (
        Principal("3", "x", ("department", "complaint_manager"), "network").role
        == "complaint_manager"
    )


def test_parse_normalizes_numbers_and_fills_defaults() -> None:
    new = parse(NewTicketBody, _body(phenomenon="voice_coverage"), catalog=_Catalog(), now=NOW)
    assert new.complainant.contact_number == "13800138000"
    assert new.complainant.type == "ordinary" and new.complainant.reply_method == "phone"
    assert new.service_number == "05925201234"  # one spelling: ASCII digits only
    assert new.phenomenon == "voice_coverage"


def test_parse_reports_every_error_at_once() -> None:
    with pytest.raises(ValidationFailed) as err:
        parse(
            NewTicketBody,
            _body(kind=None, channel="pigeon", category="basic_communication", phenomenon="nope"),
            catalog=_Catalog(),
            now=NOW,
        )
    assert {e.field for e in err.value.errors} == {"kind", "channel", "phenomenon"}


def test_fingerprint_ignores_key_order() -> None:
    assert body_fingerprint({"a": 1, "b": [1, 2]}) == body_fingerprint({"b": [1, 2], "a": 1})
    assert body_fingerprint({"a": 1}) != body_fingerprint({"a": 2})
