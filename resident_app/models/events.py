"""Offset events (the guidebook's A1): an organiser's event with its boundary, estimate and actual
figures, and the anonymous answers to its travel survey.

Inputs are kept as the API's JSON (carbon.event.EventInputs.as_json); the grams are computed from
them with the factor sets the event was created with, so the figures never drift from the inputs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .factors import FactorSet
from .types import UTCDateTime, utcnow


class Event(db.Model):
    """An event an organiser offsets: name, dates, venue, expected persons, boundary and figures."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("expected_participants >= 1", name="participants_positive"),
        CheckConstraint("expected_staff >= 0", name="staff_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("surcharge_share_percent >= 1 AND surcharge_share_percent <= 100", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    purpose_ja: Mapped[str] = mapped_column(Text, default="")
    purpose_en: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    venue: Mapped[str] = mapped_column(String(200), default="")
    municipality_code: Mapped[str] = mapped_column(String(6), default="")  # 全国地方公共団体コード
    expected_participants: Mapped[int]
    expected_staff: Mapped[int] = mapped_column(default=0)
    # The factor sets the figures use (household set for energy, event set for the rest), fixed
    # when the event is created so that the estimate and the actuals are computed alike.
    factor_set_id: Mapped[int] = mapped_column(ForeignKey("factor_sets.id"))
    event_factor_set_id: Mapped[int] = mapped_column(ForeignKey("factor_sets.id"))
    estimate_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    surcharge_share_percent: Mapped[int] = mapped_column(default=100)
    actual_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    actual_travel_source: Mapped[str] = mapped_column(String(20), default="")  # "estimate" or "survey"
    actual_survey_answers: Mapped[int | None] = mapped_column(nullable=True)   # the survey's sample used
    survey_open: Mapped[bool] = mapped_column(default=True)
    # One-way km the organiser gave for origins that survey answers named without a distance.
    origin_km: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[User] = relationship()
    factor_set: Mapped[FactorSet] = relationship(foreign_keys=[factor_set_id])
    event_factor_set: Mapped[FactorSet] = relationship(foreign_keys=[event_factor_set_id])

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" or not self.name_en else self.name_en

    def purpose(self, locale: str) -> str:
        return self.purpose_ja if locale == "ja" or not self.purpose_en else self.purpose_en

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


class EventSurveyAnswer(db.Model):
    """One participant's answer: how they came and about how far, or from which municipality.
    Anonymous: no name, address, IP address or cookie identifier is stored."""

    __tablename__ = "event_survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    distance_band: Mapped[str] = mapped_column(String(10), default="")   # carbon.event.DISTANCE_BANDS
    origin_code: Mapped[str] = mapped_column(String(6), default="")      # a Tokyo municipality, or ""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
