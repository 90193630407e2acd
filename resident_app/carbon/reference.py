"""Reference figures shipped with the site: national and regional household averages."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from .conversion import kg_to_g

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class HouseholdAverage:
    persons: int  # 6 means "6 or more"
    by_source_g: dict[str, int]
    total_home_g: int
    fiscal_year: str
    source: str


@dataclass(frozen=True)
class Figure:
    value: Decimal | None
    unit: str
    fiscal_year: str
    confidence: str
    source: str


def _rows(name: str, data_dir: Path) -> list[dict[str, str]]:
    """CSV rows; a source written as "same ..." repeats the previous row's source."""
    with open(data_dir / name, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    previous = ""
    for row in rows:
        source = row.get("source", "")
        if source.startswith("same") and previous:
            note = source[len("same"):].strip()
            row["source"] = f"{previous} {note}".strip() if note else previous
        elif source:
            previous = source
    return rows


def _t_to_g(text: str) -> int:
    return kg_to_g(Decimal(text) * 1000)


@lru_cache(maxsize=4)
def household_averages(data_dir: Path = DATA_DIR) -> dict[int, HouseholdAverage]:
    """National home-energy averages (car fuel excluded) by household size, MOE FY2022."""
    result = {}
    for row in _rows("household_averages.csv", data_dir):
        if not row["persons"].isdigit():
            continue
        persons = int(row["persons"])
        by_source = {s: _t_to_g(row[f"{s}_t"]) for s in ("electricity", "city_gas", "lpg", "kerosene")}
        result[persons] = HouseholdAverage(
            persons, by_source, _t_to_g(row["total_home_t"]), row["fiscal_year"], row["source"]
        )
    return result


def average_for(household_size: int, data_dir: Path = DATA_DIR) -> HouseholdAverage:
    """The average for this many people; 6 and more share the '6 or more' row."""
    averages = household_averages(data_dir)
    return averages[min(max(household_size, 1), max(averages))]


@lru_cache(maxsize=4)
def other_figures(data_dir: Path = DATA_DIR) -> dict[str, Figure]:
    """Single figures such as car fuel per household, keyed by item."""
    return {
        row["item"]: Figure(_decimal_or_none(row["value"]), row["unit"], row["fiscal_year"],
                            row["confidence"], row["source"])
        for row in _rows("household_other_averages.csv", data_dir)
    }


def car_average_g(data_dir: Path = DATA_DIR) -> int:
    """National car fuel (gasoline + diesel) per household a year, in grams."""
    return _t_to_g(str(other_figures(data_dir)["car_fuel_per_household"].value))


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None
