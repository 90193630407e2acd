"""Offset add-ons (what residents pay for) and contributions (each payment into the pool)."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, false, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enums import AddOnKind, Channel, ContributionStatus, DisputeStatus
from .programme import ConversionRate
from .types import Grams, UTCDateTime, Yen, utcnow

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
    unit_price_yen: Mapped[Yen]
    # Household offsets: the resident chooses the amount between these bounds (unit price = default).
    variable_amount: Mapped[bool] = mapped_column(default=False)
    min_amount_yen: Mapped[Yen | None] = mapped_column(nullable=True)
    max_amount_yen: Mapped[Yen | None] = mapped_column(nullable=True)
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
        CheckConstraint("refunded_g >= 0 AND refunded_g <= co2_g", name="refund_g_range"),
        Index("ix_contributions_status_paid_at", "status", "paid_at"),
        # What the staff dashboard's "awaiting the next batch" sums, read from the index alone.
        Index("ix_contributions_awaiting", "status", "batch_id", "dispute_status", "amount_yen", "refunded_yen",
              "co2_g", "refunded_g"),
        # Flagged contributions are few: an index of them alone (queries must say flag_reason != '' literally).
        Index("ix_contributions_flagged", "created_at", "id", sqlite_where=text("flag_reason != ''"),
              postgresql_where=text("flag_reason != ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # printed on the certificate
    certificate_token: Mapped[str] = mapped_column(String(64), unique=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    status: Mapped[ContributionStatus] = mapped_column(_enum(ContributionStatus), index=True)
    quantity: Mapped[int]
    unit_price_yen: Mapped[Yen]
    amount_yen: Mapped[Yen]
    co2_g: Mapped[Grams]  # quoted when checkout started (cash: the rate on the day received)
    rate_id: Mapped[int] = mapped_column(ForeignKey("conversion_rates.id"))
    rate_yen_per_t: Mapped[Yen]  # the snapshot; a later rate never rewrites it
    display_name: Mapped[str] = mapped_column(String(100), default="")
    receipt_email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    flag_kind: Mapped[str] = mapped_column(String(30), default="")  # a FlagKind; "" when none
    flag_reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    refunded_yen: Mapped[Yen] = mapped_column(default=0)
    # Grams given back with refunds: a partial refund keeps floor(co2_g × kept yen / amount) grams,
    # so the pool never promises more than the money left can buy.
    refunded_g: Mapped[Grams] = mapped_column(default=0)
    dispute_status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus), default=DisputeStatus.NONE,
                                                          index=True)
    stripe_dispute_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The purchase batch that took it (at most one, ever: services.batches sets it conditionally).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True, nullable=True)
    addon: Mapped[AddOn] = relationship()
    rate: Mapped[ConversionRate] = relationship()
    batch: Mapped["Batch | None"] = relationship()

    @hybrid_property
    def net_yen(self) -> int:
        """The money the pool keeps: what was paid less what was refunded."""
        return self.amount_yen - self.refunded_yen

    @hybrid_property
    def net_g(self) -> int:
        """The grams the pool still owes for it: quoted less what refunds took back."""
        return self.co2_g - self.refunded_g

    @property
    def under_dispute(self) -> bool:
        return self.dispute_status == DisputeStatus.OPEN


class StripeEvent(db.Model):
    """Each webhook event id once: a redelivered event finds its row and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
