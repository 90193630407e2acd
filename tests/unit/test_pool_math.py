"""The pool's arithmetic, table-driven: whole tonnes, the carried surplus, serial ranges, warnings."""
from __future__ import annotations

import pytest

from resident_app.carbon.conversion import kept_grams
from resident_app.carbon.pool import (EXCESS_TONNES, PURCHASE_DIFFERS, SAME_PLACE, SERIALS_MISMATCH, TONNES_SHORT,
                                      TOTAL_MISMATCH, InvalidationFacts, PurchaseFacts, SerialRange,
                                      SerialRangeError, batch_warnings, ceil_tonnes, clean_ranges,
                                      normalise_serial, parse_range, pool_balance_g, range_tonnes,
                                      ranges_tonnes, same_place, tonnes_to_buy)

T = 1_000_000


@pytest.mark.parametrize("owed_g, surplus_g, expected", [
    (0, 0, (0, 0, 0)),
    (1, 0, (1, 0, T - 1)),
    (999_999, 0, (1, 0, 1)),
    (1_000_000, 0, (1, 0, 0)),
    (1_000_001, 0, (2, 0, T - 1)),
    (370_000, 0, (1, 0, 630_000)),                       # the bus fare box: 370 kg
    (2_500_000, 600_000, (2, 600_000, 100_000)),         # surplus used first, the rest rounded up
    (400_000, 600_000, (0, 400_000, 200_000)),           # surplus larger than owed: nothing to buy
    (600_000, 600_000, (0, 600_000, 0)),                 # surplus exactly equal
    (1_600_000, 600_000, (1, 600_000, 0)),               # surplus leaves whole tonnes exactly
    (0, 250_000, (0, 0, 250_000)),                       # nothing owed keeps the surplus
])
def test_tonnes_to_buy(owed_g, surplus_g, expected):
    result = tonnes_to_buy(owed_g, surplus_g)
    assert result == expected
    tonnes, used, after = result
    assert (result.tonnes, result.surplus_used_g, result.surplus_after_g) == (tonnes, used, after)
    # Conservation: what we have (surplus + bought) = what we owe + what carries on.
    assert surplus_g + tonnes * T == owed_g + after
    assert 0 <= after and (tonnes == 0 or after < T + surplus_g - used)


@pytest.mark.parametrize("owed_g, surplus_g", [(-1, 0), (0, -1)])
def test_tonnes_to_buy_refuses_negative_input(owed_g, surplus_g):
    with pytest.raises(ValueError):
        tonnes_to_buy(owed_g, surplus_g)


@pytest.mark.parametrize("grams, tonnes", [(-5, 0), (0, 0), (1, 1), (999_999, 1), (T, 1), (T + 1, 2), (7 * T, 7)])
def test_ceil_tonnes(grams, tonnes):
    assert ceil_tonnes(grams) == tonnes


@pytest.mark.parametrize("retired_t, grams, balance", [(0, 0, 0), (1, 370_000, 630_000), (3, 3 * T, 0)])
def test_pool_balance(retired_t, grams, balance):
    assert pool_balance_g(retired_t, grams) == balance


@pytest.mark.parametrize("start, end, tonnes", [
    ("JP-123-0001", "JP-123-0010", 10),
    ("JP-123-0001", "JP-123-0001", 1),
    ("JP-123-0999", "JP-123-1000", 2),
    ("JP-123-1", "JP-123-0010", 10),                      # padding differs, numbers count
    ("0001", "0005", 5),                                  # no prefix at all
    ("ＪＰ－１２３－０００１", "JP-123-0003", 3),           # full-width input from an IME
    (" jp-123-0001 ", "JP-123-0002", 2),                  # spaces and case
])
def test_valid_serial_ranges(start, end, tonnes):
    assert range_tonnes(SerialRange(start, end)) == tonnes


@pytest.mark.parametrize("start, end, code", [
    ("JP-123-0001", "JP-124-0010", "prefix_mismatch"),
    ("JP-123-0001", "JP-0010", "prefix_mismatch"),
    ("JP-123-0010", "JP-123-0001", "reversed"),
    ("JP-123-A", "JP-123-B", "no_number"),
    ("", "JP-123-0001", "empty"),
    ("JP-" + "1" * 200, "JP-" + "1" * 200, "too_long"),
])
def test_invalid_serial_ranges(start, end, code):
    with pytest.raises(SerialRangeError) as caught:
        parse_range(start, end)
    assert caught.value.code == code


@pytest.mark.parametrize("ranges, expected", [
    ([("JP-1-0001", "JP-1-0010"), ("JP-1-0011", "JP-1-0012")], 12),
    ([("JP-1-0001", "JP-1-0010"), ("JP-2-0001", "JP-2-0010")], 20),   # same numbers, other prefix
    ([("JP-1-0001", "JP-1-0010"), ("JP-1-0010", "JP-1-0012")], "overlap"),
    ([], "empty"),
])
def test_ranges_tonnes(ranges, expected):
    serials = clean_ranges(ranges)
    if isinstance(expected, int):
        assert ranges_tonnes(serials) == expected
    else:
        with pytest.raises(SerialRangeError) as caught:
            ranges_tonnes(serials)
        assert caught.value.code == expected


def test_ranges_already_used_elsewhere_overlap():
    with pytest.raises(SerialRangeError) as caught:
        ranges_tonnes([SerialRange("JP-1-0005", "JP-1-0006")], others=[SerialRange("JP-1-0001", "JP-1-0010")])
    assert caught.value.code == "overlap"
    assert ranges_tonnes([SerialRange("JP-1-0011", "JP-1-0012")], others=[SerialRange("JP-1-0001", "JP-1-0010")]) == 2


def test_clean_ranges_accepts_pairs_dicts_and_drops_blanks():
    assert clean_ranges([("jp-1-1", "jp-1-2"), {"start": "JP-1-3", "end": "JP-1-4"}, ("", " ")]) == (
        SerialRange("JP-1-1", "JP-1-2"), SerialRange("JP-1-3", "JP-1-4"))
    assert normalise_serial("JP\u2212123\u30fc0001") == "JP-123-0001"


@pytest.mark.parametrize("a, b, same", [
    ("東京都/八王子市", "東京都 八王子市", True),
    ("東京都／八王子市", "東京都八王子市", True),
    ("北海道/下川町", "東京都/八王子市", False),
    ("", "", False),
])
def test_same_place(a, b, same):
    assert same_place(a, b) is same


def _inv(tonnes=3, ranges=(("JP-1-0001", "JP-1-0003"),), place="東京都/八王子市", purpose="2026年度 バス"):
    return InvalidationFacts(purpose, tonnes, clean_ranges(ranges), place)


PURCHASE = PurchaseFacts(tonnes=3, price_per_t_yen=10_000, total_yen=30_000, credit_place="北海道/下川町")


@pytest.mark.parametrize("kwargs, codes", [
    (dict(owed_g=2_500_000, surplus_used_g=0, purchase=PURCHASE, invalidations=[_inv()]), []),
    (dict(owed_g=2_500_000, surplus_used_g=0, purchase=PURCHASE, invalidations=[]), []),
    (dict(owed_g=2_500_000, surplus_used_g=0, purchase=PURCHASE,
          invalidations=[_inv(ranges=(("JP-1-0001", "JP-1-0002"),))]), [SERIALS_MISMATCH]),
    (dict(owed_g=3_500_000, surplus_used_g=0, purchase=PURCHASE, invalidations=[_inv()]), [TONNES_SHORT]),
    (dict(owed_g=3_500_000, surplus_used_g=500_000, purchase=PURCHASE, invalidations=[_inv()]), []),
    (dict(owed_g=2_500_000, surplus_used_g=0, purchase=PURCHASE, invalidations=[_inv(place="北海道 下川町")]),
     [SAME_PLACE]),
    (dict(owed_g=1_500_000, surplus_used_g=0, purchase=PURCHASE,
          invalidations=[_inv(tonnes=2, ranges=(("JP-1-0001", "JP-1-0002"),))]), [PURCHASE_DIFFERS]),
    (dict(owed_g=2_500_000, surplus_used_g=0, invalidations=[_inv()],
          purchase=PurchaseFacts(3, 10_000, 31_000, "北海道/下川町")), [TOTAL_MISMATCH]),
    (dict(owed_g=2_500_000, surplus_used_g=0, purchase=None, invalidations=[_inv()]), []),
])
def test_batch_warnings(kwargs, codes):
    assert [w.code for w in batch_warnings(**kwargs)] == codes


def test_warning_params_say_by_how_much():
    [short] = batch_warnings(owed_g=3_500_000, surplus_used_g=0, purchase=PURCHASE, invalidations=[_inv()])
    assert short.params == {"invalidated_t": 3, "required_t": 4, "short_g": 500_000}
    [total] = batch_warnings(owed_g=2_500_000, surplus_used_g=0, purchase=PurchaseFacts(3, 10_000, 31_000, "x"),
                             invalidations=[])
    assert total.params["expected_yen"] == 30_000 and total.params["total_yen"] == 31_000


@pytest.mark.parametrize("owed_g, used_g, purchased, invalidated, expected", [
    (2_500_000, 0, 3, [], None),                          # exactly what is needed
    (2_500_000, 0, 4, [], (4, 3, 1, 1_500_000)),          # one tonne more bought
    (1_000_000, 0, 3, [3], (3, 1, 2, 2_000_000)),         # three where one is needed
    (400_000, 400_000, 1, [1], (1, 0, 1, 1_000_000)),     # the surplus covered it: any tonne is extra
    (2_500_000, 0, 3, [2, 1], None),                      # two invalidations make up the need
])
def test_buying_more_than_a_batch_needs_is_a_warning_that_names_the_surplus(owed_g, used_g, purchased,
                                                                             invalidated, expected):
    warnings = batch_warnings(owed_g=owed_g, surplus_used_g=used_g,
                              purchase=PurchaseFacts(purchased, 10_000, purchased * 10_000, "北海道"),
                              invalidations=[InvalidationFacts(f"p{n}", t, (SerialRange(f"A{n}-1", f"A{n}-{t}"),),
                                                               "東京都") for n, t in enumerate(invalidated)])
    excess = [w for w in warnings if w.code == EXCESS_TONNES]
    if expected is None:
        assert excess == []
    else:
        tonnes, required, extra, surplus = expected
        assert [w.params for w in excess] == [{"tonnes": tonnes, "required_t": required, "extra_t": extra,
                                               "surplus_g": surplus}]


@pytest.mark.parametrize("co2_g, amount_yen, kept_yen, expected", [
    (100_000, 1_000, 600, 60_000),        # ¥400 of ¥1,000 refunded: 40 % of the grams go
    (33_333, 1_000, 999, 33_299),         # 33,299.667 rounds down: never promise more than is kept
    (10_000, 100, 1, 100),
    (10_000, 100, 0, 0),                  # all refunded
    (10_000, 100, 100, 10_000),           # nothing refunded
    (10**13, 10**10, 10**10 - 1, 10**13 - 1_000),
])
def test_a_partial_refund_keeps_grams_in_proportion_rounded_down(co2_g, amount_yen, kept_yen, expected):
    kept = kept_grams(co2_g, amount_yen, kept_yen)
    assert kept == expected
    assert kept * amount_yen <= co2_g * kept_yen                          # the pool never owes more


@pytest.mark.parametrize("co2_g, amount_yen, kept_yen", [(100, 0, 0), (100, 100, 101), (100, 100, -1)])
def test_kept_grams_refuses_what_cannot_be(co2_g, amount_yen, kept_yen):
    with pytest.raises(ValueError):
        kept_grams(co2_g, amount_yen, kept_yen)
