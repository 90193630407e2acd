"""The pool's writes: close a batch, record its credit purchase and invalidations, confirm it,
correct it afterwards; store uploaded evidence; record money that arrived outside Stripe.

Each public function validates, writes, leaves an audit row and commits once. Warnings are
returned (never raised) as PoolWarning(code, params); warning_message() turns one into text."""
from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Collection, Iterable, Protocol
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..carbon.conversion import GRAMS_PER_TONNE, grams_for_yen
from ..carbon.pool import (PURCHASE_DIFFERS, SAME_PLACE, SERIALS_MISMATCH, TONNES_SHORT, TOTAL_MISMATCH,
                           InvalidationFacts, PoolWarning, PurchaseFacts, SerialRange, SerialRangeError,
                           batch_warnings as compute_batch_warnings, clean_ranges, ranges_tonnes,
                           ranges_tonnes_or_none, tonnes_to_buy)
from ..extensions import db
from ..models import (AddOn, Batch, BatchStatus, Channel, Contribution, ContributionStatus, CreditPurchase,
                      CreditType, Invalidation, InvalidationCorrection, OfflineReceipt, Registry,
                      StoredFile, User, utcnow)
from ..models.addons import new_token
from .accounts import actor_name
from .audit import add_audit
from .errors import DomainError, InvalidInput
from .payments import certificate_number
from .pool import balance_g
from .programme import current_rate

TOKYO = ZoneInfo("Asia/Tokyo")
OPEN_STATUSES = (BatchStatus.DRAFT, BatchStatus.PURCHASED)
MAX_TONNES = 1_000_000
MAX_PRICE_PER_T_YEN = 10_000_000
MAX_TOTAL_YEN = 10_000_000_000
MAX_TEXT = 200
MAX_PROJECT_NAME = 300
MAX_PROJECT_ID = 100
MAX_NOTE = 2000
MAX_OFFLINE_QUANTITY = 1_000_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What we accept, by the file's first bytes; the name's extension must agree with them.
UPLOAD_KINDS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
}
INVALIDATION_FIELDS = ("registry", "invalidated_on", "serial_ranges", "tonnes", "purpose", "offset_place")
PURCHASE_FIELDS = ("provider", "credit_type", "project_name", "project_id", "credit_place", "tonnes",
                   "price_per_t_yen", "total_yen", "purchased_on")


# --- small helpers -------------------------------------------------------------------------------

def tokyo_today() -> date:
    return utcnow().astimezone(TOKYO).date()


def end_of_day(day: date) -> datetime:
    """The last microsecond of `day` in Asia/Tokyo, as aware UTC."""
    return (datetime.combine(day + timedelta(days=1), time.min, TOKYO) - timedelta(microseconds=1)) \
        .astimezone(ZoneInfo("UTC"))


def _require_staff(actor: User) -> None:
    if actor is None or not actor.is_staff:
        raise DomainError(_l("Only programme staff can do this."))


def _final_error(batch: Batch) -> DomainError:
    return DomainError(_l("Batch %(number)s is confirmed and can no longer be changed. Record a "
                          "correction instead.", number=batch.number))


def _lock_open(batch: Batch) -> None:
    """Take the batch for writing while it is still open. The conditional UPDATE also serialises
    us against a confirmation running at the same moment (SQLite ignores SELECT ... FOR UPDATE)."""
    touched = db.session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.status.in_(OPEN_STATUSES))
        .values(updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if touched != 1:
        db.session.rollback()
        raise _final_error(batch)


def _text(value: str | None) -> str:
    return unicodedata.normalize("NFC", (value or "").strip())


def _purpose_key(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.1f}"


# --- batches -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchPreview:
    """What closing a batch at `cutoff_at` would take and owe (read only)."""

    cutoff_at: datetime
    contribution_count: int
    paid_yen: int
    owed_g: int
    surplus_available_g: int
    surplus_used_g: int
    tonnes_required: int
    surplus_after_g: int


def cutoff_instant(cutoff: date | datetime) -> datetime:
    """A date means "paid on or before that day in Tokyo"; a datetime must be aware."""
    if isinstance(cutoff, datetime):
        if cutoff.tzinfo is None:
            raise ValueError("naive datetime; use an aware datetime")
        return cutoff.astimezone(ZoneInfo("UTC"))
    return end_of_day(cutoff)


def _unbatched(cutoff_at: datetime):
    return (Contribution.batch_id.is_(None), Contribution.status == ContributionStatus.PAID,
            Contribution.paid_at <= cutoff_at)


def reserved_surplus_g(*, excluding: int | None = None) -> int:
    """The carried balance already promised to open (not yet confirmed) batches."""
    query = select(func.coalesce(func.sum(Batch.surplus_used_g), 0)).where(Batch.status.in_(OPEN_STATUSES))
    if excluding is not None:
        query = query.where(Batch.id != excluding)
    return int(db.session.scalar(query) or 0)


def available_surplus_g(*, excluding: int | None = None) -> int:
    """The carried balance a batch may use: the pool's balance less what open batches reserved."""
    return max(0, balance_g() - reserved_surplus_g(excluding=excluding))


def preview_batch(cutoff: date | datetime) -> BatchPreview:
    """The figures close_batch(cutoff) would record now, for the staff screen to show first."""
    cutoff_at = cutoff_instant(cutoff)
    count, paid_yen, owed_g = db.session.execute(
        select(func.count(Contribution.id), func.coalesce(func.sum(Contribution.amount_yen), 0),
               func.coalesce(func.sum(Contribution.co2_g), 0)).where(*_unbatched(cutoff_at))).one()
    surplus = available_surplus_g()
    plan = tonnes_to_buy(int(owed_g), surplus)
    return BatchPreview(cutoff_at, int(count), int(paid_yen), int(owed_g), surplus, plan.surplus_used_g,
                        plan.tonnes, plan.surplus_after_g)


def _figures(batch: Batch) -> dict[str, int]:
    return {"contribution_count": batch.contribution_count, "paid_yen": batch.paid_yen,
            "owed_g": batch.owed_g, "surplus_available_g": batch.surplus_available_g,
            "surplus_used_g": batch.surplus_used_g, "tonnes_required": batch.tonnes_required,
            "surplus_after_g": batch.surplus_after_g}


def _refresh_figures(batch: Batch) -> None:
    """Recompute an open batch's figures from the contributions it holds and the free surplus
    (which can only grow while it is open: refunds after retirement add to the balance)."""
    count, paid_yen, owed_g = db.session.execute(
        select(func.count(Contribution.id), func.coalesce(func.sum(Contribution.amount_yen), 0),
               func.coalesce(func.sum(Contribution.co2_g), 0))
        .where(Contribution.batch_id == batch.id, Contribution.status == ContributionStatus.PAID)).one()
    surplus = available_surplus_g(excluding=batch.id)
    plan = tonnes_to_buy(int(owed_g), surplus)
    batch.contribution_count, batch.paid_yen, batch.owed_g = int(count), int(paid_yen), int(owed_g)
    batch.surplus_available_g = surplus
    batch.tonnes_required, batch.surplus_used_g, batch.surplus_after_g = plan


def close_batch(cutoff: date | datetime, *, actor: User, note: str = "") -> Batch:
    """Close a batch (購入バッチ): every paid contribution not yet in a batch, paid up to the cut-off."""
    _require_staff(actor)
    cutoff_at = cutoff_instant(cutoff)
    if cutoff_at > utcnow():
        raise DomainError(_l("The cut-off cannot be in the future."), field="cutoff")
    note = _text(note)
    if len(note) > MAX_NOTE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_NOTE), field="note")
    expected = int(db.session.scalar(select(func.count(Contribution.id)).where(*_unbatched(cutoff_at))) or 0)
    if expected == 0:
        raise DomainError(_l("There are no paid contributions up to this cut-off that are not already in "
                             "a batch."), field="cutoff")
    batch = Batch(number=f"tmp-{uuid.uuid4().hex[:20]}", status=BatchStatus.DRAFT, cutoff_at=cutoff_at,
                  note=note, created_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    batch.number = f"PB-{batch.created_at.astimezone(TOKYO).year}-{batch.id:04d}"
    # The one place a contribution joins a batch: only while it has none and is still paid, so two
    # people closing batches at once can never take the same contribution.
    taken = db.session.execute(
        update(Contribution).where(*_unbatched(cutoff_at)).values(batch_id=batch.id)
        .execution_options(synchronize_session=False)).rowcount
    if taken < expected:
        db.session.rollback()
        raise DomainError(_l("Some of these contributions were taken by another batch or refunded a moment "
                             "ago. Look at the batches again and retry."), field="cutoff")
    _refresh_figures(batch)
    add_audit(actor_name(actor), "batch.close", "batch", batch.id, None,
              {"number": batch.number, "cutoff_at": cutoff_at.isoformat(), **_figures(batch)})
    db.session.commit()
    return batch


def release_refunded(contribution_id: int, *, actor: str) -> str | None:
    """After a refund (inside the refund's transaction, no commit): an open batch lets the
    contribution go and owes less; in a confirmed batch its grams simply become surplus.
    Returns "removed", "surplus" or None (never batched)."""
    row = db.session.execute(
        select(Batch).join(Contribution, Contribution.batch_id == Batch.id)
        .where(Contribution.id == contribution_id)).scalar_one_or_none()
    if row is None:
        return None
    if row.status == BatchStatus.INVALIDATED:
        return "surplus"
    before = _figures(row)
    db.session.execute(update(Contribution).where(Contribution.id == contribution_id,
                                                  Contribution.batch_id == row.id)
                       .values(batch_id=None).execution_options(synchronize_session=False))
    _refresh_figures(row)
    row.updated_at = utcnow()
    add_audit(actor, "batch.contribution_removed", "batch", row.id, before,
              {**_figures(row), "contribution_id": contribution_id})
    return "removed"


# --- purchase ------------------------------------------------------------------------------------

@dataclass
class PurchaseData:
    """The credit purchase for a batch, as staff enter it (yen and tonnes already ints)."""

    provider: str = ""
    credit_type: CreditType | str | None = None
    project_name: str = ""
    project_id: str = ""
    credit_place: str = ""          # 都道府県/市区町村 where the credit was created
    tonnes: int | None = None
    price_per_t_yen: int | None = None
    total_yen: int | None = None
    purchased_on: date | None = None
    invoice_file: StoredFile | None = None


@dataclass(frozen=True)
class PurchaseResult:
    purchase: CreditPurchase
    warnings: list[PoolWarning]


def _required_text(errors: dict[str, str], name: str, value: str, limit: int, missing: str) -> str:
    value = _text(value)
    if not value:
        errors[name] = missing
    elif len(value) > limit:
        errors[name] = _l("Use at most %(max)d characters.", max=limit)
    return value


def _int_in(errors: dict[str, str], name: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = _l("Enter a whole number from %(low)s to %(high)s.", low=f"{low:,}", high=f"{high:,}")
        return None
    return value


def _past_date(errors: dict[str, str], name: str, value: Any) -> date | None:
    if not isinstance(value, date) or isinstance(value, datetime):
        errors[name] = _l("Enter a date.")
        return None
    if value > tokyo_today():
        errors[name] = _l("The date cannot be in the future.")
        return None
    return value


def _enum_value(errors: dict[str, str], name: str, enum: type, value: Any):
    try:
        return enum(value)
    except ValueError:
        errors[name] = _l("Choose one of the options.")
        return None


def _purchase_fields(data: PurchaseData) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields = {
        "provider": _required_text(errors, "provider", data.provider, MAX_TEXT,
                                   _l("Enter who sold the credits.")),
        "credit_type": _enum_value(errors, "credit_type", CreditType, data.credit_type),
        "project_name": _required_text(errors, "project_name", data.project_name, MAX_PROJECT_NAME,
                                       _l("Enter the credit project's name.")),
        "project_id": _required_text(errors, "project_id", data.project_id, MAX_PROJECT_ID,
                                     _l("Enter the credit project's number.")),
        "credit_place": _required_text(errors, "credit_place", data.credit_place, MAX_TEXT,
                                       _l("Enter where the credit was created (prefecture and municipality).")),
        "tonnes": _int_in(errors, "tonnes", data.tonnes, 1, MAX_TONNES),
        "price_per_t_yen": _int_in(errors, "price_per_t_yen", data.price_per_t_yen, 1, MAX_PRICE_PER_T_YEN),
        "total_yen": _int_in(errors, "total_yen", data.total_yen, 1, MAX_TOTAL_YEN),
        "purchased_on": _past_date(errors, "purchased_on", data.purchased_on),
    }
    if data.invoice_file is not None and not isinstance(data.invoice_file, StoredFile):
        errors["invoice_file"] = _l("Upload the invoice as a file.")
    if errors:
        raise InvalidInput(errors)
    return fields


def _purchase_audit(purchase: CreditPurchase) -> dict[str, Any]:
    return {name: _to_json(name, getattr(purchase, name)) for name in PURCHASE_FIELDS} | {
        "invoice_file_id": purchase.invoice_file_id}


def record_purchase(batch: Batch, data: PurchaseData, *, actor: User) -> PurchaseResult:
    """Record (or, before confirmation, replace) the credits bought for a batch: draft -> purchased."""
    _require_staff(actor)
    if batch.is_confirmed:
        raise _final_error(batch)
    fields = _purchase_fields(data)
    _lock_open(batch)
    _refresh_figures(batch)
    purchase = batch.purchase
    before = _purchase_audit(purchase) if purchase is not None else None
    if purchase is None:
        purchase = CreditPurchase(batch_id=batch.id, created_by_id=actor.id)
        db.session.add(purchase)
        batch.purchase = purchase
    for name, value in fields.items():
        setattr(purchase, name, value)
    if data.invoice_file is not None:  # an edit without a new upload keeps the invoice
        purchase.invoice_file = data.invoice_file
    purchase.updated_at = utcnow()
    if batch.status == BatchStatus.DRAFT:
        batch.move_to(BatchStatus.PURCHASED)
        batch.purchased_at = utcnow()
    db.session.flush()
    warnings = batch_warnings(batch)
    add_audit(actor_name(actor), "purchase.update" if before else "purchase.record", "credit_purchase",
              purchase.id, before, {**_purchase_audit(purchase), "batch": batch.number,
                                    "warnings": [w.code for w in warnings]})
    db.session.commit()
    return PurchaseResult(purchase, warnings)


# --- invalidations -------------------------------------------------------------------------------

@dataclass
class InvalidationData:
    """One invalidation (無効化) as staff enter it from the registry's notice."""

    registry: Registry | str | None = None
    invalidated_on: date | None = None
    serial_ranges: Iterable[SerialRange | tuple[str, str] | dict[str, str]] = ()
    tonnes: int | None = None
    purpose: str = ""
    offset_place: str = ""          # the place being offset
    notice_file: StoredFile | None = None


@dataclass(frozen=True)
class InvalidationResult:
    invalidation: Invalidation
    warnings: list[PoolWarning]


def _serial_error(error: SerialRangeError) -> str:
    params = error.params
    if error.code == "empty":
        return _l("Enter at least one serial number range.")
    if error.code == "too_long":
        return _l("A serial number can have at most %(max)d characters.", max=params.get("max", 100))
    if error.code == "no_number":
        return _l("The serial number %(serial)s does not end in a number.", serial=params.get("serial", ""))
    if error.code == "prefix_mismatch":
        return _l("%(start)s and %(end)s do not share the same prefix, so the range cannot be counted.",
                  start=params.get("start", ""), end=params.get("end", ""))
    if error.code == "reversed":
        return _l("The range %(start)s to %(end)s ends before it starts.",
                  start=params.get("start", ""), end=params.get("end", ""))
    return _l("The range %(start)s to %(end)s overlaps serial numbers already recorded.",
              start=params.get("start", ""), end=params.get("end", ""))


def _other_ranges(excluding: int | None) -> list[SerialRange]:
    """Every serial range recorded in any batch (after corrections), except one invalidation's."""
    query = select(Invalidation)
    if excluding is not None:
        query = query.where(Invalidation.id != excluding)
    ranges: list[SerialRange] = []
    for item in db.session.scalars(query):
        ranges.extend(invalidation_view(item).serial_ranges)
    return ranges


def _check_ranges(errors: dict[str, str], raw: Any, *, excluding: int | None) -> tuple[SerialRange, ...]:
    try:
        ranges = clean_ranges(raw or ())
        ranges_tonnes(ranges, _other_ranges(excluding))
    except SerialRangeError as error:
        errors["serial_ranges"] = _serial_error(error)
        return ()
    except (TypeError, ValueError):
        errors["serial_ranges"] = _l("Enter each range as a first and a last serial number.")
        return ()
    return ranges


def _purpose_taken(batch: Batch, purpose: str, *, excluding: int | None) -> bool:
    key = _purpose_key(purpose)
    return any(_purpose_key(view.purpose) == key for view in
               (invalidation_view(i) for i in batch.invalidations if i.id != excluding))


def _invalidation_fields(batch: Batch, data: InvalidationData, *, excluding: int | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields = {
        "credit_registry": _enum_value(errors, "registry", Registry, data.registry),
        "invalidated_on": _past_date(errors, "invalidated_on", data.invalidated_on),
        "serial_ranges": [r.as_json() for r in _check_ranges(errors, data.serial_ranges, excluding=excluding)],
        "tonnes": _int_in(errors, "tonnes", data.tonnes, 1, MAX_TONNES),
        "purpose": _required_text(errors, "purpose", data.purpose, MAX_TEXT,
                                  _l("Enter the purpose of the invalidation.")),
        "offset_place": _required_text(errors, "offset_place", data.offset_place, MAX_TEXT,
                                       _l("Enter the place being offset.")),
    }
    if "purpose" not in errors and _purpose_taken(batch, fields["purpose"], excluding=excluding):
        errors["purpose"] = _l("This batch already has an invalidation for this purpose. The registry "
                               "allows one invalidation per purpose.")
    if data.notice_file is not None and not isinstance(data.notice_file, StoredFile):
        errors["notice_file"] = _l("Upload the registry's notice as a file.")
    if errors:
        raise InvalidInput(errors)
    return fields


def _invalidation_audit(item: Invalidation) -> dict[str, Any]:
    return {"registry": str(item.credit_registry), "invalidated_on": item.invalidated_on.isoformat(),
            "serial_ranges": list(item.serial_ranges), "tonnes": item.tonnes, "purpose": item.purpose,
            "offset_place": item.offset_place, "notice_file_id": item.notice_file_id}


def _require_purchased(batch: Batch) -> None:
    if batch.is_confirmed:
        raise _final_error(batch)
    if batch.status != BatchStatus.PURCHASED:
        raise DomainError(_l("Record the credit purchase for batch %(number)s first.", number=batch.number))


def record_invalidation(batch: Batch, data: InvalidationData, *, actor: User) -> InvalidationResult:
    """Record an invalidation for a purchased batch. Returns the batch's warnings."""
    _require_staff(actor)
    _require_purchased(batch)
    fields = _invalidation_fields(batch, data, excluding=None)
    _lock_open(batch)
    _refresh_figures(batch)
    item = Invalidation(batch_id=batch.id, created_by_id=actor.id, notice_file=data.notice_file, **fields)
    db.session.add(item)
    batch.invalidations.append(item)
    db.session.flush()
    warnings = batch_warnings(batch)
    add_audit(actor_name(actor), "invalidation.record", "invalidation", item.id, None,
              {**_invalidation_audit(item), "batch": batch.number, "warnings": [w.code for w in warnings]})
    db.session.commit()
    return InvalidationResult(item, warnings)


def update_invalidation(item: Invalidation, data: InvalidationData, *, actor: User) -> InvalidationResult:
    """Change an invalidation while its batch is not yet confirmed."""
    _require_staff(actor)
    batch = item.batch
    _require_purchased(batch)
    fields = _invalidation_fields(batch, data, excluding=item.id)
    _lock_open(batch)
    _refresh_figures(batch)
    before = _invalidation_audit(item)
    for name, value in fields.items():
        setattr(item, name, value)
    if data.notice_file is not None:  # an edit without a new upload keeps the notice
        item.notice_file = data.notice_file
    item.updated_at = utcnow()
    db.session.flush()
    warnings = batch_warnings(batch)
    add_audit(actor_name(actor), "invalidation.update", "invalidation", item.id, before,
              {**_invalidation_audit(item), "batch": batch.number, "warnings": [w.code for w in warnings]})
    db.session.commit()
    return InvalidationResult(item, warnings)


# --- confirmation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmResult:
    batch: Batch
    warnings: list[PoolWarning]


def confirm_batch(batch: Batch, *, actor: User, acknowledged: Collection[str] = ()) -> ConfirmResult:
    """Make the batch final: its contributions are retired. Every warning still standing must be
    acknowledged by its code; the tonnes with the free surplus must cover what the batch owes."""
    _require_staff(actor)
    if batch.is_confirmed:
        raise _final_error(batch)
    _lock_open(batch)
    _refresh_figures(batch)
    if batch.status == BatchStatus.DRAFT and batch.tonnes_required > 0:
        db.session.rollback()
        raise DomainError(_l("Record the credit purchase and its invalidation before confirming batch "
                             "%(number)s.", number=batch.number))
    invalidations = list(batch.invalidations)
    if batch.status == BatchStatus.PURCHASED:
        if not invalidations:
            db.session.rollback()
            raise DomainError(_l("Record the invalidation before confirming batch %(number)s.",
                                 number=batch.number))
        missing = [i.purpose for i in invalidations if i.notice_file_id is None]
        if missing:
            db.session.rollback()
            raise DomainError(_l("Upload the registry's invalidation notice for: %(purposes)s.",
                                 purposes=", ".join(missing)), field="notice_file")
    invalidated_g = sum(i.tonnes for i in invalidations) * GRAMS_PER_TONNE
    if invalidated_g + batch.surplus_available_g < batch.owed_g:
        short = batch.owed_g - batch.surplus_available_g - invalidated_g
        db.session.rollback()
        raise DomainError(_l("The invalidated tonnes and the carried balance do not cover this batch: "
                             "%(kg)s kg-CO2 short. Record the missing tonnes before confirming.",
                             kg=_kg(short)), field="tonnes")
    warnings = batch_warnings(batch)
    unacknowledged = sorted({w.code for w in warnings} - set(acknowledged))
    if unacknowledged:
        db.session.rollback()
        raise DomainError(_l("Check these warnings and confirm that you have read them: %(codes)s.",
                             codes=", ".join(unacknowledged)), field="acknowledged")
    batch.move_to(BatchStatus.INVALIDATED)
    batch.confirmed_at = utcnow()
    batch.confirmed_by_id = actor.id
    add_audit(actor_name(actor), "batch.confirm", "batch", batch.id, {"status": "open"},
              {"status": str(batch.status), **_figures(batch),
               "invalidated_t": invalidated_g // GRAMS_PER_TONNE,
               "warnings_acknowledged": sorted({w.code for w in warnings})})
    db.session.commit()
    return ConfirmResult(batch, warnings)


# --- corrections and the values shown ------------------------------------------------------------

def _to_json(name: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if name == "serial_ranges":
        return [r.as_json() if isinstance(r, SerialRange) else dict(r) for r in value]
    if hasattr(value, "value"):  # StrEnum
        return value.value
    return value


def _from_json(name: str, value: Any) -> Any:
    if name in ("invalidated_on", "purchased_on"):
        return date.fromisoformat(value)
    if name == "serial_ranges":
        return clean_ranges(value)
    if name == "registry":
        return Registry(value)
    if name == "credit_type":
        return CreditType(value)
    return value


@dataclass(frozen=True)
class PurchaseView:
    """A purchase as shown: the recorded values with any corrections applied on top."""

    id: int
    provider: str
    credit_type: CreditType
    project_name: str
    project_id: str
    credit_place: str
    tonnes: int
    price_per_t_yen: int
    total_yen: int
    purchased_on: date
    invoice_file_id: int | None
    corrected: frozenset[str] = frozenset()


@dataclass(frozen=True)
class InvalidationView:
    """An invalidation as shown: the recorded values with any corrections applied on top."""

    id: int
    registry: Registry
    invalidated_on: date
    serial_ranges: tuple[SerialRange, ...]
    tonnes: int
    purpose: str
    offset_place: str
    notice_file_id: int | None
    corrected: frozenset[str] = frozenset()

    @property
    def serial_t(self) -> int | None:
        return ranges_tonnes_or_none(self.serial_ranges)


def _corrections_for(*, invalidation_id: int | None = None, purchase_id: int | None = None):
    query = select(InvalidationCorrection).order_by(InvalidationCorrection.id)
    if invalidation_id is not None:
        return db.session.scalars(query.where(InvalidationCorrection.invalidation_id == invalidation_id))
    return db.session.scalars(query.where(InvalidationCorrection.purchase_id == purchase_id))


def _apply(values: dict[str, Any], corrections: Iterable[InvalidationCorrection]) -> frozenset[str]:
    corrected = set()
    for correction in corrections:  # in order: the latest correction of a field wins
        values[correction.field] = _from_json(correction.field, correction.new_value)
        corrected.add(correction.field)
    return frozenset(corrected)


def invalidation_view(item: Invalidation) -> InvalidationView:
    values: dict[str, Any] = {"registry": Registry(item.credit_registry), "invalidated_on": item.invalidated_on,
                              "serial_ranges": clean_ranges(item.serial_ranges), "tonnes": item.tonnes,
                              "purpose": item.purpose, "offset_place": item.offset_place}
    corrected = _apply(values, _corrections_for(invalidation_id=item.id)) if item.id else frozenset()
    return InvalidationView(id=item.id, notice_file_id=item.notice_file_id, corrected=corrected, **values)


def purchase_view(purchase: CreditPurchase) -> PurchaseView:
    values: dict[str, Any] = {name: getattr(purchase, name) for name in PURCHASE_FIELDS}
    values["credit_type"] = CreditType(values["credit_type"])
    corrected = _apply(values, _corrections_for(purchase_id=purchase.id)) if purchase.id else frozenset()
    return PurchaseView(id=purchase.id, invoice_file_id=purchase.invoice_file_id, corrected=corrected, **values)


@dataclass(frozen=True)
class BatchView:
    """A batch for the staff console and the transparency page: displayed values after corrections."""

    batch: Batch
    purchase: PurchaseView | None
    invalidations: tuple[InvalidationView, ...]
    corrections: tuple[InvalidationCorrection, ...]
    warnings: tuple[PoolWarning, ...]

    @property
    def invalidated_t(self) -> int:
        return sum(i.tonnes for i in self.invalidations)


def _warnings_from(batch: Batch, purchase: PurchaseView | None,
                   invalidations: Iterable[InvalidationView]) -> list[PoolWarning]:
    facts = PurchaseFacts(purchase.tonnes, purchase.price_per_t_yen, purchase.total_yen,
                          purchase.credit_place) if purchase else None
    return compute_batch_warnings(
        owed_g=batch.owed_g, surplus_used_g=batch.surplus_used_g, purchase=facts,
        invalidations=[InvalidationFacts(i.purpose, i.tonnes, i.serial_ranges, i.offset_place)
                       for i in invalidations])


def batch_warnings(batch: Batch) -> list[PoolWarning]:
    """The batch's warnings on its displayed values (codes in carbon.pool.WARNING_CODES)."""
    purchase = purchase_view(batch.purchase) if batch.purchase else None
    return _warnings_from(batch, purchase, [invalidation_view(i) for i in batch.invalidations])


def batch_view(batch: Batch) -> BatchView:
    """Everything the batch page shows, with corrections applied and both versions kept."""
    purchase = purchase_view(batch.purchase) if batch.purchase else None
    invalidations = tuple(invalidation_view(i) for i in batch.invalidations)
    return BatchView(batch, purchase, invalidations, tuple(batch.corrections),
                     tuple(_warnings_from(batch, purchase, invalidations)))


def list_batches() -> list[Batch]:
    """Every batch, newest first."""
    return list(db.session.scalars(select(Batch).order_by(Batch.id.desc())))


@dataclass(frozen=True)
class CorrectionResult:
    correction: InvalidationCorrection
    warnings: list[PoolWarning]


INT_LIMITS = {"tonnes": MAX_TONNES, "price_per_t_yen": MAX_PRICE_PER_T_YEN, "total_yen": MAX_TOTAL_YEN}
TEXT_LIMITS = {"project_name": MAX_PROJECT_NAME, "project_id": MAX_PROJECT_ID}


def _parse_correction(name: str, raw: Any, target: Invalidation | CreditPurchase) -> Any:
    """The new value, checked like the original entry; returned in its display type."""
    errors: dict[str, str] = {}
    if name in INT_LIMITS:
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        value = _int_in(errors, name, raw, 1, INT_LIMITS[name])
    elif name in ("invalidated_on", "purchased_on"):
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                pass
        value = _past_date(errors, name, raw)
    elif name == "registry":
        value = _enum_value(errors, name, Registry, raw)
    elif name == "credit_type":
        value = _enum_value(errors, name, CreditType, raw)
    elif name == "serial_ranges":
        value = _check_ranges(errors, raw, excluding=target.id)
    else:
        value = _required_text(errors, name, raw if isinstance(raw, str) else "", TEXT_LIMITS.get(name, MAX_TEXT),
                               _l("Enter a value."))
    if errors:
        raise DomainError(next(iter(errors.values())), field="new_value")
    return value


def record_correction(target: Invalidation | CreditPurchase, *, field: str, new_value: Any, reason: str,
                      actor: User) -> CorrectionResult:
    """A correcting entry on a confirmed batch's invalidation or purchase: the original stays and
    the displayed value becomes `new_value`. The reason is required."""
    _require_staff(actor)
    batch = target.batch
    is_invalidation = isinstance(target, Invalidation)
    if not batch.is_confirmed:
        raise DomainError(_l("Batch %(number)s is not confirmed yet: change the record itself instead.",
                             number=batch.number))
    allowed = INVALIDATION_FIELDS if is_invalidation else PURCHASE_FIELDS
    if field not in allowed:
        raise DomainError(_l("This field cannot be corrected."), field="field")
    reason = _text(reason)
    if not reason:
        raise DomainError(_l("Explain why the record is corrected."), field="reason")
    if len(reason) > MAX_NOTE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_NOTE), field="reason")
    value = _parse_correction(field, new_value, target)
    view = invalidation_view(target) if is_invalidation else purchase_view(target)
    old = getattr(view, field)
    if _to_json(field, old) == _to_json(field, value):
        raise DomainError(_l("The new value is the same as the one shown now."), field="new_value")
    # Serialise with other writers on this batch before checking the pool's balance.
    db.session.execute(update(Batch).where(Batch.id == batch.id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    if is_invalidation and field == "purpose" and _purpose_taken(batch, value, excluding=target.id):
        db.session.rollback()
        raise DomainError(_l("This batch already has an invalidation for this purpose. The registry "
                             "allows one invalidation per purpose."), field="new_value")
    if is_invalidation and field == "tonnes" and value < old:
        if balance_g() - (old - value) * GRAMS_PER_TONNE < reserved_surplus_g():
            db.session.rollback()
            raise DomainError(_l("With %(tonnes)s t the tonnes retired would no longer cover the contributions "
                                 "already marked retired.", tonnes=value), field="new_value")
    correction = InvalidationCorrection(
        batch_id=batch.id, invalidation_id=target.id if is_invalidation else None,
        purchase_id=None if is_invalidation else target.id, field=field, old_value=_to_json(field, old),
        new_value=_to_json(field, value), reason=reason, created_by_id=actor.id)
    db.session.add(correction)
    db.session.flush()
    warnings = batch_warnings(batch)
    add_audit(actor_name(actor), "correction.record", "invalidation" if is_invalidation else "credit_purchase",
              target.id, {field: correction.old_value},
              {field: correction.new_value, "reason": reason, "batch": batch.number,
               "warnings": [w.code for w in warnings]})
    db.session.commit()
    return CorrectionResult(correction, warnings)


# --- what a certificate shows --------------------------------------------------------------------

@dataclass(frozen=True)
class RetirementEntry:
    invalidated_on: date
    registry: Registry
    serial_ranges: tuple[SerialRange, ...]
    tonnes: int
    purpose: str


@dataclass(frozen=True)
class Retirement:
    """How a paid contribution was retired: its batch and the credits invalidated for it.

    `from_surplus` is True for a batch the carried balance covered whole (nothing bought, so the
    invalidation fields are empty and the template says so)."""

    batch_number: str
    confirmed_at: datetime
    invalidated_on: date | None             # the latest invalidation date in the batch
    registry: Registry | None               # the (first) invalidation's registry
    serial_ranges: tuple[SerialRange, ...]  # all ranges of the batch, after corrections
    project_name: str
    project_id: str
    credit_type: CreditType | None
    tonnes: int                             # tonnes invalidated for the batch
    from_surplus: bool
    invalidations: tuple[RetirementEntry, ...] = ()


def certificate_retirement(contribution: Contribution) -> Retirement | None:
    """The retirement a participation certificate shows, or None while awaiting invalidation
    (or when refunded: its grams went back to the balance)."""
    if contribution.status != ContributionStatus.PAID or contribution.batch_id is None:
        return None
    batch = db.session.get(Batch, contribution.batch_id)
    if batch is None or not batch.is_confirmed:
        return None
    view = batch_view(batch)
    entries = tuple(RetirementEntry(i.invalidated_on, i.registry, i.serial_ranges, i.tonnes, i.purpose)
                    for i in view.invalidations)
    purchase = view.purchase
    return Retirement(
        batch_number=batch.number, confirmed_at=batch.confirmed_at,
        invalidated_on=max((e.invalidated_on for e in entries), default=None),
        registry=entries[0].registry if entries else None,
        serial_ranges=tuple(r for e in entries for r in e.serial_ranges),
        project_name=purchase.project_name if purchase else "", project_id=purchase.project_id if purchase else "",
        credit_type=purchase.credit_type if purchase else None, tonnes=view.invalidated_t,
        from_surplus=not entries, invalidations=entries)


# --- warnings as text ----------------------------------------------------------------------------

def warning_message(warning: PoolWarning) -> str:
    """The staff-facing text of a warning (lazy, translated)."""
    p = warning.params
    if warning.code == SERIALS_MISMATCH:
        return _l("%(purpose)s: the serial number ranges add up to %(serial_t)s t, but %(tonnes)s t are "
                  "recorded.", purpose=p["purpose"], serial_t=p["serial_t"], tonnes=p["tonnes"])
    if warning.code == TONNES_SHORT:
        return _l("%(invalidated_t)s t invalidated do not cover what the batch owes after the carried "
                  "balance (%(required_t)s t needed, %(kg)s kg-CO2 short).",
                  invalidated_t=p["invalidated_t"], required_t=p["required_t"], kg=_kg(int(p["short_g"])))
    if warning.code == SAME_PLACE:
        return _l("%(purpose)s: the credit was created in %(place)s, the same place being offset. The "
                  "place offset must differ from where the credit was created.",
                  purpose=p["purpose"], place=p["place"])
    if warning.code == PURCHASE_DIFFERS:
        return _l("%(purchased_t)s t were bought but %(invalidated_t)s t are invalidated.",
                  purchased_t=p["purchased_t"], invalidated_t=p["invalidated_t"])
    if warning.code == TOTAL_MISMATCH:
        return _l("The total of %(total)s yen differs from %(tonnes)s t × %(price)s yen = %(expected)s yen.",
                  total=f"{int(p['total_yen']):,}", tonnes=p["tonnes"], price=f"{int(p['price_per_t_yen']):,}",
                  expected=f"{int(p['expected_yen']):,}")
    return str(warning.code)


# --- uploaded files ------------------------------------------------------------------------------

class _Upload(Protocol):
    filename: str | None
    stream: BinaryIO


def upload_root() -> Path:
    """Where uploads live: UPLOAD_FOLDER if configured, else instance/uploads."""
    configured = current_app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def stored_file_path(stored: StoredFile) -> Path:
    """The file on disk, for send_file (the name shown is stored.original_name)."""
    return upload_root() / stored.storage_path


def _display_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    return name.strip()[:255]


def _sniff(head: bytes) -> str | None:
    for content_type, (magic, _) in UPLOAD_KINDS.items():
        if head.startswith(magic):
            return content_type
    return None


def store_upload(file_storage: _Upload, *, actor: User) -> StoredFile:
    """Keep an uploaded PDF, PNG or JPEG (checked by its first bytes, at most 10 MB) under
    <upload folder>/<sha256[:2]>/<sha256>.<ext>, with its original name, type, size and hash."""
    name = _display_name(getattr(file_storage, "filename", None))
    if not name:
        raise DomainError(_l("Choose a file to upload."), field="file")
    extension = os.path.splitext(name)[1].lower()
    root = upload_root()
    root.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := file_storage.stream.read(64 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise DomainError(_l("The file is larger than %(mb)d MB.", mb=MAX_UPLOAD_BYTES // 2**20),
                                      field="file")
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise DomainError(_l("The file is empty."), field="file")
        content_type = _sniff(head)
        if content_type is None or extension not in UPLOAD_KINDS[content_type][1]:
            raise DomainError(_l("Upload a PDF, PNG or JPEG file (the file's content and its name must "
                                 "agree)."), field="file")
        sha256 = digest.hexdigest()
        relative = f"{sha256[:2]}/{sha256}{UPLOAD_KINDS[content_type][1][0]}"
        destination = root / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():  # the same bytes uploaded before: keep one copy
            os.unlink(temporary)
        else:
            os.replace(temporary, destination)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    stored = StoredFile(sha256=sha256, original_name=name, content_type=content_type, size_bytes=size,
                        storage_path=relative, uploaded_by=actor_name(actor))
    db.session.add(stored)
    db.session.flush()
    add_audit(actor_name(actor), "file.upload", "stored_file", stored.id, None,
              {"name": name, "content_type": content_type, "size_bytes": size, "sha256": sha256})
    db.session.commit()
    return stored


# --- money that arrived outside Stripe -----------------------------------------------------------

OFFLINE_CHANNELS = (Channel.CASH, Channel.BANK_TRANSFER)


def record_offline_contribution(addon: AddOn, *, quantity: int, channel: Channel | str, received_on: date,
                                recorded_by: User, note: str = "", evidence: StoredFile | None = None,
                                display_name: str = "") -> Contribution:
    """A fare box's cash or an organiser's bank transfer: a paid contribution at the add-on's unit
    price, its grams at the rate in force on the day the money was received."""
    _require_staff(recorded_by)
    errors: dict[str, str] = {}
    try:
        channel = Channel(channel)
    except ValueError:
        channel = None
    if channel not in OFFLINE_CHANNELS:
        errors["channel"] = _l("Choose cash or bank transfer.")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_OFFLINE_QUANTITY:
        errors["quantity"] = _l("Enter a whole number from %(low)s to %(high)s.", low="1",
                                high=f"{MAX_OFFLINE_QUANTITY:,}")
    elif addon.unit_price_yen * quantity < 1:
        errors["quantity"] = _l("The amount must be at least 1 yen.")
    received = _past_date(errors, "received_on", received_on)
    note = _text(note)
    if len(note) > MAX_NOTE:
        errors["note"] = _l("Use at most %(max)d characters.", max=MAX_NOTE)
    if evidence is not None and not isinstance(evidence, StoredFile):
        errors["evidence"] = _l("Upload the evidence as a file.")
    if errors:
        raise InvalidInput(errors)
    # Narrows types: the checks above raised for None (bandit B101).
    assert received is not None and channel is not None  # nosec B101
    # Money counted at the end of its day is in hand by then; today's counts as received now.
    paid_at = min(end_of_day(received), utcnow())
    rate = current_rate(at=paid_at)
    if rate is None:
        raise DomainError(_l("No conversion rate was in force on that date."), field="received_on")
    amount = addon.unit_price_yen * quantity
    contribution = Contribution(
        number=f"tmp-{uuid.uuid4().hex[:20]}", certificate_token=new_token(), addon_id=addon.id,
        channel=channel, status=ContributionStatus.PAID, quantity=quantity,
        unit_price_yen=addon.unit_price_yen, amount_yen=amount, co2_g=grams_for_yen(amount, rate.yen_per_t),
        rate_id=rate.id, rate_yen_per_t=rate.yen_per_t, display_name=_text(display_name)[:100],
        receipt_email="", locale="ja", idempotency_key=f"offline-{uuid.uuid4()}", note=note,
        recorded_by_id=recorded_by.id, paid_at=paid_at)
    db.session.add(contribution)
    db.session.flush()
    contribution.number = certificate_number(contribution)
    db.session.add(OfflineReceipt(contribution_id=contribution.id, channel=channel, received_on=received,
                                  evidence_file_id=evidence.id if evidence else None,
                                  recorded_by_id=recorded_by.id))
    add_audit(actor_name(recorded_by), "contribution.offline", "contribution", contribution.id, None,
              {"addon": addon.slug, "channel": str(channel), "received_on": received.isoformat(),
               "quantity": quantity, "amount_yen": amount, "co2_g": contribution.co2_g,
               "rate_yen_per_t": rate.yen_per_t, "evidence_file_id": evidence.id if evidence else None})
    db.session.commit()
    return contribution
