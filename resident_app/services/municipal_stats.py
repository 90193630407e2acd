"""Municipal statistics from results residents chose to add: counts, and the median and
quartiles by household size where at least ten results exist. Only saved results whose owner
ticked the box count; deleting the result removes it from the statistics too."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ..carbon.municipalities import Municipality, municipalities
from ..carbon.statistics import MIN_RESULTS, Summary, summarise
from ..extensions import db
from ..models import SavedResult

SIZES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)  # 6 means 6 or more


@dataclass(frozen=True)
class MunicipalityStats:
    place: Municipality
    count: int
    by_size: dict[int, Summary]

    @property
    def any_shown(self) -> bool:
        return any(s.shown for s in self.by_size.values())


def municipality_stats() -> list[MunicipalityStats]:
    """Every municipality in the register's order, with the results counted for it."""
    values: dict[tuple[str, int], list[int]] = {}
    rows = db.session.execute(select(SavedResult.municipality_code, SavedResult.household_size, SavedResult.total_g)
                              .where(SavedResult.in_statistics.is_(True),
                                     SavedResult.municipality_code.is_not(None)))
    for code, size, total_g in rows:
        values.setdefault((code, min(max(size or 1, 1), 6)), []).append(total_g)
    result = []
    for code, place in municipalities().items():
        by_size = {size: summarise(values.get((code, size), [])) for size in SIZES}
        result.append(MunicipalityStats(place, sum(s.count for s in by_size.values()), by_size))
    return result


EXPORT_HEADER = ("municipality_code", "municipality_ja", "municipality_en", "area", "results",
                 "household_size", "results_of_this_size", "q1_kg", "median_kg", "q3_kg")


def export_rows() -> list[tuple]:
    """One row per municipality and household size; quartiles only where MIN_RESULTS exist."""
    def kg(grams: int | None) -> str:
        return "" if grams is None else str((Decimal(grams) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    rows: list[tuple] = [EXPORT_HEADER]
    for stats in municipality_stats():
        for size, summary in stats.by_size.items():
            rows.append((stats.place.code, stats.place.name_ja, stats.place.name_en, stats.place.area, stats.count,
                         "6+" if size == 6 else size, summary.count, kg(summary.q1_g), kg(summary.median_g),
                         kg(summary.q3_g)))
    return rows


__all__ = ["MIN_RESULTS", "MunicipalityStats", "export_rows", "municipality_stats"]
