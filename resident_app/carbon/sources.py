"""The household energy sources the calculator knows, their units and plausible bounds."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .numbers import NumberError, parse_decimal, parse_int

SOURCES: tuple[str, ...] = ("electricity", "city_gas", "lpg", "kerosene", "gasoline", "diesel", "water")
HOME_SOURCES: tuple[str, ...] = ("electricity", "city_gas", "lpg", "kerosene")
CAR_SOURCES: tuple[str, ...] = ("gasoline", "diesel")
BILL_SOURCES: tuple[str, ...] = ("electricity", "city_gas")

UNITS: dict[str, str] = {
    "electricity": "kWh",
    "city_gas": "m3",
    "lpg": "m3",
    "kerosene": "L",
    "gasoline": "L",
    "diesel": "L",
    "water": "m3",
}

# JSON API field names: the unit is part of the name so a caller cannot mistake it.
API_FIELDS: dict[str, str] = {
    "electricity": "electricity_kwh",
    "city_gas": "city_gas_m3",
    "lpg": "lpg_m3",
    "kerosene": "kerosene_l",
    "gasoline": "gasoline_l",
    "diesel": "diesel_l",
    "water": "water_m3",
}

# Upper bounds for one MONTH of one household. Far above any real home (the national average
# is about 350 kWh and 17 m3 of city gas a month, MOE FY2021), low enough to catch a typo
# such as a meter reading typed instead of the month's use. A year allows twelve times as much.
MONTHLY_BOUNDS: dict[str, Decimal] = {
    "electricity": Decimal(20_000),
    "city_gas": Decimal(2_000),
    "lpg": Decimal(500),
    "kerosene": Decimal(2_000),
    "gasoline": Decimal(1_000),
    "diesel": Decimal(1_000),
    "water": Decimal(1_000),
}
MONTHLY_BILL_BOUNDS_YEN: dict[str, int] = {"electricity": 1_000_000, "city_gas": 500_000}

PERIOD_MONTHS: dict[str, int] = {"month": 12, "year": 1}
MAX_HOUSEHOLD_SIZE_INPUT = 100  # anything from 6 up uses the "6 or more" average
MAX_INPUT_CHARS = 20


class InputError(ValueError):
    """A single value was not acceptable; `code` names why, `params` fill the message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Bound:
    limit: Decimal
    unit: str


def bound_for(source: str, period: str, *, bill: bool = False) -> Bound:
    """The largest acceptable value for a source in the given period (quantity or yen)."""
    months = 1 if period == "month" else 12
    if bill:
        return Bound(Decimal(MONTHLY_BILL_BOUNDS_YEN[source] * months), "yen")
    return Bound(MONTHLY_BOUNDS[source] * months, UNITS[source])


def parse_number(value: object) -> Decimal:
    """Read a non-negative number typed by a person: blank is 0, full-width digits and commas are fine.

    Raises InputError("invalid") for text, NaN, infinity and wrong JSON types, and
    InputError("negative"). The reading itself is carbon.numbers, shared by every form.
    """
    try:
        number = parse_decimal(value, max_chars=MAX_INPUT_CHARS)
    except NumberError as error:
        raise InputError("negative" if error.code == "negative" else "invalid") from None
    return Decimal(0) if number is None else number


def parse_quantity(source: str, value: object, period: str, *, bill: bool = False) -> Decimal:
    """Parse one source's value for the period and check it against the plausible bound."""
    number = parse_number(value)
    bound = bound_for(source, period, bill=bill)
    if number > bound.limit:
        raise InputError("too_large", limit=int(bound.limit), unit=bound.unit)
    return number


def parse_period(value: object) -> str:
    """'month' or 'year'; anything else is an InputError."""
    if value in PERIOD_MONTHS:
        return str(value)
    raise InputError("invalid_period")


def parse_household_size(value: object) -> int:
    """A whole number of people, 1 or more."""
    try:
        size = parse_int(value, max_chars=4)
    except NumberError:
        raise InputError("invalid_household_size") from None
    if size is None or not 1 <= size <= MAX_HOUSEHOLD_SIZE_INPUT:
        raise InputError("invalid_household_size")
    return size
