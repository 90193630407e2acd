"""Calculator results a resident chose to save: numbers only, no name, e-mail or address."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    factor_set: Mapped[FactorSet] = relationship()
