"""Turning a resident's form into a calculation, and saving or deleting a shared result.

The form and the JSON API both end in `calculate`: bills through the tariffs in force today,
the electricity menu's factor, the footprint, the fair comparison, the actions that apply."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .days import TOKYO
from ..carbon import enduse
from ..carbon.actions import ActionPlan, Household, action_infos, plan_actions
from ..carbon.comparison import FairComparison, compare_fairly
from ..carbon.footprint import (OFFSET_PERCENTS, Footprint, OffsetQuote, compute_footprint, quantity_from_bill,
                                quote_offset)
from ..carbon.numbers import NumberError, parse_int
from ..carbon.municipalities import is_municipality_code
from ..carbon.sources import (BILL_SOURCES, PERIOD_MONTHS, SOURCES, InputError, parse_household_size,
                              parse_period, parse_quantity)
from ..carbon.tariffs import (CONTRACT_AMPERES, DEFAULT_AMPERE, TariffError, annual_cost,
                              annual_quantity_from_bill)
from ..extensions import db
from ..models import ElectricityMenu, FactorSet, SavedResult, utcnow
from .audit import add_audit
from .averages import Averages
from .errors import DomainError
from .menus import UNKNOWN, menu_factor
from .reference import reference

MAX_FORM_HOUSEHOLD = 6
DEFAULT_OFFSET_PERCENT = 100
# Results saved before the actions scaled with the household name the old fixed actions.
LEGACY_ACTIONS = {"ac_cool_28": "cooling_setpoint", "ac_heat_20": "heating_setpoint", "ac_cool_1h": "cooling_hours",
                  "ac_heat_1h": "heating_hours", "fridge_wall_gap": "fridge_wall", "led_ceiling": "led_living",
                  "led_bulb": "led_living", "tv_1h_less": "tv_hour", "toilet_seat_temp": "toilet_temp",
                  "dryer_natural": "laundry_air_dry", "eco_fuwari": "eco_start", "eco_early_off": "eco_accel_off",
                  "re_plan_switch": "renewable_menu"}


def today_in_tokyo() -> date:
    """Tariffs and adjustments are chosen by the day in Tokyo."""
    return utcnow().astimezone(TOKYO).date()


@dataclass(frozen=True)
class BillEstimate:
    """A bill read through a tariff: what it came to, and which tariff (name and date) read it."""

    source: str
    bill_yen: Decimal
    quantity_per_year: Decimal
    tariff_name_ja: str
    tariff_name_en: str
    tariff_from: str  # ISO date
    detail: str = ""  # the contract amperes, or the gas table chosen

    def tariff_name(self, locale: str) -> str:
        return self.tariff_name_ja if locale == "ja" else self.tariff_name_en

    def as_json(self) -> dict[str, str]:
        return {"quantity_per_year": str(self.quantity_per_year), "tariff_name_ja": self.tariff_name_ja,
                "tariff_name_en": self.tariff_name_en, "tariff_from": self.tariff_from, "detail": self.detail,
                "bill_yen": str(self.bill_yen)}


@dataclass
class CalculatorInput:
    """What the form holds, normalised for showing back; quantities per period as Decimals."""

    period: str = "month"
    household_size: int = 2
    values: dict[str, str] = field(default_factory=lambda: {s: "" for s in SOURCES})
    bill: dict[str, bool] = field(default_factory=lambda: {s: False for s in BILL_SOURCES})
    contract_ampere: int = DEFAULT_AMPERE
    electricity_menu: str = UNKNOWN
    municipality_code: str = ""
    actions: list[str] = field(default_factory=list)
    offset_percent: int = DEFAULT_OFFSET_PERCENT
    quantities: dict[str, Decimal] = field(default_factory=dict)
    estimates: dict[str, BillEstimate] = field(default_factory=dict)
    errors: dict[str, InputError] = field(default_factory=dict)
    water_entered: bool = False

    def as_json(self) -> dict[str, object]:
        return {"period": self.period, "household_size": self.household_size, "values": dict(self.values),
                "bill": dict(self.bill), "contract_ampere": self.contract_ampere,
                "estimates": {s: e.as_json() for s, e in self.estimates.items()}}

    @property
    def has_values(self) -> bool:
        return any(q > 0 for q in self.quantities.values())

    def annual(self) -> dict[str, Decimal]:
        months = PERIOD_MONTHS[self.period]
        return {s: q * months for s, q in self.quantities.items() if q > 0}


def read_bill(source: str, bill_yen: Decimal, period: str, ampere: int, day: date,
              fallback_prices: Mapping[str, Decimal]) -> BillEstimate:
    """A bill for the period through today's tariff (a flat unit price only if no tariff is loaded)."""
    months = 1 if period == "month" else 12
    tariff = _tariff(source, day)
    if tariff is None:
        per_period = quantity_from_bill(bill_yen, fallback_prices[source])
        return BillEstimate(source, bill_yen, per_period * PERIOD_MONTHS[period], "", "", "")
    if source == "electricity":
        annual = annual_quantity_from_bill(bill_yen, months, lambda yen: tariff.kwh_for_monthly_bill(yen, ampere))
        detail = f"{ampere}A"
    else:
        annual = annual_quantity_from_bill(bill_yen, months, lambda yen: tariff.m3_for_monthly_bill(yen)[0])
        detail = tariff.table_for(annual / 12).name
    return BillEstimate(source, bill_yen, annual, tariff.name_ja, tariff.name_en, tariff.effective_from.isoformat(),
                        detail)


def _tariff(source: str, day: date):
    ref = reference()
    return ref.electricity_tariff(day) if source == "electricity" else ref.gas_tariff(day)


def _bill_error(error: TariffError, source: str, ampere: int, day: date) -> InputError:
    if error.code == "below_basic":
        tariff = _tariff(source, day)
        basic = tariff.basic_yen(ampere) if source == "electricity" else tariff.tables[0].basic_yen
        return InputError("below_basic", basic=int(basic), ampere=ampere if source == "electricity" else 0)
    return InputError("invalid")


def parse_form(form: Mapping[str, str], actions: Sequence[str], *, day: date | None = None) -> CalculatorInput:
    """Read the calculator form. Errors are kept per field; a field in error counts as 0."""
    data = CalculatorInput()
    day = day or today_in_tokyo()
    try:
        data.period = parse_period(form.get("period", "month") or "month")
    except InputError as error:
        data.errors["period"] = error
    try:
        data.household_size = min(parse_household_size(form.get("household_size", "2") or "2"), MAX_FORM_HOUSEHOLD)
    except InputError as error:
        data.errors["household_size"] = error
    data.contract_ampere = parse_ampere(form.get("contract_ampere"), data.errors)
    menu = (form.get("electricity_menu") or UNKNOWN).strip()
    data.electricity_menu = menu if reference().menu_by_key(menu) is not None else UNKNOWN
    if menu != data.electricity_menu:
        data.errors["electricity_menu"] = InputError("unknown_menu")
    code = (form.get("municipality") or "").strip()
    if code and not is_municipality_code(code):
        data.errors["municipality"] = InputError("unknown_municipality")
    data.municipality_code = code if is_municipality_code(code) else ""
    bills = {s: form.get(f"{s}_unit") == "yen" for s in BILL_SOURCES}
    values = {s: (form.get(s) or "").strip() for s in SOURCES}
    read_values(data, values, bills, day)
    known = action_infos()
    data.actions = [a for a in dict.fromkeys(actions) if a in known]
    try:
        percent = int(form.get("offset_percent", DEFAULT_OFFSET_PERCENT))
    except (TypeError, ValueError):
        percent = DEFAULT_OFFSET_PERCENT
    data.offset_percent = percent if percent in OFFSET_PERCENTS else DEFAULT_OFFSET_PERCENT
    return data


def parse_ampere(value: object, errors: dict[str, InputError], field_name: str = "contract_ampere") -> int:
    """10-60 A (TEPCO's 従量電灯B sizes); blank is 30 A."""
    try:
        ampere = parse_int(value, max_chars=4)
    except NumberError:
        ampere = -1
    if ampere is None:
        return DEFAULT_AMPERE
    if ampere not in CONTRACT_AMPERES:
        errors[field_name] = InputError("invalid_ampere")
        return DEFAULT_AMPERE
    return ampere


def read_values(data: CalculatorInput, values: Mapping[str, object], bills: Mapping[str, bool], day: date,
                error_names: Mapping[str, str] | None = None) -> None:
    """Quantities (and bills, through the tariffs) into `data`; errors under the form's field names."""
    names = error_names or {s: s for s in SOURCES}
    prices = reference().unit_prices(day)
    for source in SOURCES:
        raw = values.get(source)
        bill = bool(bills.get(source))
        data.values[source] = str(raw)[:40] if raw is not None else ""
        if source in BILL_SOURCES:
            data.bill[source] = bill
        try:
            number = parse_quantity(source, raw, data.period, bill=bill)
        except InputError as error:
            data.errors[names[source]] = error
            continue
        if bill and number > 0:
            try:
                estimate = read_bill(source, number, data.period, data.contract_ampere, day, prices)
            except TariffError as error:
                data.errors[names[source]] = _bill_error(error, source, data.contract_ampere, day)
                continue
            data.estimates[source] = estimate
            number = estimate.quantity_per_year / PERIOD_MONTHS[data.period]
        data.quantities[source] = number
    data.water_entered = data.quantities.get("water", Decimal(0)) > 0


class TariffPricing:
    """Yen for a year's quantity: electricity and city gas through today's tariffs, other fuels at
    their unit price (no yen for a fuel without one)."""

    def __init__(self, day: date, ampere: int) -> None:
        ref = reference()
        self.electricity = ref.electricity_tariff(day)
        self.gas = ref.gas_tariff(day)
        self.ampere = ampere
        self.prices = ref.unit_prices(day)
        self._costs: dict[tuple[str, Decimal], Decimal | None] = {}

    def annual_cost(self, source: str, quantity: Decimal) -> Decimal | None:
        """Remembered per quantity: every action is measured against the same totals."""
        key = (source, quantity)
        if key not in self._costs:
            self._costs[key] = self._annual_cost(source, quantity)
        return self._costs[key]

    def _annual_cost(self, source: str, quantity: Decimal) -> Decimal | None:
        if source == "electricity" and self.electricity is not None:
            return annual_cost(lambda kwh: self.electricity.monthly_bill(kwh, self.ampere), quantity)
        if source == "city_gas" and self.gas is not None:
            return annual_cost(self.gas.monthly_bill, quantity)
        price = self.prices.get(source)
        return None if price is None else quantity * price


@dataclass(frozen=True)
class Calculation:
    data: CalculatorInput
    factor_set: FactorSet
    menu: ElectricityMenu | None
    factors: dict[str, Decimal]
    footprint: Footprint
    averages: Averages
    comparison: FairComparison
    plan: ActionPlan
    quote: OffsetQuote | None

    @property
    def remainder_g(self) -> int:
        return self.footprint.total_g - self.plan.reduction_g

    @property
    def electricity_factor(self) -> Decimal:
        return self.factors["electricity"]


def calculate(data: CalculatorInput, factor_set: FactorSet, rate_yen_per_t: int | None, *,
              electricity_factor: Decimal | None = None, day: date | None = None) -> Calculation:
    """Footprint, fair comparison, the actions that apply, what remains, and the offset quote.

    `electricity_factor` pins the menu's factor (a saved result keeps the one it was saved with)."""
    ref = reference()
    menu = ref.menu_by_key(data.electricity_menu)
    factors = dict(factor_set.factor_map())
    factors["electricity"] = electricity_factor if electricity_factor is not None else menu_factor(menu, factor_set)
    footprint = compute_footprint(data.quantities, data.period, factors)
    annual = data.annual()
    averages = ref.averages(data.household_size, factors["gasoline"])
    fair = compare_fairly(annual, factors, data.household_size, averages.by_fuel, averages.region)
    household = Household(data.household_size, annual, factors, enduse.split(annual), enduse.archetype(annual),
                          TariffPricing(day or today_in_tokyo(), data.contract_ampere), data.water_entered)
    plan = plan_actions(household, data.actions)
    remaining = footprint.total_g - plan.reduction_g
    quote = quote_offset(remaining, data.offset_percent, rate_yen_per_t) if rate_yen_per_t else None
    return Calculation(data, factor_set, menu, factors, footprint, averages, fair, plan, quote)


class DeleteOutcome(StrEnum):
    """What asking to delete a saved result came to."""

    DELETED = "deleted"
    GONE = "gone"        # nothing under that link (already deleted, or never there)
    REFUSED = "refused"  # the result is there, but the request does not hold its delete key


def _key_digest(delete_key: str) -> str:
    return hashlib.sha256(delete_key.encode()).hexdigest()


def holds_delete_key(result: SavedResult, delete_key: str | None) -> bool:
    """True when `delete_key` is this result's key. A result saved before keys existed has none."""
    if not result.delete_key_sha256 or not delete_key or len(delete_key) > 64:
        return False
    return hmac.compare_digest(_key_digest(delete_key), result.delete_key_sha256)


def save_result(calc: Calculation, *, in_statistics: bool = False) -> tuple[SavedResult, str]:
    """Store the inputs and results under an unguessable token, and return them with a separate
    delete key for the saving browser alone (only its SHA-256 is stored). Nothing about the person;
    the municipality only if chosen, and counted in its statistics only if the resident ticked it."""
    if calc.data.errors or not calc.data.has_values:
        raise DomainError(_l("Enter at least one amount, and correct the marked fields, before saving."))
    delete_key = secrets.token_urlsafe(32)
    result = SavedResult(
        token=secrets.token_urlsafe(18),
        delete_key_sha256=_key_digest(delete_key),
        factor_set_id=calc.factor_set.id,
        inputs=calc.data.as_json(),
        quantities={s: str(q) for s, q in calc.data.quantities.items()},
        actions=[r.key for r in calc.plan.results if r.selected],
        offset_percent=calc.data.offset_percent,
        total_g=calc.footprint.total_g,
        remainder_g=calc.remainder_g,
        electricity_menu=calc.data.electricity_menu,
        electricity_kg_co2_per_kwh=calc.electricity_factor,
        municipality_code=calc.data.municipality_code or None,
        household_size=calc.data.household_size,
        in_statistics=bool(in_statistics and calc.data.municipality_code),
    )
    db.session.add(result)
    db.session.flush()
    add_audit("resident", "result.save", "saved_result", result.id, None,
              {"total_g": result.total_g, "factor_set_id": result.factor_set_id,
               "in_statistics": result.in_statistics})
    db.session.commit()
    return result, delete_key


def load_saved_input(result: SavedResult) -> CalculatorInput:
    """The stored input, with the stored quantities (so bill estimates are not redone)."""
    inputs = result.inputs
    data = CalculatorInput(
        period=inputs["period"], household_size=int(inputs["household_size"]),
        values={s: inputs["values"].get(s, "") for s in SOURCES},
        bill={s: bool(inputs["bill"].get(s)) for s in BILL_SOURCES},
        contract_ampere=int(inputs.get("contract_ampere", DEFAULT_AMPERE)),
        electricity_menu=result.electricity_menu or UNKNOWN,
        municipality_code=result.municipality_code or "",
        actions=list(dict.fromkeys(LEGACY_ACTIONS.get(key, key) for key in result.actions)),
        offset_percent=result.offset_percent,
        quantities={s: Decimal(q) for s, q in result.quantities.items()},
        estimates={s: BillEstimate(s, Decimal(e["bill_yen"]), Decimal(e["quantity_per_year"]), e["tariff_name_ja"],
                                   e["tariff_name_en"], e["tariff_from"], e.get("detail", ""))
                   for s, e in inputs.get("estimates", {}).items()},
    )
    data.water_entered = data.quantities.get("water", Decimal(0)) > 0
    return data


def find_saved(token: str) -> SavedResult | None:
    """The saved result with this token, if any."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(SavedResult).where(SavedResult.token == token))


def delete_result(token: str, delete_key: str | None) -> DeleteOutcome:
    """Delete a saved result for good (and so its place in the statistics), if `delete_key` is its
    key: the share link alone (the token) can only read."""
    result = find_saved(token)
    if result is None:
        return DeleteOutcome.GONE
    if not holds_delete_key(result, delete_key):
        return DeleteOutcome.REFUSED
    add_audit("resident", "result.delete", "saved_result", result.id,
              {"total_g": result.total_g}, None)
    db.session.delete(result)
    db.session.commit()
    return DeleteOutcome.DELETED
