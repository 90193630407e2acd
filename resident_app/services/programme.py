"""The conversion rate and unit prices in force, and how staff change them."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.citations import Citation
from ..extensions import db
from ..models import ConversionRate, UnitPrice, utcnow
from .audit import add_audit
from .days import tokyo_today
from .errors import DomainError

MIN_RATE_YEN_PER_T = 100
MAX_RATE_YEN_PER_T = 1_000_000


def current_rate(at: datetime | None = None) -> ConversionRate | None:
    """The rate in force at `at` (default now)."""
    moment = at or utcnow()
    return db.session.scalar(
        select(ConversionRate)
        .where(ConversionRate.effective_from <= moment)
        .order_by(ConversionRate.effective_from.desc(), ConversionRate.id.desc())
        .limit(1)
    )


def set_rate(yen_per_t: int, *, actor: str, reason: str, effective_from: datetime | None = None) -> ConversionRate:
    """Put a new rate in force; earlier contributions keep theirs."""
    if not MIN_RATE_YEN_PER_T <= yen_per_t <= MAX_RATE_YEN_PER_T:
        raise DomainError(_l("The rate must be between %(low)d and %(high)d yen per tonne.",
                             low=MIN_RATE_YEN_PER_T, high=MAX_RATE_YEN_PER_T), field="yen_per_t")
    before = current_rate()
    rate = ConversionRate(yen_per_t=yen_per_t, effective_from=effective_from or utcnow(),
                          set_by=actor, reason=reason)
    db.session.add(rate)
    db.session.flush()
    add_audit(actor, "rate.set", "conversion_rate", rate.id,
              {"yen_per_t": before.yen_per_t} if before else None, {"yen_per_t": yen_per_t})
    db.session.commit()
    return rate


def current_unit_prices(on: date | None = None) -> dict[str, UnitPrice]:
    """The latest unit price per key in force on a date (default today in Tokyo, the day staff
    choose on the form: the UTC date lags it from midnight to 9:00 in Japan)."""
    day = on or tokyo_today()
    prices: dict[str, UnitPrice] = {}
    rows = db.session.scalars(
        select(UnitPrice).where(UnitPrice.effective_from <= day)
        .order_by(UnitPrice.key, UnitPrice.effective_from, UnitPrice.id)
    )
    for row in rows:
        prices[row.key] = row  # later rows overwrite earlier ones
    return prices


def load_unit_prices(path: Path, *, effective_from: date, actor: str) -> int:
    """Add unit prices from a CSV (shared/data/unit_prices.csv columns); existing rows are kept."""
    added = 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            exists = db.session.scalar(select(UnitPrice).where(
                UnitPrice.key == row["key"], UnitPrice.effective_from == effective_from))
            if exists is not None:
                continue
            price = UnitPrice(key=row["key"], label_ja=row["label_ja"], label_en=row["label_en"],
                              unit=row["unit"], yen_per_unit=Decimal(row["yen_per_unit"]),
                              as_of=row["date"], confidence=row["confidence"], source=row["source"],
                              effective_from=effective_from)
            price.set_citation(Citation.from_mapping(row))
            db.session.add(price)
            db.session.flush()
            add_audit(actor, "unit_price.load", "unit_price", price.id, None,
                      {"key": price.key, "yen_per_unit": str(price.yen_per_unit)})
            added += 1
    db.session.commit()
    return added
