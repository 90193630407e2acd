"""Emission factor sets (versioned) and unit prices for turning a bill into a quantity."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .citations import CitedMixin
from .types import UTCDateTime, utcnow


class FactorSet(db.Model):
    """A named, dated set of emission factors. Saved results point at the set they used."""

    __tablename__ = "factor_sets"
    __table_args__ = (UniqueConstraint("name", "fiscal_year", name="uq_factor_sets_name_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fiscal_year: Mapped[str] = mapped_column(String(20))
    # "household" (energy and water, the calculator) or "event" (travel, lodging, paper, waste);
    # one set of each kind is active at a time.
    kind: Mapped[str] = mapped_column(String(20), default="household", server_default="household")
    effective_from: Mapped[date]
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    factors: Mapped[list["Factor"]] = relationship(
        back_populates="factor_set", order_by="Factor.id", cascade="all, delete-orphan"
    )

    def factor_map(self) -> dict[str, Decimal]:
        return {f.key: f.kg_co2_per_unit for f in self.factors}


class Factor(CitedMixin, db.Model):
    """kg-CO2 per unit of one source; the citation is for residents, `source` is the staff's working note."""

    __tablename__ = "factors"
    __table_args__ = (UniqueConstraint("factor_set_id", "key", name="uq_factors_set_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    factor_set_id: Mapped[int] = mapped_column(ForeignKey("factor_sets.id"), index=True)
    key: Mapped[str] = mapped_column(String(50))
    label_ja: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    kg_co2_per_unit: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    fiscal_year: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[str] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(Text)
    factor_set: Mapped[FactorSet] = relationship(back_populates="factors")

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en


class UnitPrice(CitedMixin, db.Model):
    """Yen per unit of a source from a date on, for yen saved on fuels without a tariff (gasoline,
    kerosene, LPG, water). The citation is for residents; `source` is the staff's working note."""

    __tablename__ = "unit_prices"
    __table_args__ = (UniqueConstraint("key", "effective_from", name="uq_unit_prices_key_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), index=True)
    label_ja: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    yen_per_unit: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    as_of: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en
