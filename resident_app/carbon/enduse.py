"""What a household's energy goes to: its yearly quantities split into end uses.

We do not ask about appliances, so the split is an estimate: the shares of each end use in the
open うちエコ診断 engine (d62) for a typical Tokyo household of the same kind, chosen by what the
household uses (gas or not for hot water; kerosene or the air conditioner for heating). Car fuel
is all car; kerosene is all heating. Shares live in data/end_use_shares.csv with their source."""
from __future__ import annotations

import csv
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from .citations import DATA_DIR

END_USES: tuple[str, ...] = ("heating", "cooling", "hot_water", "kitchen", "fridge", "lighting", "tv",
                             "toilet_seat", "laundry", "other", "car", "water")
ARCHETYPES: tuple[str, ...] = ("gas_ac", "gas_kerosene", "electric_ac", "electric_kerosene")
# A share row for "gas" applies to whichever gas the household uses.
SHARE_FUELS: dict[str, str] = {"electricity": "electricity", "city_gas": "gas", "lpg": "gas",
                               "kerosene": "kerosene"}
FIXED_END_USE: dict[str, str] = {"gasoline": "car", "diesel": "car", "water": "water"}

EndUseEnergy = dict[tuple[str, str], Decimal]  # (end use, source) -> quantity a year


def archetype(annual: Mapping[str, Decimal]) -> str:
    """gas_/electric_ (is there gas for hot water?) + ac/kerosene (what mainly heats)."""
    has_gas = annual.get("city_gas", Decimal(0)) > 0 or annual.get("lpg", Decimal(0)) > 0
    heater = "kerosene" if annual.get("kerosene", Decimal(0)) > 0 else "ac"
    return f"{'gas' if has_gas else 'electric'}_{heater}"


@lru_cache(maxsize=4)
def shares(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(archetype, share fuel) -> {end use: share}; each group sums to 1."""
    result: dict[tuple[str, str], dict[str, Decimal]] = {}
    with open(data_dir / "end_use_shares.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            result.setdefault((row["archetype"], row["fuel"]), {})[row["end_use"]] = Decimal(row["share"])
    for key, group in result.items():
        if sum(group.values()) != 1:
            raise ValueError(f"end-use shares for {key} do not sum to 1")
    return result


def split(annual: Mapping[str, Decimal], table: Mapping[tuple[str, str], Mapping[str, Decimal]] | None = None
          ) -> EndUseEnergy:
    """Each source's yearly quantity spread over end uses by the archetype's shares."""
    table = shares() if table is None else table
    kind = archetype(annual)
    result: EndUseEnergy = {}
    for source, quantity in annual.items():
        if quantity <= 0:
            continue
        if source in FIXED_END_USE:
            result[(FIXED_END_USE[source], source)] = quantity
            continue
        for end_use, share in table[(kind, SHARE_FUELS[source])].items():
            if share:
                result[(end_use, source)] = quantity * share
    return result


def by_end_use(energy: Mapping[tuple[str, str], Decimal], end_use: str) -> dict[str, Decimal]:
    """{source: quantity} for one end use."""
    return {source: q for (use, source), q in energy.items() if use == end_use and q > 0}
