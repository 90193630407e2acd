"""A household's yearly CO2 from its energy and water use, and what remains after reductions."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from .conversion import share_of, yen_for_grams
from .reference import HouseholdAverage, SavingAction
from .sources import CAR_SOURCES, HOME_SOURCES, PERIOD_MONTHS, SOURCES


def grams_per_year(quantity: Decimal, period: str, kg_co2_per_unit: Decimal) -> int:
    """quantity x (12 for a month, 1 for a year) x factor x 1000, half up to a whole gram."""
    value = quantity * PERIOD_MONTHS[period] * kg_co2_per_unit * 1000
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quantity_from_bill(bill_yen: Decimal, yen_per_unit: Decimal) -> Decimal:
    """An estimate of the quantity a bill paid for (base charges and tiers are ignored)."""
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


def action_co2_g(action: SavingAction, factors: Mapping[str, Decimal]) -> int | None:
    """Grams a year the action saves, computed with the site's own factors so the figures agree."""
    if action.saving_amount is None:
        return None
    if action.saving_unit == "kg-CO2/yr":
        return int((action.saving_amount * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return grams_per_year(action.saving_amount, "year", factors[action.energy_source])


@dataclass(frozen=True)
class ActionOption:
    action: SavingAction
    co2_g: int
    selected: bool


def applicable_actions(
    footprint: Footprint,
    actions: Iterable[SavingAction],
    factors: Mapping[str, Decimal],
    selected: Iterable[str] = (),
) -> list[ActionOption]:
    """Actions that save something measurable on a source this household actually uses."""
    chosen = set(selected)
    options = []
    for action in actions:
        co2 = action_co2_g(action, factors)
        if co2 is None or co2 <= 0 or not footprint.uses(action.energy_source):
            continue
        options.append(ActionOption(action, co2, action.key in chosen))
    return options


@dataclass(frozen=True)
class Remainder:
    reduction_by_source_g: dict[str, int]
    capped_sources: tuple[str, ...] = field(default=())

    @property
    def reduction_g(self) -> int:
        return sum(self.reduction_by_source_g.values())


def apply_reductions(footprint: Footprint, options: Iterable[ActionOption]) -> Remainder:
    """Sum the selected actions per source, never saving more than the source emits."""
    wanted: dict[str, int] = {}
    for option in options:
        if option.selected:
            source = option.action.energy_source
            wanted[source] = wanted.get(source, 0) + option.co2_g
    reduction: dict[str, int] = {}
    capped = []
    for source, grams in wanted.items():
        limit = footprint.by_source_g.get(source, 0)
        if grams > limit:
            capped.append(source)
        reduction[source] = min(grams, limit)
    return Remainder(reduction, tuple(sorted(capped)))


@dataclass(frozen=True)
class Comparison:
    home_g: int
    average_home_g: int
    car_g: int
    average_car_g: int

    @staticmethod
    def percent(value: int, average: int) -> int | None:
        if average <= 0:
            return None
        return int((Decimal(value) * 100 / average).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def home_percent(self) -> int | None:
        return self.percent(self.home_g, self.average_home_g)

    @property
    def car_percent(self) -> int | None:
        return self.percent(self.car_g, self.average_car_g)


def compare(footprint: Footprint, average: HouseholdAverage, car_average_g: int) -> Comparison:
    """Home energy against home energy, car fuel against car fuel (water has no national average)."""
    return Comparison(footprint.home_g, average.total_home_g, footprint.car_g, car_average_g)


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
