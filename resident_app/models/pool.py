"""The pool's register (登録簿): batches, credit purchases, invalidations, corrections, files.

Once a batch is confirmed nothing here is edited again: a mistake gets an InvalidationCorrection
row on top, and both stay visible."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enums import Channel, IllegalTransition
from .types import Grams, Tonnes, UTCDateTime, Yen, utcnow


def _enum(cls):
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class BatchStatus(StrEnum):
    DRAFT = "draft"              # closed: contributions taken, figures known
    PURCHASED = "purchased"      # credits bought; invalidations may be recorded and edited
    INVALIDATED = "invalidated"  # confirmed: final, its contributions are retired

    def can_become(self, target: "BatchStatus") -> bool:
        return target in BATCH_TRANSITIONS[self]

    def check(self, target: "BatchStatus") -> None:
        if not self.can_become(target):
            raise IllegalTransition(f"{self} -> {target}")

    @property
    def is_open(self) -> bool:
        return self in (BatchStatus.DRAFT, BatchStatus.PURCHASED)


# No way back and no way out: a contribution belongs to at most one batch, ever, so a batch is
# never dissolved. draft -> invalidated directly only when the carried surplus covers the whole
# batch (0 tonnes to buy); the service checks that condition, the table says the move can exist.
BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.DRAFT: frozenset({BatchStatus.PURCHASED, BatchStatus.INVALIDATED}),
    BatchStatus.PURCHASED: frozenset({BatchStatus.INVALIDATED}),
    BatchStatus.INVALIDATED: frozenset(),
}


class CreditType(StrEnum):
    J_CREDIT = "j_credit"
    J_VER = "j_ver"
    OTHER = "other"


class Registry(StrEnum):
    J_CREDIT = "j_credit_registry"   # J-クレジット登録簿
    J_VER = "j_ver_registry"         # J-VER 登録簿
    OTHER = "other"


class StoredFile(db.Model):
    """An uploaded file (invoice, 無効化通知, bank slip), kept under instance/uploads by its sha256."""

    __tablename__ = "stored_files"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # from the magic bytes, not the browser
    size_bytes: Mapped[int]
    storage_path: Mapped[str] = mapped_column(String(300))  # relative to the upload folder
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Batch(db.Model):
    """A purchase batch (購入バッチ): paid contributions up to a cut-off, and what they owe."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("owed_g >= 0 AND surplus_available_g >= 0 AND surplus_used_g >= 0 "
                        "AND surplus_after_g >= 0 AND tonnes_required >= 0", name="figures_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), index=True)
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime)  # paid_at <= cutoff_at
    contribution_count: Mapped[int] = mapped_column(default=0)
    paid_yen: Mapped[Yen] = mapped_column(default=0)
    owed_g: Mapped[Grams] = mapped_column(default=0)
    surplus_available_g: Mapped[Grams] = mapped_column(default=0)  # carried balance free for this batch
    surplus_used_g: Mapped[Grams] = mapped_column(default=0)
    tonnes_required: Mapped[Tonnes] = mapped_column(default=0)
    surplus_after_g: Mapped[Grams] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purchased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    purchase: Mapped["CreditPurchase | None"] = relationship(back_populates="batch", uselist=False)
    invalidations: Mapped[list["Invalidation"]] = relationship(back_populates="batch",
                                                               order_by="Invalidation.id")
    corrections: Mapped[list["InvalidationCorrection"]] = relationship(
        back_populates="batch", order_by="InvalidationCorrection.id")

    def move_to(self, target: BatchStatus) -> None:
        """Change status through the transition table (raises IllegalTransition)."""
        BatchStatus(self.status).check(target)
        self.status = target

    @property
    def is_confirmed(self) -> bool:
        return self.status == BatchStatus.INVALIDATED


class CreditPurchase(db.Model):
    """The credits bought for a batch: one purchase per batch."""

    __tablename__ = "credit_purchases"
    __table_args__ = (
        CheckConstraint("tonnes >= 1", name="tonnes_positive"),
        CheckConstraint("price_per_t_yen >= 1", name="price_positive"),
        CheckConstraint("total_yen >= 1", name="total_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(200))
    credit_type: Mapped[CreditType] = mapped_column(_enum(CreditType))
    project_name: Mapped[str] = mapped_column(String(300))
    project_id: Mapped[str] = mapped_column(String(100))
    credit_place: Mapped[str] = mapped_column(String(200))  # 都道府県/市区町村 where it was created
    tonnes: Mapped[Tonnes]
    price_per_t_yen: Mapped[Yen]
    total_yen: Mapped[Yen]  # as invoiced; a difference from tonnes × price is a warning
    purchased_on: Mapped[date]
    invoice_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates="purchase")
    invoice_file: Mapped[StoredFile | None] = relationship()


class Invalidation(db.Model):
    """One invalidation (無効化) in the registry for a batch; one per purpose per batch."""

    __tablename__ = "invalidations"
    __table_args__ = (
        UniqueConstraint("batch_id", "purpose", name="uq_invalidations_batch_purpose"),
        CheckConstraint("tonnes >= 1", name="tonnes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    credit_registry: Mapped[Registry] = mapped_column(_enum(Registry))  # "registry" is reserved
    invalidated_on: Mapped[date]
    serial_ranges: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{"start", "end"}, ...]
    tonnes: Mapped[Tonnes]
    purpose: Mapped[str] = mapped_column(String(200))
    offset_place: Mapped[str] = mapped_column(String(200))  # the place being offset
    notice_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates="invalidations")
    notice_file: Mapped[StoredFile | None] = relationship()


class InvalidationCorrection(db.Model):
    """A correcting entry on a confirmed batch's purchase or invalidation: the original stays."""

    __tablename__ = "invalidation_corrections"
    __table_args__ = (
        CheckConstraint("(invalidation_id IS NULL) <> (purchase_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    invalidation_id: Mapped[int | None] = mapped_column(ForeignKey("invalidations.id"), nullable=True, index=True)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("credit_purchases.id"), nullable=True, index=True)
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[Any] = mapped_column(JSON)
    new_value: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates="corrections")
    created_by: Mapped[User | None] = relationship()


class OfflineReceipt(db.Model):
    """How a contribution paid outside Stripe (fare box, bank transfer) arrived, with its evidence."""

    __tablename__ = "offline_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    received_on: Mapped[date]
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), nullable=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evidence_file: Mapped[StoredFile | None] = relationship()
