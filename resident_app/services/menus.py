"""Electricity menus (retailer and menu, with CO2 per kWh): the list residents choose from.

"unknown" is always there and uses the active factor set's electricity factor, so choosing
"I don't know" gives exactly the footprint the site always gave. Staff add retailers' values as
the MOE list publishes them, correct them, and hide a menu without deleting it (saved results
keep the key and the factor they were saved with)."""
from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.citations import DATA_DIR, Citation, citation
from ..carbon.numbers import NumberError, parse_decimal
from ..extensions import db
from ..models import ElectricityMenu, FactorSet
from .audit import add_audit
from .errors import InvalidInput

UNKNOWN = "unknown"
KEY_RE = re.compile(r"^[a-z0-9_]{2,50}$")
MAX_FACTOR = Decimal("2")


def seed_menus(data_dir: Path = DATA_DIR, actor: str = "system") -> int:
    """Add the shipped menus whose key is not there yet; returns how many were added."""
    added = 0
    with open(data_dir / "electricity_menus.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if db.session.scalar(select(ElectricityMenu.id).where(ElectricityMenu.key == row["key"])):
                continue
            menu = ElectricityMenu(
                key=row["key"], retailer_ja=row["retailer_ja"], retailer_en=row["retailer_en"],
                menu_ja=row["menu_ja"], menu_en=row["menu_en"],
                kg_co2_per_kwh=Decimal(row["kg_co2_per_kwh"]) if row["kg_co2_per_kwh"] else None,
                fiscal_year=row["fiscal_year"], confidence=row["confidence"], staff_note=row["staff_note"],
                sort_order=int(row["sort_order"]))
            menu.set_citation(citation(row["citation"], data_dir))
            db.session.add(menu)
            added += 1
    if added:
        add_audit(actor, "electricity_menus.seed", "electricity_menu", "-", None, {"rows": added})
    db.session.commit()
    return added


def listed_menus() -> list[ElectricityMenu]:
    """The menus residents may choose, "I don't know" first."""
    return list(db.session.scalars(select(ElectricityMenu).where(ElectricityMenu.is_listed.is_(True))
                                   .order_by(ElectricityMenu.sort_order, ElectricityMenu.id)))


def all_menus() -> list[ElectricityMenu]:
    return list(db.session.scalars(select(ElectricityMenu).order_by(ElectricityMenu.sort_order, ElectricityMenu.id)))


def menu_by_key(key: str) -> ElectricityMenu | None:
    if not isinstance(key, str) or not KEY_RE.match(key):
        return None
    return db.session.scalar(select(ElectricityMenu).where(ElectricityMenu.key == key,
                                                           ElectricityMenu.is_listed.is_(True)))


def menu_factor(menu: ElectricityMenu | None, factor_set: FactorSet) -> Decimal:
    """kg-CO2 per kWh for this menu: its own value, or the factor set's electricity factor."""
    if menu is None or menu.kg_co2_per_kwh is None:
        return factor_set.factor_map()["electricity"]
    return menu.kg_co2_per_kwh


def save_menu(key: str, *, retailer_ja: str, retailer_en: str, menu_ja: str, menu_en: str, factor: str,
              fiscal_year: str, confidence: str, citation_row: Citation, staff_note: str, is_listed: bool,
              actor: str) -> ElectricityMenu:
    """Add a menu, or change the one with this key (its history is in the audit log)."""
    errors: dict[str, str] = {}
    key = (key or "").strip()
    if not KEY_RE.match(key):
        errors["menu_key"] = _l("Use 2-50 lower-case letters, digits or _, for example tokyo_gas_standard.")
    if not retailer_ja.strip() or not retailer_en.strip():
        errors["retailer_ja"] = _l("Enter the retailer's name in Japanese and in English.")
    value: Decimal | None = None
    if key != UNKNOWN:  # "I don't know" always uses the factor set's electricity factor
        try:
            value = parse_decimal(factor)
        except NumberError:
            value = Decimal(-1)
        if value is None:
            errors["factor"] = _l("Enter the menu's kg-CO2 per kWh, for example 0.421 (0 for a renewable menu).")
        elif not 0 <= value <= MAX_FACTOR or value != value.quantize(Decimal("0.0001")):
            errors["factor"] = _l("Enter kg-CO2 per kWh between 0 and 2, with at most four decimals.")
            value = None
    if not fiscal_year.strip():
        errors["menu_fiscal_year"] = _l("Enter the fiscal year of the figure, for example FY2024.")
    if confidence not in ("P", "P*", "S", "D", "U"):
        errors["menu_confidence"] = _l("Choose a confidence mark.")
    if not (citation_row.title_ja and citation_row.title_en):
        errors["menu_cite_title_ja"] = _l("Enter the source's title in Japanese and in English: residents see it.")
    if errors:
        raise InvalidInput(errors)
    menu = db.session.scalar(select(ElectricityMenu).where(ElectricityMenu.key == key))
    before = None if menu is None else {"kg_co2_per_kwh": str(menu.kg_co2_per_kwh), "is_listed": menu.is_listed}
    if menu is None:
        menu = ElectricityMenu(key=key, sort_order=100)
        db.session.add(menu)
    menu.retailer_ja, menu.retailer_en = retailer_ja.strip(), retailer_en.strip()
    menu.menu_ja, menu.menu_en = menu_ja.strip(), menu_en.strip()
    menu.kg_co2_per_kwh, menu.fiscal_year, menu.confidence = value, fiscal_year.strip(), confidence
    menu.staff_note = staff_note.strip()
    menu.is_listed = True if key == UNKNOWN else is_listed
    menu.set_citation(citation_row)
    db.session.flush()
    add_audit(actor, "electricity_menu.save", "electricity_menu", menu.id, before,
              {"key": key, "kg_co2_per_kwh": None if value is None else str(value), "is_listed": menu.is_listed})
    db.session.commit()
    return menu
