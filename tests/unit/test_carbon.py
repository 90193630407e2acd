"""Pure maths: no app, no database. Table-driven."""
from decimal import Decimal

import pytest

from resident_app.carbon import reference
from resident_app.carbon.conversion import grams_for_yen, share_of, yen_for_grams
from resident_app.carbon.footprint import compute_footprint, grams_per_year, quantity_from_bill, quote_offset
from resident_app.carbon.sources import (SOURCES, InputError, bound_for, parse_household_size, parse_number,
                                         parse_period, parse_quantity)

FACTORS = {"electricity": Decimal("0.423"), "city_gas": Decimal("2.21"), "lpg": Decimal("6.0"),
           "kerosene": Decimal("2.49"), "gasoline": Decimal("2.32"), "diesel": Decimal("2.58"),
           "water": Decimal("0.239")}


@pytest.mark.parametrize("quantity, period, factor, expected", [
    ("300", "month", "0.423", 1_522_800),      # 300 x 12 x 0.423 kg
    ("3600", "year", "0.423", 1_522_800),      # the same use entered as a year
    ("20", "month", "2.21", 530_400),
    ("0", "month", "2.21", 0),
    ("0.0005", "year", "1", 1),                # exactly half a gram rounds up
    ("0.0004999", "year", "1", 0),             # just under half rounds down
    ("0.0015", "year", "1", 2),                # half up, not banker's rounding
    ("1.5", "year", "0.239", 359),             # 358.5 g -> 359
    ("12.78", "year", "2.21", 28_244),         # 28,243.8 g
])
def test_grams_per_year_rounds_half_up(quantity, period, factor, expected):
    assert grams_per_year(Decimal(quantity), period, Decimal(factor)) == expected


def test_total_is_the_sum_of_rounded_sources():
    fp = compute_footprint({"electricity": Decimal("0.0005"), "water": Decimal("0.0005")}, "year",
                           {**FACTORS, "electricity": Decimal(1), "water": Decimal(1)})
    assert fp.by_source_g["electricity"] == 1 and fp.by_source_g["water"] == 1
    assert fp.total_g == 2
    assert set(fp.by_source_g) == set(SOURCES)


def test_absent_sources_count_as_zero_and_groups_split_home_and_car():
    fp = compute_footprint({"electricity": Decimal(300), "gasoline": Decimal(40), "water": Decimal(15)},
                           "month", FACTORS)
    assert fp.home_g == 1_522_800
    assert fp.car_g == grams_per_year(Decimal(40), "month", FACTORS["gasoline"]) == 1_113_600
    assert fp.water_g == 43_020
    assert fp.total_g == fp.home_g + fp.car_g + fp.water_g


@pytest.mark.parametrize("text, expected", [
    ("", Decimal(0)), ("   ", Decimal(0)), (None, Decimal(0)), ("320", Decimal(320)),
    ("1,200", Decimal(1200)), ("１２０", Decimal(120)), ("１２．５", Decimal("12.5")), (" 7 ", Decimal(7)),
    (12, Decimal(12)), (12.5, Decimal("12.5")), ("0", Decimal(0)),
])
def test_parse_number_accepts_what_people_type(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text, code", [
    ("abc", "invalid"), ("12kWh", "invalid"), ("NaN", "invalid"), ("Infinity", "invalid"),
    ("-1", "negative"), ("ー5", "negative"), ("－3", "negative"), (-0.5, "negative"),
    (True, "invalid"), ([1], "invalid"), ("1" * 30, "invalid"),
])
def test_parse_number_refuses_text_and_negatives(text, code):
    with pytest.raises(InputError) as caught:
        parse_number(text)
    assert caught.value.code == code


@pytest.mark.parametrize("source, value, period, bill, ok", [
    ("electricity", "20000", "month", False, True),
    ("electricity", "20000.01", "month", False, False),
    ("electricity", "240000", "year", False, True),
    ("electricity", "240001", "year", False, False),
    ("city_gas", "2001", "month", False, False),
    ("water", "1000", "month", False, True),
    ("electricity", "1000000", "month", True, True),
    ("electricity", "1000001", "month", True, False),
    ("city_gas", "6000000", "year", True, True),
])
def test_bounds(source, value, period, bill, ok):
    if ok:
        assert parse_quantity(source, value, period, bill=bill) == Decimal(value)
    else:
        with pytest.raises(InputError) as caught:
            parse_quantity(source, value, period, bill=bill)
        assert caught.value.code == "too_large"
        assert caught.value.params["limit"] == int(bound_for(source, period, bill=bill).limit)


@pytest.mark.parametrize("value, expected", [(1, 1), ("3", 3), ("６", 6), (7, 7), (100, 100)])
def test_household_size(value, expected):
    assert parse_household_size(value) == expected


@pytest.mark.parametrize("value", [0, -1, "0", "two", True, 2.5, None, 101, "6+"])
def test_household_size_refused(value):
    with pytest.raises(InputError):
        parse_household_size(value)


@pytest.mark.parametrize("value", ["week", "", None, "Month"])
def test_period_refused(value):
    with pytest.raises(InputError):
        parse_period(value)


@pytest.mark.parametrize("size, persons, total_home_g", [
    (1, 1, 1_510_000), (3, 3, 3_440_000), (5, 5, 4_260_000), (6, 6, 5_420_000), (9, 6, 5_420_000),
])
def test_average_for_household_size_uses_6_plus_row(size, persons, total_home_g):
    average = reference.average_for(size)
    assert (average.persons, average.total_home_g) == (persons, total_home_g)
    assert average.fiscal_year == "FY2022"
    assert average.source.startswith("MOE")  # "same" rows inherit the full source


def test_car_average_is_a_whole_number_of_grams():
    assert reference.car_average_g() == 1_030_000


@pytest.mark.parametrize("yen, rate, grams", [
    (100, 10_000, 10_000),          # ¥100 = 10 kg at ¥10,000/t
    (1, 10_000, 100),
    (100, 3, 33_333_333),           # rounded down: the pool never promises more than it buys
    (0, 10_000, 0),
    (300_000, 10_000, 30_000_000),
])
def test_grams_for_yen(yen, rate, grams):
    assert grams_for_yen(yen, rate) == grams


@pytest.mark.parametrize("grams, rate, yen", [
    (10_000, 10_000, 100), (10_001, 10_000, 101), (1, 10_000, 1), (0, 10_000, 0), (9_999, 10_000, 100),
])
def test_yen_for_grams_rounds_up(grams, rate, yen):
    assert yen_for_grams(grams, rate) == yen


@pytest.mark.parametrize("fn", [grams_for_yen, yen_for_grams])
def test_rate_must_be_positive(fn):
    with pytest.raises(ValueError):
        fn(100, 0)


@pytest.mark.parametrize("grams, percent, expected", [(1001, 50, 501), (1000, 25, 250), (3, 50, 2), (0, 100, 0)])
def test_share_of_half_up(grams, percent, expected):
    assert share_of(grams, percent) == expected


def test_quote_offset():
    quote = quote_offset(2_053_200, 50, 10_000)
    assert (quote.co2_g, quote.amount_yen) == (1_026_600, 10_266)
    assert isinstance(quote.amount_yen, int)


def test_quantity_from_bill():
    assert quantity_from_bill(Decimal(9300), Decimal(31)) == Decimal(300)
    with pytest.raises(ValueError):
        quantity_from_bill(Decimal(100), Decimal(0))
