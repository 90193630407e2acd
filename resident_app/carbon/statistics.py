"""Median and quartiles of anonymous results, shown only where there are enough of them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

MIN_RESULTS = 10  # fewer results than this are counted but never summarised


def quantile(sorted_values: Sequence[int], fraction: Decimal) -> int:
    """Linear interpolation between the closest ranks ((n − 1) × p, as spreadsheets' QUARTILE.INC),
    rounded half up to a whole gram."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Summary:
    count: int
    q1_g: int | None
    median_g: int | None
    q3_g: int | None

    @property
    def shown(self) -> bool:
        return self.median_g is not None


def summarise(values: Iterable[int], minimum: int = MIN_RESULTS) -> Summary:
    """Count always; quartiles only from `minimum` results up, so no one result can be singled out."""
    ordered = sorted(values)
    if len(ordered) < minimum:
        return Summary(len(ordered), None, None, None)
    return Summary(len(ordered), quantile(ordered, Decimal("0.25")), quantile(ordered, Decimal("0.5")),
                   quantile(ordered, Decimal("0.75")))
