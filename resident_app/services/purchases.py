"""The credits bought for a batch (its one credit purchase): record it, or replace it while the
batch is not confirmed. What it cost enters the ledger when the batch is confirmed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from ..carbon.pool import PoolWarning
from ..extensions import db
from ..models import Batch, BatchStatus, CreditPurchase, CreditType, StoredFile, User, utcnow
from .accounts import actor_name
from .audit import add_audit
from .batches import final_error, lock_open, refresh_figures
from .errors import InvalidInput
from .fields import (MAX_PRICE_PER_T_YEN, MAX_PROJECT_ID, MAX_PROJECT_NAME, MAX_TEXT, MAX_TONNES, MAX_TOTAL_YEN,
                     enum_value, int_in, past_date, require_staff, required_text)
from .ledger import lock_pool
from .register import PURCHASE_FIELDS, batch_warnings, to_json


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


def _purchase_fields(data: PurchaseData) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields = {
        "provider": required_text(errors, "provider", data.provider, MAX_TEXT,
                                  _l("Enter who sold the credits.")),
        "credit_type": enum_value(errors, "credit_type", CreditType, data.credit_type),
        "project_name": required_text(errors, "project_name", data.project_name, MAX_PROJECT_NAME,
                                      _l("Enter the credit project's name.")),
        "project_id": required_text(errors, "project_id", data.project_id, MAX_PROJECT_ID,
                                    _l("Enter the credit project's number.")),
        "credit_place": required_text(errors, "credit_place", data.credit_place, MAX_TEXT,
                                      _l("Enter where the credit was created (prefecture and municipality).")),
        "tonnes": int_in(errors, "tonnes", data.tonnes, 1, MAX_TONNES),
        "price_per_t_yen": int_in(errors, "price_per_t_yen", data.price_per_t_yen, 1, MAX_PRICE_PER_T_YEN),
        "total_yen": int_in(errors, "total_yen", data.total_yen, 1, MAX_TOTAL_YEN),
        "purchased_on": past_date(errors, "purchased_on", data.purchased_on),
    }
    if data.invoice_file is not None and not isinstance(data.invoice_file, StoredFile):
        errors["invoice_file"] = _l("Upload the invoice as a file.")
    if errors:
        raise InvalidInput(errors)
    return fields


def _purchase_audit(purchase: CreditPurchase) -> dict[str, Any]:
    return {name: to_json(name, getattr(purchase, name)) for name in PURCHASE_FIELDS} | {
        "invoice_file_id": purchase.invoice_file_id}


def record_purchase(batch: Batch, data: PurchaseData, *, actor: User) -> PurchaseResult:
    """Record (or, before confirmation, replace) the credits bought for a batch: draft -> purchased."""
    require_staff(actor)
    if batch.is_confirmed:
        raise final_error(batch)
    fields = _purchase_fields(data)
    lock_pool()
    lock_open(batch)
    refresh_figures(batch)
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


