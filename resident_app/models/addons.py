"""Offset add-ons (what residents pay for) and contributions (each payment into the pool)."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enums import AddOnKind, Channel, ContributionStatus
from .programme import ConversionRate
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .pool import Batch


SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud from a poster


def new_slug(length: int = 10) -> str:
    """A short unguessable slug for an add-on link (32^10, about 10^15 possibilities)."""
    return "".join(secrets.choice(SLUG_ALPHABET) for _ in range(length))


def new_token() -> str:
    """An unguessable token for a certificate URL."""
    return secrets.token_urlsafe(24)


def _enum(cls):
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class AddOn(db.Model):
    """An offset add-on: a ¥100 bus fare offset, an event-ticket surcharge, a household offset."""

    __tablename__ = "addons"
    __table_args__ = (
        CheckConstraint("unit_price_yen >= 50 AND unit_price_yen <= 300000", name="unit_price_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[AddOnKind] = mapped_column(_enum(AddOnKind))
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ja: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    unit_price_yen: Mapped[int]
    # Household offsets: the resident chooses the amount between these bounds (unit price = default).
    variable_amount: Mapped[bool] = mapped_column(default=False)
    min_amount_yen: Mapped[int | None] = mapped_column(nullable=True)
    max_amount_yen: Mapped[int | None] = mapped_column(nullable=True)
    event_date: Mapped[date | None] = mapped_column(nullable=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    emissions_note_ja: Mapped[str] = mapped_column(Text, default="")
    emissions_note_en: Mapped[str] = mapped_column(Text, default="")
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    max_units: Mapped[int | None] = mapped_column(nullable=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_public: Mapped[bool] = mapped_column(default=True)
    # An offset event this add-on pays for: its participants' surcharge, or the organiser's top-up
    # (is_event_topup: the organiser pays the gap between what was paid and the actual total).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True, nullable=True)
    is_event_topup: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[User] = relationship()

    def title(self, locale: str) -> str:
        return self.title_ja if locale == "ja" or not self.title_en else self.title_en

    def description(self, locale: str) -> str:
        return self.description_ja if locale == "ja" or not self.description_en else self.description_en

    def emissions_note(self, locale: str) -> str:
        return self.emissions_note_ja if locale == "ja" or not self.emissions_note_en else self.emissions_note_en


class Contribution(db.Model):
    """One payment into the pool (オフセット参加): yen and grams fixed at the rate then in force."""

    __tablename__ = "contributions"
    __table_args__ = (
        CheckConstraint("amount_yen >= 0", name="amount_not_negative"),
        CheckConstraint("co2_g >= 0", name="co2_not_negative"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("refunded_yen >= 0 AND refunded_yen <= amount_yen", name="refund_range"),
        Index("ix_contributions_status_paid_at", "status", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # printed on the certificate
    certificate_token: Mapped[str] = mapped_column(String(64), unique=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    status: Mapped[ContributionStatus] = mapped_column(_enum(ContributionStatus), index=True)
    quantity: Mapped[int]
    unit_price_yen: Mapped[int]
    amount_yen: Mapped[int]
    co2_g: Mapped[int]
    rate_id: Mapped[int] = mapped_column(ForeignKey("conversion_rates.id"))
    rate_yen_per_t: Mapped[int]  # the snapshot; a later rate never rewrites it
    display_name: Mapped[str] = mapped_column(String(100), default="")
    receipt_email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    flag_reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    refunded_yen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The purchase batch that took it (at most one, ever: services.batches sets it conditionally).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True, nullable=True)
    addon: Mapped[AddOn] = relationship()
    rate: Mapped[ConversionRate] = relationship()
    batch: Mapped["Batch | None"] = relationship()


class StripeEvent(db.Model):
    """Each webhook event id once: a redelivered event finds its row and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
