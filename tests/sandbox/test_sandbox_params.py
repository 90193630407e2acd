"""Decoding of Stripe's form encoding, checked against what the SDK really sends."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from stripe._encode import _api_encode

from resident_app.payments.sandbox.errors import ApiError
from resident_app.payments.sandbox.params import decode_params


def _roundtrip(params):
    # Encode exactly as stripe-python does, then decode as the sandbox does.
    body = urlencode(list(_api_encode(params)))
    return decode_params(parse_qsl(body, keep_blank_values=True))


def test_nested_line_items_roundtrip():
    params = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "jpy", "unit_amount": 100,
                            "product_data": {"name": "A", "description": "d"}}, "quantity": 2},
            {"price_data": {"currency": "jpy", "unit_amount": 50, "product_data": {"name": "B"}}, "quantity": 1},
        ],
        "metadata": {"order_id": "42"},
        "payment_method_types": ["card", "konbini"],
    }
    decoded = _roundtrip(params)
    assert decoded == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "jpy", "unit_amount": "100",
                            "product_data": {"name": "A", "description": "d"}}, "quantity": "2"},
            {"price_data": {"currency": "jpy", "unit_amount": "50", "product_data": {"name": "B"}},
             "quantity": "1"},
        ],
        "metadata": {"order_id": "42"},
        "payment_method_types": ["card", "konbini"],
    }


def test_more_than_ten_items_keep_numeric_order():
    decoded = _roundtrip({"items": [str(i) for i in range(12)]})
    assert decoded["items"] == [str(i) for i in range(12)]


def test_empty_brackets_append():
    assert decode_params([("expand[]", "line_items"), ("expand[]", "payment_intent")]) == {
        "expand": ["line_items", "payment_intent"]}


def test_value_and_hash_at_same_key_is_refused():
    with pytest.raises(ApiError) as info:
        decode_params([("metadata", "x"), ("metadata[a]", "1")])
    assert info.value.status == 400 and info.value.param == "metadata[a]"
