"""A household's yearly CO2 from its energy and water use, and what offsetting the remainder costs."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from .conversion import share_of, yen_for_grams
from .sources import CAR_SOURCES, HOME_SOURCES, PERIOD_MONTHS, SOURCES


def grams_per_year(quantity: Decimal, period: str, kg_co2_per_unit: Decimal) -> int:
    """quantity x (12 for a month, 1 for a year) x factor x 1000, half up to a whole gram."""
    value = quantity * PERIOD_MONTHS[period] * kg_co2_per_unit * 1000
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quantity_from_bill(bill_yen: Decimal, yen_per_unit: Decimal) -> Decimal:
    """A flat-price estimate of what a bill paid for: only when no tariff is loaded (carbon.tariffs)."""
    if yen_per_unit <= 0:
        raise ValueError("unit price must be positive")
    return bill_yen / yen_per_unit


@dataclass(frozen=True)
class Footprint:
    by_source_g: dict[str, int]

    @property
    def total_g(self) -> int:
        return sum(self.by_source_g.values())

    @property
    def home_g(self) -> int:
        return sum(self.by_source_g[s] for s in HOME_SOURCES)

    @property
    def car_g(self) -> int:
        return sum(self.by_source_g[s] for s in CAR_SOURCES)

    @property
    def water_g(self) -> int:
        return self.by_source_g["water"]

    def uses(self, source: str) -> bool:
        return self.by_source_g.get(source, 0) > 0


def compute_footprint(
    quantities: Mapping[str, Decimal], period: str, factors: Mapping[str, Decimal]
) -> Footprint:
    """Grams a year per source; sources not given count as 0. The total is the sum of the sources."""
    return Footprint(
        {s: grams_per_year(quantities.get(s, Decimal(0)), period, factors[s]) for s in SOURCES}
    )


@dataclass(frozen=True)
class OffsetQuote:
    remainder_g: int
    percent: int
    co2_g: int
    amount_yen: int
    rate_yen_per_t: int


OFFSET_PERCENTS: tuple[int, ...] = (10, 25, 50, 100)


def quote_offset(remainder_g: int, percent: int, rate_yen_per_t: int) -> OffsetQuote:
    """What offsetting `percent` % of the remainder costs at the rate in force."""
    co2 = share_of(remainder_g, percent)
    return OffsetQuote(remainder_g, percent, co2, yen_for_grams(co2, rate_yen_per_t), rate_yen_per_t)
