"""Emission factor sets: load from CSV, find the active one, switch sets."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.event import EVENT_FACTOR_KEYS
from ..carbon.numbers import NumberError, parse_decimal
from ..carbon.sources import SOURCES
from ..extensions import db
from ..models import Factor, FactorSet
from .audit import add_audit
from .errors import DomainError

FACTOR_COLUMNS = ("key", "label_ja", "label_en", "unit", "kg_co2_per_unit", "fiscal_year",
                  "confidence", "source")
# Optional: the citation residents see (publisher, title, year, link). `source` is the staff's note.
CITATION_COLUMNS = ("publisher_ja", "publisher_en", "title_ja", "title_en", "year", "url")
CONFIDENCE_MARKS = ("P", "P*", "S", "D", "U")
# What each kind of set must hold: household energy and water (the calculator, and an event's
# venue energy), or an event's travel, lodging, paper and waste.
KIND_KEYS: dict[str, tuple[str, ...]] = {"household": SOURCES, "event": EVENT_FACTOR_KEYS}
MAX_FACTOR = 10**8              # Numeric(14, 6): eight digits before the point,
FACTOR_PLACES = Decimal("1e-6")  # six after it


@dataclass(frozen=True)
class LoadResult:
    factor_set: FactorSet
    created: bool


def read_factor_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a factor file (the columns of shared/data/emission_factors.csv)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in FACTOR_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DomainError(_l("The file lacks the columns: %(columns)s", columns=", ".join(missing)))
        return list(reader)


def _cell(row: Mapping[str, object], name: str) -> str:
    """A cell as text: a short row leaves the last cells missing (None), a long row's extras are ignored."""
    value = row.get(name)
    return value.strip() if isinstance(value, str) else ""


def _validated(rows: Iterable[Mapping[str, object]], keys: tuple[str, ...]) -> list[dict[str, object]]:
    clean: dict[str, dict[str, object]] = {}
    for number, row in enumerate(rows, start=2):
        key = _cell(row, "key")
        if _cell(row, "is_default") not in ("yes", ""):
            continue
        try:
            factor = parse_decimal(_cell(row, "kg_co2_per_unit"))
        except NumberError as error:
            if error.code == "negative":
                raise DomainError(_l("Line %(line)d: the factor must be zero or more.", line=number)) from None
            raise DomainError(_l("Line %(line)d: the factor is not a number.", line=number)) from None
        if factor is None:
            raise DomainError(_l("Line %(line)d: the factor is not a number.", line=number))
        if factor >= MAX_FACTOR or factor != factor.quantize(FACTOR_PLACES):
            raise DomainError(_l("Line %(line)d: the factor must be below %(max)s with at most 6 decimal places.",
                                 line=number, max=f"{MAX_FACTOR:,}"))
        confidence = _cell(row, "confidence")
        if confidence not in CONFIDENCE_MARKS:
            raise DomainError(_l("Line %(line)d: unknown confidence mark.", line=number))
        if key in clean:
            raise DomainError(_l("Line %(line)d: the key %(key)s appears twice.", line=number, key=key))
        texts = {name: _cell(row, name) for name in ("label_ja", "label_en", "unit", "fiscal_year", "source")}
        texts |= {f"cite_{name}": _cell(row, name) for name in CITATION_COLUMNS}
        for name, text in texts.items():
            limit = getattr(Factor.__table__.c[name].type, "length", None)
            if limit and len(text) > limit:
                raise DomainError(_l("Line %(line)d: %(column)s has more than %(max)d characters.", line=number,
                                     column=name.removeprefix("cite_"), max=limit))
        clean[key] = {"key": key, "kg_co2_per_unit": factor, "confidence": confidence, **texts}
    missing = [s for s in keys if s not in clean]
    if missing:
        raise DomainError(_l("The set lacks factors for: %(keys)s", keys=", ".join(missing)))
    return [clean[s] for s in keys]


def load_factor_set(rows: Iterable[Mapping[str, str]], *, name: str, fiscal_year: str,
                    effective_from: date, activate: bool, actor: str, kind: str = "household") -> LoadResult:
    """Add a factor set of a kind (household or event); a set with the same name and fiscal year is
    left as it is (idempotent). The first set of its kind becomes the active one."""
    existing = db.session.scalar(
        select(FactorSet).where(FactorSet.name == name, FactorSet.fiscal_year == fiscal_year)
    )
    if existing is not None:
        return LoadResult(existing, created=False)
    factor_set = FactorSet(name=name, fiscal_year=fiscal_year, effective_from=effective_from, kind=kind)
    factor_set.factors = [Factor(**values) for values in _validated(rows, KIND_KEYS[kind])]
    db.session.add(factor_set)
    db.session.flush()
    if activate or active_factor_set(kind) is None:
        _activate(factor_set)
    add_audit(actor, "factor_set.load", "factor_set", factor_set.id, None,
              {"name": name, "fiscal_year": fiscal_year, "kind": kind, "active": factor_set.is_active,
               "factors": {f.key: str(f.kg_co2_per_unit) for f in factor_set.factors}})
    db.session.commit()
    return LoadResult(factor_set, created=True)


def _activate(factor_set: FactorSet) -> None:
    for other in db.session.scalars(select(FactorSet).where(FactorSet.is_active.is_(True),
                                                            FactorSet.kind == factor_set.kind)):
        other.is_active = False
    db.session.flush()
    factor_set.is_active = True


def activate_factor_set(factor_set: FactorSet, *, actor: str) -> None:
    """Make this set the one new calculations use; saved results keep theirs."""
    before = active_factor_set(factor_set.kind)
    _activate(factor_set)
    add_audit(actor, "factor_set.activate", "factor_set", factor_set.id,
              {"active_id": before.id if before else None}, {"active_id": factor_set.id})
    db.session.commit()


def active_factor_set(kind: str = "household") -> FactorSet | None:
    """The set of this kind in use for new calculations (household: the calculator; event: events)."""
    return db.session.scalar(select(FactorSet).where(FactorSet.is_active.is_(True), FactorSet.kind == kind))
