"""Turning a resident's form into a calculation, and saving or deleting a shared result."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon import reference
from ..carbon.footprint import (OFFSET_PERCENTS, ActionOption, Comparison, Footprint, OffsetQuote,
                                Remainder, applicable_actions, apply_reductions, compare,
                                compute_footprint, quantity_from_bill, quote_offset)
from ..carbon.sources import (BILL_SOURCES, SOURCES, InputError, parse_household_size, parse_period,
                              parse_quantity)
from ..extensions import db
from ..models import FactorSet, SavedResult
from .audit import add_audit
from .errors import DomainError

MAX_FORM_HOUSEHOLD = 6
DEFAULT_OFFSET_PERCENT = 100


@dataclass
class CalculatorInput:
    """What the form holds, normalised for showing back; quantities per period as Decimals."""

    period: str = "month"
    household_size: int = 2
    values: dict[str, str] = field(default_factory=lambda: {s: "" for s in SOURCES})
    bill: dict[str, bool] = field(default_factory=lambda: {s: False for s in BILL_SOURCES})
    actions: list[str] = field(default_factory=list)
    offset_percent: int = DEFAULT_OFFSET_PERCENT
    quantities: dict[str, Decimal] = field(default_factory=dict)
    errors: dict[str, InputError] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"period": self.period, "household_size": self.household_size,
                "values": dict(self.values), "bill": dict(self.bill)}

    @property
    def has_values(self) -> bool:
        return any(q > 0 for q in self.quantities.values())


def parse_form(form: Mapping[str, str], actions: Sequence[str], unit_prices: Mapping[str, Decimal]) -> CalculatorInput:
    """Read the calculator form. Errors are kept per field; a field in error counts as 0."""
    data = CalculatorInput()
    try:
        data.period = parse_period(form.get("period", "month") or "month")
    except InputError as error:
        data.errors["period"] = error
    try:
        data.household_size = min(parse_household_size(form.get("household_size", "2") or "2"),
                                  MAX_FORM_HOUSEHOLD)
    except InputError as error:
        data.errors["household_size"] = error
    for source in SOURCES:
        raw = (form.get(source) or "").strip()
        data.values[source] = raw[:40]
        bill = source in BILL_SOURCES and form.get(f"{source}_unit") == "yen"
        if source in BILL_SOURCES:
            data.bill[source] = bill
        try:
            number = parse_quantity(source, raw, data.period, bill=bill)
        except InputError as error:
            data.errors[source] = error
            continue
        if bill:
            number = quantity_from_bill(number, unit_prices[source])
        data.quantities[source] = number
    known = {a.key for a in reference.saving_actions()}
    data.actions = [a for a in dict.fromkeys(actions) if a in known]
    try:
        percent = int(form.get("offset_percent", DEFAULT_OFFSET_PERCENT))
    except (TypeError, ValueError):
        percent = DEFAULT_OFFSET_PERCENT
    data.offset_percent = percent if percent in OFFSET_PERCENTS else DEFAULT_OFFSET_PERCENT
    return data


@dataclass(frozen=True)
class Calculation:
    data: CalculatorInput
    factor_set: FactorSet
    footprint: Footprint
    average: reference.HouseholdAverage
    comparison: Comparison
    options: list[ActionOption]
    remainder: Remainder
    quote: OffsetQuote | None

    @property
    def remainder_g(self) -> int:
        return self.footprint.total_g - self.remainder.reduction_g


def calculate(data: CalculatorInput, factor_set: FactorSet, rate_yen_per_t: int | None) -> Calculation:
    """Footprint, comparison, applicable actions, remainder and the offset quote for one input."""
    factors = factor_set.factor_map()
    footprint = compute_footprint(data.quantities, data.period, factors)
    average = reference.average_for(data.household_size)
    options = applicable_actions(footprint, reference.saving_actions(), factors, data.actions)
    remainder = apply_reductions(footprint, options)
    remaining = footprint.total_g - remainder.reduction_g
    quote = quote_offset(remaining, data.offset_percent, rate_yen_per_t) if rate_yen_per_t else None
    return Calculation(data, factor_set, footprint, average,
                       compare(footprint, average, reference.car_average_g()), options, remainder, quote)


def save_result(calc: Calculation) -> SavedResult:
    """Store the inputs and results under an unguessable token. Nothing about the person."""
    if calc.data.errors or not calc.data.has_values:
        raise DomainError(_l("Enter at least one amount, and correct the marked fields, before saving."))
    result = SavedResult(
        token=secrets.token_urlsafe(18),
        factor_set_id=calc.factor_set.id,
        inputs=calc.data.as_json(),
        quantities={s: str(q) for s, q in calc.data.quantities.items()},
        actions=[o.action.key for o in calc.options if o.selected],
        offset_percent=calc.data.offset_percent,
        total_g=calc.footprint.total_g,
        remainder_g=calc.remainder_g,
    )
    db.session.add(result)
    db.session.flush()
    add_audit("resident", "result.save", "saved_result", result.id, None,
              {"total_g": result.total_g, "factor_set_id": result.factor_set_id})
    db.session.commit()
    return result


def load_saved_input(result: SavedResult) -> CalculatorInput:
    """The stored input, with the stored quantities (so bill estimates are not redone)."""
    inputs = result.inputs
    data = CalculatorInput(
        period=inputs["period"], household_size=int(inputs["household_size"]),
        values={s: inputs["values"].get(s, "") for s in SOURCES},
        bill={s: bool(inputs["bill"].get(s)) for s in BILL_SOURCES},
        actions=list(result.actions), offset_percent=result.offset_percent,
        quantities={s: Decimal(q) for s, q in result.quantities.items()},
    )
    return data


def find_saved(token: str) -> SavedResult | None:
    """The saved result with this token, if any."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(SavedResult).where(SavedResult.token == token))


def delete_result(token: str) -> bool:
    """Delete a saved result for good. False when there was nothing to delete."""
    result = find_saved(token)
    if result is None:
        return False
    add_audit("resident", "result.delete", "saved_result", result.id,
              {"total_g": result.total_g}, None)
    db.session.delete(result)
    db.session.commit()
    return True
