"""Calculator results a resident chose to save: numbers only, no name, e-mail or address."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .factors import FactorSet
from .types import Grams, UTCDateTime, utcnow


class SavedResult(db.Model):
    """Inputs and results under an unguessable token; rendered again with the factor set it used."""

    __tablename__ = "saved_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    factor_set_id: Mapped[int] = mapped_column(ForeignKey("factor_sets.id"), index=True)
    # What the resident typed (normalised), and the yearly quantities it came to (Decimal strings).
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    quantities: Mapped[dict[str, str]] = mapped_column(JSON)
    actions: Mapped[list[str]] = mapped_column(JSON)
    offset_percent: Mapped[int]
    total_g: Mapped[Grams]
    remainder_g: Mapped[Grams]
    # The electricity menu chosen and its factor when saved, so a later edit of the menu list
    # never changes a saved result; the municipality only if the resident chose one.
    electricity_menu: Mapped[str | None] = mapped_column(String(50))
    electricity_kg_co2_per_kwh: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    municipality_code: Mapped[str | None] = mapped_column(String(6), index=True)
    household_size: Mapped[int | None]
    # Ticked by the resident: counted, anonymously, in the municipality's public statistics.
    in_statistics: Mapped[bool] = mapped_column(default=False, server_default=false())
    # SHA-256 (hex) of the delete key, which only the saving browser holds (a cookie scoped to the
    # result's path): the share link in `token` can only read. None for results saved before delete
    # keys existed: nobody can delete those through the site.
    delete_key_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    factor_set: Mapped[FactorSet] = relationship()
