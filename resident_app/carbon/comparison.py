"""A fair comparison with households of the same size: same units, and one factor on both sides.

Energy is compared with energy (kWh, m³, L) against the MOE survey's physical averages. Where the
survey gives a physical average only for all households, the size's figure is that average times
the size's CO2 ratio to all households (the survey uses one factor per fuel, so the ratio is the
ratio of quantities). CO2 is then recomputed from the average quantities with the household's
own factors, so a different electricity factor on either side cannot make a gap."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from .citations import DATA_DIR

HOME_FUELS: tuple[str, ...] = ("electricity", "city_gas", "lpg", "kerosene")
COMPARED: tuple[str, ...] = (*HOME_FUELS, "car_fuel")
UNITS: dict[str, str] = {"electricity": "kWh", "city_gas": "m3", "lpg": "m3", "kerosene": "L", "car_fuel": "L"}
# Heat per unit, for a home-energy total that needs no emission factor at all.
MJ_PER_UNIT: dict[str, Decimal] = {"electricity": Decimal("3.6"), "city_gas": Decimal("45"),
                                   "lpg": Decimal("101.6"), "kerosene": Decimal("36.7")}
BASIS = "same_units_same_factors"
ALL = "all"


@dataclass(frozen=True)
class AverageRow:
    """One published figure: a region's average for a household size ("1".."6" or "all")."""

    region: str
    household_size: str
    fuel: str
    metric: str  # "co2_t" or "quantity"
    value: Decimal
    unit: str
    year: str
    citation: str = ""
    confidence: str = ""
    staff_note: str = ""


@dataclass(frozen=True)
class PhysicalAverage:
    fuel: str
    quantity: Decimal
    unit: str
    year: str
    region: str
    derived: bool  # True when scaled by a CO2 ratio or converted with a factor
    citation: str


@lru_cache(maxsize=4)
def national_rows(data_dir: Path = DATA_DIR) -> tuple[AverageRow, ...]:
    with open(data_dir / "national_averages.csv", encoding="utf-8", newline="") as handle:
        return tuple(AverageRow(r["region"], r["household_size"], r["fuel"], r["metric"], Decimal(r["value"]),
                                r["unit"], r["year"], r["citation"], r["confidence"], r["staff_note"])
                     for r in csv.DictReader(handle))


def size_key(persons: int) -> str:
    return str(min(max(persons, 1), 6))


def physical_averages(rows: Iterable[AverageRow], persons: int, gasoline_kg_per_l: Decimal
                      ) -> dict[str, PhysicalAverage]:
    """The average quantity a year per compared fuel for this size, from one region's rows."""
    table = {(r.household_size, r.fuel, r.metric): r for r in rows}
    size = size_key(persons)
    result: dict[str, PhysicalAverage] = {}
    for fuel in COMPARED:
        direct = table.get((size, fuel, "quantity"))
        if direct is None and fuel == "car_fuel":  # car fuel is published for all households only
            direct = table.get((ALL, fuel, "quantity"))
        if direct is not None:
            result[fuel] = PhysicalAverage(fuel, direct.value, UNITS[fuel], direct.year, direct.region, False,
                                           direct.citation)
            continue
        every, co2_size, co2_all = (table.get((ALL, fuel, "quantity")), table.get((size, fuel, "co2_t")),
                                    table.get((ALL, fuel, "co2_t")))
        if every is not None and co2_size is not None and co2_all is not None and co2_all.value > 0:
            result[fuel] = PhysicalAverage(fuel, every.value * co2_size.value / co2_all.value, UNITS[fuel],
                                           every.year, every.region, True, every.citation)
        elif fuel == "car_fuel" and co2_all is not None and gasoline_kg_per_l > 0:
            result[fuel] = PhysicalAverage(fuel, co2_all.value * 1000 / gasoline_kg_per_l, "L", co2_all.year,
                                           co2_all.region, True, co2_all.citation)
    return result


def merged_averages(primary: Mapping[str, PhysicalAverage], fallback: Mapping[str, PhysicalAverage]
                    ) -> dict[str, PhysicalAverage]:
    """A regional table's figures, with the national ones for fuels it lacks."""
    return {fuel: primary.get(fuel) or fallback[fuel] for fuel in COMPARED if fuel in primary or fuel in fallback}


def _g(quantity: Decimal, factor: Decimal) -> int:
    return int((quantity * factor * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ComparedFuel:
    fuel: str
    yours: Decimal
    average: Decimal | None
    unit: str

    @property
    def percent(self) -> int | None:
        if not self.average:
            return None
        return int((self.yours * 100 / self.average).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class FairComparison:
    region: str
    persons: int
    rows: tuple[ComparedFuel, ...]
    averages: Mapping[str, PhysicalAverage]
    home_mj: Decimal
    average_home_mj: Decimal
    home_g: int
    average_home_g: int
    car_g: int
    average_car_g: int
    basis: str = BASIS

    @staticmethod
    def percent(value, average) -> int | None:
        if not average:
            return None
        return int((Decimal(value) * 100 / Decimal(average)).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def home_percent(self) -> int | None:
        return self.percent(self.home_g, self.average_home_g)

    @property
    def energy_percent(self) -> int | None:
        return self.percent(self.home_mj, self.average_home_mj)

    @property
    def car_percent(self) -> int | None:
        return self.percent(self.car_g, self.average_car_g)


def compare_fairly(annual: Mapping[str, Decimal], factors: Mapping[str, Decimal], persons: int,
                   averages: Mapping[str, PhysicalAverage], region: str) -> FairComparison:
    """The household's yearly quantities against the averages, in the same units and with its factors."""
    yours = {fuel: annual.get(fuel, Decimal(0)) for fuel in HOME_FUELS}
    yours["car_fuel"] = annual.get("gasoline", Decimal(0)) + annual.get("diesel", Decimal(0))
    rows = tuple(ComparedFuel(fuel, yours[fuel], averages[fuel].quantity if fuel in averages else None, UNITS[fuel])
                 for fuel in COMPARED)
    home_mj = sum((yours[f] * MJ_PER_UNIT[f] for f in HOME_FUELS), Decimal(0))
    avg_mj = sum((averages[f].quantity * MJ_PER_UNIT[f] for f in HOME_FUELS if f in averages), Decimal(0))
    home_g = sum(_g(yours[f], factors[f]) for f in HOME_FUELS)
    avg_home_g = sum(_g(averages[f].quantity, factors[f]) for f in HOME_FUELS if f in averages)
    car_g = _g(annual.get("gasoline", Decimal(0)), factors["gasoline"]) + _g(annual.get("diesel", Decimal(0)),
                                                                             factors["diesel"])
    avg_car = averages.get("car_fuel")
    avg_car_g = _g(avg_car.quantity, factors["gasoline"]) if avg_car else 0
    return FairComparison(region, min(max(persons, 1), 6), rows, dict(averages), home_mj, avg_mj, home_g,
                          avg_home_g, car_g, avg_car_g)
