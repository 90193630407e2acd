"""Programme-wide settings that staff own, kept with their history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, Yen, utcnow


class ConversionRate(db.Model):
    """Yen per tonne of CO2 from a moment on. Past contributions keep the rate they were paid at."""

    __tablename__ = "conversion_rates"
    __table_args__ = (CheckConstraint("yen_per_t > 0", name="positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    yen_per_t: Mapped[Yen]
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    set_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferenceVersion(db.Model):
    """One row: a number that changes, in the same transaction, whenever the reference data the
    calculator reads changes (factor sets, unit prices, tariffs, menus, averages, rates).

    Each worker keeps its own copy of that data and reads only this number per request; a
    different number means "read it again" (services/reference.py). It starts at a random value so
    that a database made again from nothing never repeats a number a worker has seen."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
