"""Bills read through TEPCO's 従量電灯B and Tokyo Gas's general tariff, both ways (pure)."""
from datetime import date
from decimal import Decimal as D

import pytest

from resident_app.carbon.tariffs import (ElectricityTariff, GasTable, GasTariff, Tier, TariffError,
                                         annual_cost, annual_quantity_from_bill, effective_on)

BASIC = {10: D("311.75"), 15: D("467.63"), 20: D("623.5"), 30: D("935.25"), 40: D("1247.0"),
         50: D("1558.75"), 60: D("1870.5")}
TIERS = (Tier(D(120), D("29.8")), Tier(D(300), D("36.4")), Tier(None, D("40.49")))


def tepco(levy="3.98", fuel="0") -> ElectricityTariff:
    return ElectricityTariff("tepco_b", "従量電灯B", "Juryo Dento B", date(2024, 4, 1), BASIC, TIERS,
                             D(fuel), D(levy))


TOKYO_GAS = GasTariff("tokyo_gas_general", "一般契約料金", "General tariff", date(2019, 10, 1), (
    GasTable("A", D(0), D(20), D("759.0"), D("145.31")), GasTable("B", D(20), D(80), D("1056.0"), D("130.46")),
    GasTable("C", D(80), D(200), D("1232.0"), D("128.26")), GasTable("D", D(200), D(500), D("1892.0"), D("122.68")),
    GasTable("E", D(500), D(800), D("6292.0"), D("114.04")), GasTable("F", D(800), None, D("12452.0"), D("106.48"))))


@pytest.mark.parametrize("bill, ampere, levy, fuel, kwh", [
    (10_000, 30, "3.98", "0", "244.1"),    # the case: about 245 kWh, not 323
    (10_000, 30, "4.18", "0", "242.9"),    # FY2026 surcharge
    (10_000, 40, "3.98", "0", "236.4"),    # a bigger contract: more basic charge, fewer kWh
    (10_000, 30, "3.98", "-2.5", "260.2"), # a negative fuel cost adjustment buys more kWh
    (935.25, 30, "3.98", "0", "0.0"),      # the basic charge alone
    (5_000, 30, "3.98", "0", "120.3"),     # just past the first band (120 kWh cost 4,053.60)
    (20_000, 30, "3.98", "0", "474.1"),    # into the third band
])
def test_a_bill_becomes_kwh_through_the_tiers(bill, ampere, levy, fuel, kwh):
    tariff = tepco(levy, fuel)
    assert tariff.kwh_for_monthly_bill(D(bill), ampere) == D(kwh)


@pytest.mark.parametrize("kwh", ["0", "50", "120", "121", "250", "300", "301", "800"])
@pytest.mark.parametrize("ampere", [10, 30, 60])
def test_bill_and_inverse_agree(kwh, ampere):
    tariff = tepco()
    bill = tariff.monthly_bill(D(kwh), ampere)
    assert tariff.kwh_for_monthly_bill(bill, ampere) == D(kwh).quantize(D("0.1"))


def test_marginal_tiers_charge_each_band_at_its_own_price():
    # 300 kWh: 120 x (29.80 + 3.98) + 180 x (36.40 + 3.98) + 935.25
    assert tepco().monthly_bill(D(300), 30) == D("935.25") + 120 * D("33.78") + 180 * D("40.38")
    assert tepco().marginal_yen_per_kwh(D(100)) == D("33.78")
    assert tepco().marginal_yen_per_kwh(D(400)) == D("44.47")


@pytest.mark.parametrize("bill, ampere, code", [(900, 30, "below_basic"), (5_000, 25, "ampere")])
def test_bills_the_tariff_cannot_read(bill, ampere, code):
    with pytest.raises(TariffError) as error:
        tepco().kwh_for_monthly_bill(D(bill), ampere)
    assert error.value.code == code


def test_a_price_that_would_be_zero_is_refused():
    with pytest.raises(TariffError):
        tepco(fuel="-40").monthly_bill(D(10))


@pytest.mark.parametrize("bill, m3, table", [
    ("1000", "1.7", "A"),
    ("3665.2", "20.0", "A"),     # the boundary: tables A and B meet at 20 m³
    ("5000", "30.2", "B"),       # a typical Tokyo month
    ("11492.8", "80.0", "B"),
    ("15000", "107.3", "C"),
    ("30000", "229.1", "D"),
])
def test_a_gas_bill_picks_the_table_whose_range_holds_it(bill, m3, table):
    found, chosen = TOKYO_GAS.m3_for_monthly_bill(D(bill))
    assert (found, chosen.name) == (D(m3), table)


@pytest.mark.parametrize("m3, table", [("0", "A"), ("20", "A"), ("20.1", "B"), ("80", "B"), ("80.5", "C"),
                                        ("500", "D"), ("900", "F")])
def test_the_whole_use_is_charged_at_one_tables_price(m3, table):
    chosen = TOKYO_GAS.table_for(D(m3))
    assert chosen.name == table
    assert TOKYO_GAS.monthly_bill(D(m3)) == chosen.basic_yen + chosen.yen_per_m3 * D(m3)


def test_the_monthly_gas_adjustment_applies_to_every_m3():
    adjusted = TOKYO_GAS.with_adjustment(D("15.46"))
    assert adjusted.monthly_bill(D(10)) == D("759.0") + D("160.77") * 10  # Tokyo Gas's 2024-10 table A
    assert adjusted.m3_for_monthly_bill(D("2366.7"))[0] == D("10.0")


def test_a_gas_bill_below_the_first_basic_charge_is_refused():
    with pytest.raises(TariffError):
        TOKYO_GAS.m3_for_monthly_bill(D(500))


def test_a_years_bill_is_read_as_twelve_average_months():
    tariff = tepco()
    assert annual_quantity_from_bill(D(120_000), 12, tariff.kwh_for_monthly_bill) == D("2929.2")
    assert annual_quantity_from_bill(D(10_000), 1, tariff.kwh_for_monthly_bill) == D("2929.2")
    assert annual_cost(tariff.monthly_bill, D("2929.2")) == pytest.approx(D(120_000), abs=1)


def test_the_schedule_in_force_is_the_latest_started():
    old = tepco()
    new = ElectricityTariff("tepco_b", "", "", date(2026, 4, 1), BASIC, TIERS)
    assert effective_on([old, new], date(2026, 3, 31)) is old
    assert effective_on([old, new], date(2026, 4, 1)) is new
    assert effective_on([old, new], date(2020, 1, 1)) is None
