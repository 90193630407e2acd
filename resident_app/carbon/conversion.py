"""Yen <-> grams at the programme's rate (yen per tonne of CO2)."""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

GRAMS_PER_TONNE = 1_000_000


def kg_to_g(kg: Decimal) -> int:
    """Kilograms (Decimal) to whole grams, half up."""
    return int((kg * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grams_for_yen(amount_yen: int, rate_yen_per_t: int) -> int:
    """The grams a payment buys, rounded down so the pool never promises more than it can buy."""
    if rate_yen_per_t <= 0:
        raise ValueError("rate must be positive")
    value = Decimal(amount_yen) * GRAMS_PER_TONNE / Decimal(rate_yen_per_t)
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def yen_for_grams(co2_g: int, rate_yen_per_t: int) -> int:
    """The yen needed to offset the grams, rounded up to a whole yen for the same reason."""
    if rate_yen_per_t <= 0:
        raise ValueError("rate must be positive")
    value = Decimal(co2_g) * Decimal(rate_yen_per_t) / GRAMS_PER_TONNE
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def kept_grams(co2_g: int, amount_yen: int, kept_yen: int) -> int:
    """The grams a contribution still owes when `kept_yen` of its `amount_yen` stay after a partial
    refund: in proportion, rounded down so the pool never promises more than the money left buys."""
    if amount_yen <= 0 or not 0 <= kept_yen <= amount_yen or co2_g < 0:
        raise ValueError("kept yen must be between 0 and a positive amount")
    return co2_g * kept_yen // amount_yen


def share_of(co2_g: int, percent: int) -> int:
    """`percent` % of the grams, half up to a whole gram."""
    return int((Decimal(co2_g) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
