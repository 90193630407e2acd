"""carbon.numbers: the one reader of typed numbers; web.typed, the form readers built on it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from resident_app.carbon.numbers import NumberError, parse_decimal, parse_int
from resident_app.web.typed import MAX_PAGE, chosen_id, page_number, whole_number


@pytest.mark.parametrize("raw, expected", [
    ("12", Decimal(12)),
    ("１２", Decimal(12)),                 # full-width digits
    ("1,234", Decimal(1234)),
    ("１，２３４．５", Decimal("1234.5")),  # full-width comma and point
    ("1,234,567.25", Decimal("1234567.25")),
    (" 3.5 ", Decimal("3.5")),
    (".5", Decimal("0.5")),
    ("0", Decimal(0)),
    ("²", Decimal(2)),                     # NFKC makes a superscript an ASCII digit
    (7, Decimal(7)),
    (2.5, Decimal("2.5")),
    (Decimal("4.25"), Decimal("4.25")),
])
def test_reads_numbers_people_type(raw, expected):
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_blank_is_none(raw):
    assert parse_decimal(raw) is None
    assert parse_int(raw) is None


@pytest.mark.parametrize("raw, code", [
    ("፩", "invalid"),          # Ethiopic digit one: isdigit() is True, int() refuses it
    ("١٢", "invalid"),         # Arabic-Indic digits
    ("12a", "invalid"),
    ("1,2,3", "invalid"),      # not thousands groups
    ("1,23", "invalid"),
    ("1.2.3", "invalid"),
    (".", "invalid"),
    ("NaN", "invalid"),
    ("Infinity", "invalid"),
    ("1e5", "invalid"),
    ("0x10", "invalid"),
    ("+5", "invalid"),
    ("-5", "negative"),
    ("－５", "negative"),      # full-width minus
    ("ー5", "negative"),       # the katakana long vowel an IME types for a minus
    ("1" * 30, "too_long"),
    (float("nan"), "invalid"),
    (float("inf"), "invalid"),
    (True, "type"),
    ([1, 2], "type"),
    ({"a": 1}, "type"),
    (-1, "negative"),
])
def test_refuses_what_is_not_a_number(raw, code):
    with pytest.raises(NumberError) as caught:
        parse_decimal(raw)
    assert caught.value.code == code


@pytest.mark.parametrize("raw, expected", [("1,000", 1000), ("¥1,000", 1000), ("1000円", 1000),
                                           ("￥１，０００", 1000), (100, 100), (100.0, 100)])
def test_yen_amounts(raw, expected):
    assert parse_int(raw, yen=True) == expected


@pytest.mark.parametrize("raw", ["1.5", "100.0", 2.5])
def test_whole_numbers_refuse_decimals(raw):
    with pytest.raises(NumberError) as caught:
        parse_int(raw)
    assert caught.value.code == "not_whole"


def test_negative_when_allowed():
    assert parse_int("-3", negative=True) == -3


@given(st.text(max_size=40))
def test_any_text_is_a_number_or_a_number_error(text):
    try:
        value = parse_decimal(text)
    except NumberError:
        return
    assert value is None or (value.is_finite() and value >= 0)


@given(st.integers(min_value=0, max_value=10**15))
def test_grouped_digits_round_trip(number):
    assert parse_int(f"{number:,}") == number


# --- web.typed: the readers forms use on top of carbon.numbers ------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), ("１２", 12), ("²", 2), ("0", None), ("-3", None), ("፩", None), ("१", None), ("9" * 19, None),
    ("12\x00", 12), ("", None), (None, None), ("1.0", None),
])
def test_an_id_from_a_form_is_a_positive_64_bit_number_or_nothing(raw, expected):
    assert chosen_id(raw) == expected


@pytest.mark.parametrize("raw, pages, expected", [
    ("3", None, 3), ("x", None, 1), ("9" * 18, None, MAX_PAGE), ("9" * 30, None, 1), ("7", 5, 5), (None, 4, 1),
])
def test_page_numbers_stay_in_range(raw, pages, expected):
    assert page_number(raw, pages) == expected


def test_whole_numbers_have_a_digit_limit():
    assert whole_number("¥123,456,789", yen=True, max_digits=9) == 123_456_789
    with pytest.raises(NumberError) as refused:
        whole_number("1,234,567,890", max_digits=9)
    assert refused.value.code == "too_long"
