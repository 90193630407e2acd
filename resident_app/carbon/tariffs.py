"""Bills read through real tariffs: TEPCO's 従量電灯B and Tokyo Gas's 一般契約料金, both ways.

Electricity: a basic charge by contract amperes, then each kWh at the price of the band it falls in
(marginal tiers), plus the month's 燃料費調整 and the fiscal year's 再エネ賦課金 on every kWh.
City gas: the month's total use chooses ONE table (A-F); the bill is that table's basic charge plus
its unit price (plus the month's 原料費調整) times every m³. Prices include consumption tax.
All arithmetic is exact Decimal; quantities come out rounded half up to 0.1."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

TENTH = Decimal("0.1")
ZERO = Decimal(0)
CONTRACT_AMPERES: tuple[int, ...] = (10, 15, 20, 30, 40, 50, 60)
DEFAULT_AMPERE = 30


class TariffError(ValueError):
    """The tariff cannot read this bill; `code` says why ("below_basic", "ampere", "price")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    up_to_kwh: Decimal | None  # None: no upper bound (the last band)
    yen_per_kwh: Decimal


@dataclass(frozen=True)
class ElectricityTariff:
    """A metered-lighting tariff for one month: basic charge by amperes, marginal tiers, per-kWh adders."""

    key: str
    name_ja: str
    name_en: str
    effective_from: date
    basic_yen_by_ampere: Mapping[int, Decimal]
    tiers: tuple[Tier, ...]
    fuel_adjustment_yen_per_kwh: Decimal = ZERO
    renewable_levy_yen_per_kwh: Decimal = ZERO

    def with_adders(self, fuel_adjustment: Decimal, renewable_levy: Decimal) -> "ElectricityTariff":
        return replace(self, fuel_adjustment_yen_per_kwh=fuel_adjustment, renewable_levy_yen_per_kwh=renewable_levy)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en

    def basic_yen(self, ampere: int) -> Decimal:
        if ampere not in self.basic_yen_by_ampere:
            raise TariffError("ampere")
        return self.basic_yen_by_ampere[ampere]

    def _bands(self) -> tuple[tuple[Decimal, Decimal | None, Decimal], ...]:
        """(from, to, yen per kWh including the adders) for each band; worked out once per tariff
        (a calculation asks for a monthly bill about fifty times)."""
        try:
            return self.__dict__["_bands_cache"]
        except KeyError:
            bands = tuple(self._compute_bands())
            self.__dict__["_bands_cache"] = bands  # frozen: stored beside the fields, not as one
            return bands

    def _compute_bands(self) -> list[tuple[Decimal, Decimal | None, Decimal]]:
        adders = self.fuel_adjustment_yen_per_kwh + self.renewable_levy_yen_per_kwh
        bands, start = [], ZERO
        for tier in self.tiers:
            price = tier.yen_per_kwh + adders
            if price <= 0:
                raise TariffError("price")
            bands.append((start, tier.up_to_kwh, price))
            if tier.up_to_kwh is None:
                break
            start = tier.up_to_kwh
        return bands

    def monthly_bill(self, kwh: Decimal, ampere: int = DEFAULT_AMPERE) -> Decimal:
        """The month's bill in yen (not yet rounded) for this many kWh."""
        total = self.basic_yen(ampere)
        for start, end, price in self._bands():
            if kwh <= start:
                break
            top = kwh if end is None else min(kwh, end)
            total += (top - start) * price
        return total

    def kwh_for_monthly_bill(self, bill_yen: Decimal, ampere: int = DEFAULT_AMPERE) -> Decimal:
        """The kWh a month's bill paid for: the inverse of monthly_bill, to 0.1 kWh."""
        left = bill_yen - self.basic_yen(ampere)
        if left < 0:
            raise TariffError("below_basic")
        kwh = ZERO
        for start, end, price in self._bands():
            width = None if end is None else end - start
            cost = None if width is None else width * price
            if cost is None or left <= cost:
                return tenth(kwh + left / price)
            kwh += width
            left -= cost
        return tenth(kwh)  # pragma: no cover - the last band has no upper bound

    def marginal_yen_per_kwh(self, kwh: Decimal) -> Decimal:
        """The price of the next kWh at this monthly use (what a saving saves first)."""
        for start, end, price in self._bands():
            if end is None or kwh < end:
                return price
        return self._bands()[-1][2]  # pragma: no cover


@dataclass(frozen=True)
class GasTable:
    name: str
    from_m3: Decimal
    to_m3: Decimal | None  # None: no upper bound
    basic_yen: Decimal
    yen_per_m3: Decimal

    def holds(self, m3: Decimal) -> bool:
        """Table A holds 0-20 m³ inclusive; every later table starts just above its lower bound."""
        above = m3 >= self.from_m3 if self.from_m3 == 0 else m3 > self.from_m3
        return above and (self.to_m3 is None or m3 <= self.to_m3)


@dataclass(frozen=True)
class GasTariff:
    """Tokyo Gas's general tariff: the month's total use chooses the table."""

    key: str
    name_ja: str
    name_en: str
    effective_from: date
    tables: tuple[GasTable, ...]
    adjustment_yen_per_m3: Decimal = ZERO  # the month's 原料費調整 (and any subsidy), on every m³
    _sorted: tuple[GasTable, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sorted", tuple(sorted(self.tables, key=lambda t: t.from_m3)))

    def with_adjustment(self, adjustment: Decimal) -> "GasTariff":
        return replace(self, adjustment_yen_per_m3=adjustment)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en

    def table_for(self, m3: Decimal) -> GasTable:
        for table in self._sorted:
            if table.holds(m3):
                return table
        return self._sorted[-1]

    def _unit(self, table: GasTable) -> Decimal:
        unit = table.yen_per_m3 + self.adjustment_yen_per_m3
        if unit <= 0:
            raise TariffError("price")
        return unit

    def monthly_bill(self, m3: Decimal) -> Decimal:
        table = self.table_for(m3)
        return table.basic_yen + self._unit(table) * m3

    def m3_for_monthly_bill(self, bill_yen: Decimal) -> tuple[Decimal, GasTable]:
        """The m³ a month's bill paid for, and the table whose range holds it.

        Each table is tried in order; the first whose solution lies in its own range wins. Where
        two tables' bills do not meet at a boundary (a gap), the nearest boundary is taken."""
        first = self._sorted[0]
        if bill_yen < first.basic_yen:
            raise TariffError("below_basic")
        best: tuple[Decimal, Decimal, GasTable] | None = None
        for table in self._sorted:
            m3 = (bill_yen - table.basic_yen) / self._unit(table)
            if m3 >= 0 and table.holds(m3):
                return tenth(m3), table
            clamped = max(m3, table.from_m3)
            if table.to_m3 is not None:
                clamped = min(clamped, table.to_m3)
            miss = abs(table.basic_yen + self._unit(table) * clamped - bill_yen)
            if best is None or miss < best[0]:
                best = (miss, clamped, table)
        assert best is not None  # nosec B101 - narrows the type; a schedule always has at least one table
        return tenth(best[1]), best[2]

    def marginal_yen_per_m3(self, m3: Decimal) -> Decimal:
        return self._unit(self.table_for(m3))


def annual_quantity_from_bill(bill_yen: Decimal, months: int, monthly_inverse) -> Decimal:
    """A bill for `months` months (1 or 12) -> a year's quantity, through the monthly inverse.

    A year's bill is read as twelve average months; since tiers are marginal, a household whose
    use swings with the seasons used a little more than this estimate."""
    monthly = monthly_inverse(bill_yen / months)
    return tenth(monthly * 12)


def annual_cost(monthly_bill, annual_quantity: Decimal) -> Decimal:
    """Twelve average months' bills for a year's quantity (for yen saved: cost before - after)."""
    return monthly_bill(annual_quantity / 12) * 12


def effective_on(schedules: Sequence, day: date):
    """The schedule in force on `day`: the latest effective_from not after it (None if none)."""
    chosen = None
    for schedule in schedules:
        if schedule.effective_from <= day and (chosen is None or schedule.effective_from > chosen.effective_from):
            chosen = schedule
    return chosen
