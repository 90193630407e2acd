"""Tariffs in force and their monthly adjustments: read for the calculator, changed by staff.

A tariff schedule is never edited in place: staff add a new schedule from a date, and a new
adjustment (the month's 燃料費調整, the fiscal year's 再エネ賦課金, Tokyo Gas's 原料費調整) from a day.
The one in force on a day is the latest started; with no adjustment the amount is 0."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..carbon.citations import DATA_DIR, Citation, citation
from ..carbon.numbers import NumberError, parse_decimal
from ..carbon.tariffs import CONTRACT_AMPERES, ElectricityTariff, GasTable, GasTariff, Tier
from ..extensions import db
from ..models import Tariff, TariffAdjustment, utcnow
from .audit import add_audit
from .errors import InvalidInput

ELECTRICITY_KEY = "tepco_b"
GAS_KEY = "tokyo_gas_general"
FUEL_COST, RENEWABLE_LEVY, GAS_MATERIAL = "fuel_cost", "renewable_levy", "gas_material_cost"
ADJUSTMENT_KINDS: dict[str, str] = {FUEL_COST: ELECTRICITY_KEY, RENEWABLE_LEVY: "", GAS_MATERIAL: GAS_KEY}
MAX_ABS_ADJUSTMENT = Decimal(100)
MAX_PRICE = Decimal(100_000)


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def to_electricity(row: Tariff, fuel_cost: Decimal = Decimal(0), levy: Decimal = Decimal(0)) -> ElectricityTariff:
    schedule = row.schedule
    return ElectricityTariff(
        row.key, row.name_ja, row.name_en, row.effective_from,
        {int(a): _d(v) for a, v in schedule["basic_yen_by_ampere"].items()},
        tuple(Tier(None if t["up_to_kwh"] in (None, "") else _d(t["up_to_kwh"]), _d(t["yen_per_kwh"]))
              for t in schedule["tiers"]),
        fuel_cost, levy)


def to_gas(row: Tariff, adjustment: Decimal = Decimal(0)) -> GasTariff:
    return GasTariff(row.key, row.name_ja, row.name_en, row.effective_from, tuple(
        GasTable(t["name"], _d(t["from_m3"]), None if t["to_m3"] in (None, "") else _d(t["to_m3"]),
                 _d(t["basic_yen"]), _d(t["yen_per_m3"])) for t in row.schedule["tables"]), adjustment)


def schedule_on(key: str, day: date) -> Tariff | None:
    """The schedule of `key` in force on `day`."""
    return db.session.scalar(select(Tariff).where(Tariff.key == key, Tariff.effective_from <= day)
                             .order_by(Tariff.effective_from.desc()).limit(1))


def adjustment_on(kind: str, day: date) -> TariffAdjustment | None:
    """The adjustment of this kind in force on `day` (None: none set yet, which counts as 0)."""
    return db.session.scalar(
        select(TariffAdjustment).where(TariffAdjustment.kind == kind,
                                       TariffAdjustment.tariff_key == ADJUSTMENT_KINDS[kind],
                                       TariffAdjustment.starts_on <= day)
        .order_by(TariffAdjustment.starts_on.desc()).limit(1))


def _amount(row: TariffAdjustment | None) -> Decimal:
    return row.yen_per_unit if row is not None else Decimal(0)


def electricity_tariff_on(day: date) -> ElectricityTariff | None:
    """TEPCO 従量電灯B on `day`, with that day's fuel cost adjustment and renewable surcharge."""
    row = schedule_on(ELECTRICITY_KEY, day)
    if row is None:
        return None
    return to_electricity(row, _amount(adjustment_on(FUEL_COST, day)), _amount(adjustment_on(RENEWABLE_LEVY, day)))


def gas_tariff_on(day: date) -> GasTariff | None:
    row = schedule_on(GAS_KEY, day)
    return None if row is None else to_gas(row, _amount(adjustment_on(GAS_MATERIAL, day)))


def all_schedules() -> list[Tariff]:
    return list(db.session.scalars(select(Tariff).order_by(Tariff.key, Tariff.effective_from.desc())))


def all_adjustments() -> list[TariffAdjustment]:
    return list(db.session.scalars(select(TariffAdjustment).order_by(
        TariffAdjustment.kind, TariffAdjustment.starts_on.desc())))


# --- seeding ---------------------------------------------------------------------------------------

def seed_tariffs(data_dir: Path = DATA_DIR, actor: str = "system") -> int:
    """Load data/tariffs.json's schedules and adjustments that are not there yet; returns rows added."""
    data = json.loads((data_dir / "tariffs.json").read_text(encoding="utf-8"))
    added = 0
    for item in data["schedules"]:
        start = date.fromisoformat(item["effective_from"])
        if db.session.scalar(select(Tariff.id).where(Tariff.key == item["key"], Tariff.effective_from == start)):
            continue
        schedule = {k: item[k] for k in ("basic_yen_by_ampere", "tiers", "tables") if k in item}
        row = Tariff(key=item["key"], kind=item["kind"], name_ja=item["name_ja"], name_en=item["name_en"],
                     effective_from=start, schedule=schedule, confidence=item["confidence"],
                     staff_note=item["staff_note"], created_by=actor)
        row.set_citation(citation(item["citation"], data_dir))
        db.session.add(row)
        added += 1
    for item in data["adjustments"]:
        start, key = date.fromisoformat(item["starts_on"]), item["tariff_key"] or ""
        if db.session.scalar(select(TariffAdjustment.id).where(
                TariffAdjustment.kind == item["kind"], TariffAdjustment.tariff_key == key,
                TariffAdjustment.starts_on == start)):
            continue
        row = TariffAdjustment(kind=item["kind"], tariff_key=key, starts_on=start,
                               yen_per_unit=Decimal(item["yen_per_unit"]), confidence=item["confidence"],
                               staff_note=item["staff_note"], created_by=actor)
        row.set_citation(citation(item["citation"], data_dir))
        db.session.add(row)
        added += 1
    if added:
        add_audit(actor, "tariffs.seed", "tariff", "-", None, {"rows": added})
    db.session.commit()
    return added


# --- staff changes ---------------------------------------------------------------------------------

def _price(raw: str | None, errors: dict[str, str], field: str) -> Decimal | None:
    try:
        value = parse_decimal(raw, yen=True)
    except NumberError:
        errors[field] = _l("Enter a number, for example 29.8.")
        return None
    if value is None or not 0 < value <= MAX_PRICE:
        errors[field] = _l("Enter a price above 0.")
        return None
    return value


def add_electricity_schedule(form: Mapping[str, str], *, effective_from: date | None, citation_row: Citation,
                             confidence: str, staff_note: str, actor: str) -> Tariff:
    """A new 従量電灯B price list from a date: a basic charge per contract size and three tier prices."""
    errors: dict[str, str] = {}
    basic = {str(a): _price(form.get(f"basic_{a}"), errors, f"basic_{a}") for a in CONTRACT_AMPERES}
    tiers = [_price(form.get(f"tier_{n}"), errors, f"tier_{n}") for n in (1, 2, 3)]
    schedule = {"basic_yen_by_ampere": {a: str(v) for a, v in basic.items() if v is not None},
                "tiers": [{"up_to_kwh": bound, "yen_per_kwh": str(price) if price is not None else ""}
                          for bound, price in zip(("120", "300", None), tiers)]}
    return _add_schedule(ELECTRICITY_KEY, "electricity", schedule, errors, effective_from, citation_row,
                         confidence, staff_note, actor)


def add_gas_schedule(form: Mapping[str, str], *, effective_from: date | None, citation_row: Citation,
                     confidence: str, staff_note: str, actor: str) -> Tariff:
    """A new Tokyo Gas price list from a date: each table's basic charge and unit price."""
    errors: dict[str, str] = {}
    current = schedule_on(GAS_KEY, date.max) or _missing()
    tables = []
    for table in current.schedule["tables"]:
        name = table["name"]
        basic = _price(form.get(f"gas_basic_{name}"), errors, f"gas_basic_{name}")
        unit = _price(form.get(f"gas_unit_{name}"), errors, f"gas_unit_{name}")
        tables.append({**table, "basic_yen": str(basic), "yen_per_m3": str(unit)})
    return _add_schedule(GAS_KEY, "city_gas", {"tables": tables}, errors, effective_from, citation_row, confidence,
                         staff_note, actor)


def _missing():
    raise InvalidInput({"effective_from": _l("There is no tariff to start from.")})


def _add_schedule(key: str, kind: str, schedule: dict, errors: dict[str, str], effective_from: date | None,
                  citation_row: Citation, confidence: str, staff_note: str, actor: str) -> Tariff:
    if effective_from is None:
        errors["effective_from"] = _l("Enter the date the prices apply from.")
    if confidence not in ("P", "P*", "S", "D", "U"):
        errors["confidence"] = _l("Choose a confidence mark.")
    if not (citation_row.title_ja and citation_row.title_en):
        errors["cite_title_ja"] = _l("Enter the source's title in Japanese and in English: residents see it.")
    template = schedule_on(key, date.max)
    if template is None:
        errors.setdefault("effective_from", _l("There is no tariff to start from."))
    elif effective_from is not None and db.session.scalar(
            select(Tariff.id).where(Tariff.key == key, Tariff.effective_from == effective_from)):
        errors["effective_from"] = _l("This tariff already has prices from that date.")
    if errors:
        raise InvalidInput(errors)
    assert template is not None and effective_from is not None  # nosec B101 - narrows the type; errors raised above
    row = Tariff(key=key, kind=kind, name_ja=template.name_ja, name_en=template.name_en,
                 effective_from=effective_from, schedule=schedule, confidence=confidence,
                 staff_note=staff_note.strip(), created_by=actor)
    row.set_citation(citation_row)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput({"effective_from": _l("This tariff already has prices from that date.")}) from None
    add_audit(actor, "tariff.add", "tariff", row.id, None,
              {"key": key, "effective_from": effective_from.isoformat(), "schedule": schedule})
    db.session.commit()
    return row


def set_adjustment(kind: str, *, starts_on: date | None, yen_per_unit: Decimal | None, staff_note: str,
                   actor: str, citation_row: Citation | None = None) -> TariffAdjustment:
    """Set a per-unit adjustment from a day (a month's 燃料費調整 from its first day); the same
    kind and day again replaces the amount, and the change is audited."""
    errors: dict[str, str] = {}
    if kind not in ADJUSTMENT_KINDS:
        errors["kind"] = _l("Choose what the amount is.")
    if starts_on is None:
        errors["starts_on"] = _l("Enter the day (or month) it applies from.")
    if yen_per_unit is None:
        errors["yen_per_unit"] = _l("Enter the amount in yen per unit; it may be negative.")
    elif not yen_per_unit.is_finite() or abs(yen_per_unit) > MAX_ABS_ADJUSTMENT \
            or yen_per_unit != yen_per_unit.quantize(Decimal("0.0001")):
        errors["yen_per_unit"] = _l("Enter an amount between -100 and 100 yen with at most four decimals.")
    if errors:
        raise InvalidInput(errors)
    assert starts_on is not None and yen_per_unit is not None  # nosec B101 - narrows the type; errors raised above
    key = ADJUSTMENT_KINDS[kind]
    row = db.session.scalar(select(TariffAdjustment).where(
        TariffAdjustment.kind == kind, TariffAdjustment.tariff_key == key, TariffAdjustment.starts_on == starts_on))
    before = None if row is None else {"yen_per_unit": str(row.yen_per_unit)}
    if row is None:
        row = TariffAdjustment(kind=kind, tariff_key=key, starts_on=starts_on, yen_per_unit=yen_per_unit,
                               confidence="P", staff_note=staff_note.strip(), created_by=actor)
        db.session.add(row)
    else:
        row.yen_per_unit, row.staff_note, row.created_by, row.created_at = (
            yen_per_unit, staff_note.strip(), actor, utcnow())
    if citation_row is not None:
        row.set_citation(citation_row)
    elif kind == FUEL_COST and not row.cite_title_ja:
        row.set_citation(citation("tepco_fuel_cost"))
    db.session.flush()
    add_audit(actor, "tariff_adjustment.set", "tariff_adjustment", row.id, before,
              {"kind": kind, "starts_on": starts_on.isoformat(), "yen_per_unit": str(yen_per_unit)})
    db.session.commit()
    return row
