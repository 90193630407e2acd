"""What the household calculator reads that staff can change: tariffs with their monthly
adjustments, electricity menus, and uploaded regional averages."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .citations import CitedMixin
from .types import UTCDateTime, utcnow


class Tariff(CitedMixin, db.Model):
    """One schedule of a tariff from a date on; a new price list is a new row, the old one stays.

    `schedule` holds the numbers as Decimal strings: for electricity {"basic_yen_by_ampere": {"30":
    "935.25", ...}, "tiers": [{"up_to_kwh": "120", "yen_per_kwh": "29.8"}, ...]}; for city gas
    {"tables": [{"name": "A", "from_m3": "0", "to_m3": "20", "basic_yen": "759", "yen_per_m3":
    "145.31"}, ...]}. services.tariffs turns it into carbon.tariffs objects."""

    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("key", "effective_from", name="uq_tariffs_key_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "electricity" or "city_gas"
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date]
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[str] = mapped_column(String(4))
    staff_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


class TariffAdjustment(CitedMixin, db.Model):
    """A per-unit amount added to every kWh or m³ from a day on: the month's 燃料費調整 (per tariff),
    the fiscal year's 再エネ賦課金 (all electricity, tariff_key empty) or Tokyo Gas's 原料費調整."""

    __tablename__ = "tariff_adjustments"
    __table_args__ = (UniqueConstraint("kind", "tariff_key", "starts_on", name="uq_tariff_adjustments_kind_key_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # fuel_cost, renewable_levy, gas_material_cost
    tariff_key: Mapped[str] = mapped_column(String(50), default="")
    starts_on: Mapped[date]
    yen_per_unit: Mapped[Decimal] = mapped_column(Numeric(10, 4))  # may be negative
    confidence: Mapped[str] = mapped_column(String(4), default="P")
    staff_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ElectricityMenu(CitedMixin, db.Model):
    """A retailer's menu and its CO2 per kWh; no factor means "use the factor set's electricity"."""

    __tablename__ = "electricity_menus"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    retailer_ja: Mapped[str] = mapped_column(String(200))
    retailer_en: Mapped[str] = mapped_column(String(200))
    menu_ja: Mapped[str] = mapped_column(String(200), default="")
    menu_en: Mapped[str] = mapped_column(String(200), default="")
    kg_co2_per_kwh: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    fiscal_year: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(4))
    staff_note: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(default=100)
    is_listed: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def label(self, locale: str) -> str:
        retailer = self.retailer_ja if locale == "ja" else self.retailer_en
        menu = self.menu_ja if locale == "ja" else self.menu_en
        return f"{retailer}（{menu}）" if menu and locale == "ja" else (f"{retailer} ({menu})" if menu else retailer)


class AverageSet(db.Model):
    """A region's household averages uploaded by staff (e.g. 関東甲信 from e-Stat)."""

    __tablename__ = "average_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=False)
    staff_note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[list["AverageRowRecord"]] = relationship(back_populates="average_set", cascade="all, delete-orphan",
                                                          order_by="AverageRowRecord.id")


class AverageRowRecord(db.Model):
    """One figure of an uploaded set: a household size ("1".."6" or "all"), a fuel, a metric."""

    __tablename__ = "average_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("average_sets.id"), index=True)
    household_size: Mapped[str] = mapped_column(String(5))
    fuel: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(20))  # "quantity" or "co2_t"
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit: Mapped[str] = mapped_column(String(20))
    average_set: Mapped[AverageSet] = relationship(back_populates="rows")
