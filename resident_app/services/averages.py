"""Household averages for the comparison: national (shipped), or a region staff uploaded from e-Stat.

The MOE survey (政府統計コード 00650408) publishes 10-region tables on e-Stat; 関東甲信 is Tokyo's.
Staff download the table as CSV and upload it here: we read the rows whose columns say the
household size, the energy, the value and its unit, wherever the header line sits (e-Stat puts
table information above it), and keep kWh / m³ / L averages and t-CO2 by size."""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..carbon.comparison import AverageRow, PhysicalAverage, merged_averages, national_rows, physical_averages
from ..carbon.numbers import NumberError, parse_decimal
from ..extensions import db
from ..models import AverageRowRecord, AverageSet
from .audit import add_audit
from .errors import DomainError, InvalidInput

NATIONAL = "national"
REGIONS = ("kanto_koshin", "tokyo")
MAX_FILE_BYTES = 2 * 1024 * 1024
SIZE_HEADERS = ("世帯人数", "世帯人員", "household_size", "household size")
FUEL_HEADERS = ("エネルギー種別", "エネルギー種類", "エネルギー", "燃料種", "fuel")
VALUE_HEADERS = ("value", "値", "数値")
UNIT_HEADERS = ("unit", "単位")
REGION_HEADERS = ("地方", "地域", "region")
FUELS = (("都市ガス", "city_gas"), ("lpガス", "lpg"), ("lpg", "lpg"), ("プロパン", "lpg"), ("灯油", "kerosene"),
         ("ガソリン", "car_fuel"), ("自動車", "car_fuel"), ("car", "car_fuel"), ("電気", "electricity"),
         ("電力", "electricity"), ("electricity", "electricity"), ("city_gas", "city_gas"), ("kerosene", "kerosene"))
ALL_WORDS = ("全体", "平均", "総数", "全世帯", "計", "all")


@dataclass(frozen=True)
class Averages:
    """What the comparison uses, and which region it came from."""

    by_fuel: dict[str, PhysicalAverage]
    region: str
    set_name: str | None


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for index, cell in enumerate(header):
        cell = _norm(cell)
        if any(_norm(name) in cell for name in names):
            return index
    return None


def _size(text: str) -> str | None:
    text = _norm(text)
    if any(word in text for word in ALL_WORDS):
        return "all"
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if digits and 1 <= int(digits) <= 9:
        return str(min(int(digits), 6))
    return None


def _fuel(text: str) -> str | None:
    text = _norm(text)
    return next((fuel for word, fuel in FUELS if word in text), None)


def _metric(unit: str) -> tuple[str, str] | None:
    unit = _norm(unit).replace("³", "3").replace("㎥", "m3")
    if "co2" in unit or "二酸化炭素" in unit:
        return ("co2_t", "t-CO2") if "kg" not in unit else None
    for word, name in (("kwh", "kWh"), ("m3", "m3"), ("リットル", "L"), ("l", "L")):
        if word in unit:
            return "quantity", name
    return None


def read_average_table(text: str, region_filter: str = "") -> list[AverageRow]:
    """Average rows from an e-Stat (or our template's) CSV; lines before the header are skipped."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for start, header in enumerate(rows):
        columns = [_column(header, names) for names in (SIZE_HEADERS, FUEL_HEADERS, VALUE_HEADERS, UNIT_HEADERS)]
        if all(c is not None for c in columns):
            break
    else:
        raise DomainError(_l("No header line with household size, energy, value and unit columns was found."),
                          field="file")
    size_at, fuel_at, value_at, unit_at = columns
    region_at = _column(header, REGION_HEADERS)
    wanted = _norm(region_filter)
    found: dict[tuple[str, str, str], AverageRow] = {}
    for line in rows[start + 1:]:
        if len(line) <= max(c for c in columns if c is not None):
            continue
        if wanted and region_at is not None and wanted not in _norm(line[region_at]):
            continue
        size, fuel, metric = _size(line[size_at]), _fuel(line[fuel_at]), _metric(line[unit_at])
        try:
            value = parse_decimal(line[value_at])
        except NumberError:  # e-Stat marks missing cells "-", "…" or "x"
            continue
        if size is None or fuel is None or metric is None or value is None:
            continue
        found[(size, fuel, metric[0])] = AverageRow("", size, fuel, metric[0], value, metric[1], "")
    if not found:
        raise DomainError(_l("The file has no rows we can use (household size, energy, and a value in kWh, m³, "
                             "L or t-CO2)."), field="file")
    return list(found.values())


def upload_average_set(stream: BinaryIO | None, *, region: str, name: str, year: str, region_filter: str,
                       activate: bool, actor: str) -> AverageSet:
    """Store a region's averages from an uploaded CSV; optionally use them for comparisons now."""
    errors: dict[str, str] = {}
    if region not in REGIONS:
        errors["avg_region"] = _l("Choose the region of the table.")
    if not name.strip() or len(name) > 200:
        errors["avg_name"] = _l("Enter a name for the table (at most 200 characters).")
    if not year.strip() or len(year) > 20:
        errors["avg_year"] = _l("Enter the survey year, for example FY2023.")
    rows: list[AverageRow] = []
    data = stream.read(MAX_FILE_BYTES + 1) if stream is not None else b""
    if not data:
        errors["avg_file"] = _l("Choose a CSV file to upload.")
    elif len(data) > MAX_FILE_BYTES:
        errors["avg_file"] = _l("The file is larger than %(kb)d KB.", kb=MAX_FILE_BYTES // 1024)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp932")  # e-Stat offers Shift_JIS downloads too
            except UnicodeDecodeError:
                text = ""
                errors["avg_file"] = _l("Save the file as CSV in UTF-8 or Shift_JIS and upload it again.")
        if text:
            try:
                rows = read_average_table(text, region_filter)
            except DomainError as error:
                errors["avg_file"] = error.message
    if errors:
        raise InvalidInput(errors)
    average_set = AverageSet(region=region, name=name.strip(), year=year.strip(), uploaded_by=actor,
                             staff_note=f"region filter: {region_filter}" if region_filter else "")
    average_set.rows = [AverageRowRecord(household_size=r.household_size, fuel=r.fuel, metric=r.metric,
                                         value=r.value, unit=r.unit) for r in rows]
    db.session.add(average_set)
    db.session.flush()
    if activate:
        _activate(average_set)
    add_audit(actor, "average_set.upload", "average_set", average_set.id, None,
              {"region": region, "name": average_set.name, "rows": len(rows), "active": average_set.is_active})
    db.session.commit()
    return average_set


def _activate(average_set: AverageSet | None) -> None:
    for other in db.session.scalars(select(AverageSet).where(AverageSet.is_active.is_(True))):
        other.is_active = False
    db.session.flush()
    if average_set is not None:
        average_set.is_active = True


def choose_average_set(set_id: int | None, *, actor: str) -> AverageSet | None:
    """Use this uploaded set for comparisons (None: go back to the national averages)."""
    chosen = db.session.get(AverageSet, set_id) if set_id is not None else None
    if set_id is not None and chosen is None:
        raise DomainError(_l("There is no such table."))
    _activate(chosen)
    add_audit(actor, "average_set.activate", "average_set", set_id or "-", None, {"active_id": set_id})
    db.session.commit()
    return chosen


def average_sets() -> list[AverageSet]:
    return list(db.session.scalars(select(AverageSet).options(selectinload(AverageSet.rows))
                                   .order_by(AverageSet.created_at.desc())))


def active_set() -> AverageSet | None:
    return db.session.scalar(select(AverageSet).options(selectinload(AverageSet.rows))
                             .where(AverageSet.is_active.is_(True)))


def comparison_averages(persons: int, gasoline_kg_per_l: Decimal) -> Averages:
    """The averages for this size: the uploaded region's where it has them, national otherwise."""
    national = physical_averages(national_rows(), persons, gasoline_kg_per_l)
    chosen = active_set()
    if chosen is None:
        return Averages(national, NATIONAL, None)
    rows = [AverageRow(chosen.region, r.household_size, r.fuel, r.metric, r.value, r.unit, chosen.year,
                       "", "U") for r in chosen.rows]
    regional = physical_averages(rows, persons, gasoline_kg_per_l)
    return Averages(merged_averages(regional, national), chosen.region, chosen.name)
