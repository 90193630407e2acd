"""The pool's register (登録簿) as shown: purchases and invalidations with their corrections
applied, a batch's view and warnings, and what a participation certificate says about retirement.

Read only. Every page, export and certificate shows these values, so they agree."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..carbon.pool import (EXCESS_TONNES, PURCHASE_DIFFERS, SAME_PLACE, SERIALS_MISMATCH, TONNES_SHORT,
                           TOTAL_MISMATCH, InvalidationFacts, PoolWarning, PurchaseFacts, SerialRange,
                           batch_warnings as compute_batch_warnings, clean_ranges, ranges_tonnes_or_none)
from ..extensions import db
from ..models import (Batch, Contribution, ContributionStatus, CreditPurchase, CreditType, Invalidation,
                      InvalidationCorrection, Registry)
from .fields import kg_text

INVALIDATION_FIELDS = ("registry", "invalidated_on", "serial_ranges", "tonnes", "purpose", "offset_place")
PURCHASE_FIELDS = ("provider", "credit_type", "project_name", "project_id", "credit_place", "tonnes",
                   "price_per_t_yen", "total_yen", "purchased_on")


# --- values after corrections --------------------------------------------------------------------

def to_json(name: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if name == "serial_ranges":
        return [r.as_json() if isinstance(r, SerialRange) else dict(r) for r in value]
    if hasattr(value, "value"):  # StrEnum
        return value.value
    return value


def from_json(name: str, value: Any) -> Any:
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


def corrections_for(*, invalidation_id: int | None = None, purchase_id: int | None = None):
    query = select(InvalidationCorrection).order_by(InvalidationCorrection.id)
    if invalidation_id is not None:
        return db.session.scalars(query.where(InvalidationCorrection.invalidation_id == invalidation_id))
    return db.session.scalars(query.where(InvalidationCorrection.purchase_id == purchase_id))


def apply_corrections(values: dict[str, Any], corrections: Iterable[InvalidationCorrection]) -> frozenset[str]:
    corrected = set()
    for correction in corrections:  # in order: the latest correction of a field wins
        values[correction.field] = from_json(correction.field, correction.new_value)
        corrected.add(correction.field)
    return frozenset(corrected)


def invalidation_view(item: Invalidation) -> InvalidationView:
    values: dict[str, Any] = {"registry": Registry(item.credit_registry), "invalidated_on": item.invalidated_on,
                              "serial_ranges": clean_ranges(item.serial_ranges), "tonnes": item.tonnes,
                              "purpose": item.purpose, "offset_place": item.offset_place}
    corrected = apply_corrections(values, corrections_for(invalidation_id=item.id)) if item.id else frozenset()
    return InvalidationView(id=item.id, notice_file_id=item.notice_file_id, corrected=corrected, **values)


def purchase_view(purchase: CreditPurchase) -> PurchaseView:
    values: dict[str, Any] = {name: getattr(purchase, name) for name in PURCHASE_FIELDS}
    values["credit_type"] = CreditType(values["credit_type"])
    corrected = apply_corrections(values, corrections_for(purchase_id=purchase.id)) if purchase.id else frozenset()
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


def retired_in(contribution: Contribution) -> Batch | None:
    """The confirmed batch that retired a paid contribution, or None (awaiting, or refunded: its
    grams went back to the balance)."""
    if contribution.status != ContributionStatus.PAID or contribution.batch_id is None:
        return None
    batch = db.session.get(Batch, contribution.batch_id)
    return batch if batch is not None and batch.is_confirmed else None


def certificate_retirement(contribution: Contribution) -> Retirement | None:
    """The retirement a participation certificate shows, or None while awaiting invalidation
    (or when refunded: its grams went back to the balance)."""
    batch = retired_in(contribution)
    if batch is None:
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
                  invalidated_t=p["invalidated_t"], required_t=p["required_t"], kg=kg_text(int(p["short_g"])))
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
    if warning.code == EXCESS_TONNES:
        return _l("%(tonnes)s t are bought for a batch that needs %(required_t)s t. The extra %(extra_t)s t "
                  "become surplus: this batch carries %(kg)s kg-CO2 forward for later batches.",
                  tonnes=p["tonnes"], required_t=p["required_t"], extra_t=p["extra_t"],
                  kg=kg_text(int(p["surplus_g"])))
    return str(warning.code)


