"""An organiser's event offset certificate: what an add-on's retired contributions came to, and
the batches, credits and serial numbers that retired them. Read only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import AddOn, Batch, BatchStatus, Contribution, ContributionStatus, User
from .addons import Totals, addon_totals
from .register import InvalidationView, PurchaseView, batch_view


def _retired(addon_id: int):
    """This add-on's paid contributions in confirmed batches (refunded ones no longer count)."""
    return (Contribution.addon_id == addon_id, Contribution.status == ContributionStatus.PAID,
            Batch.status == BatchStatus.INVALIDATED)


@dataclass(frozen=True)
class CertificateBatch:
    """One confirmed batch that took some of the add-on's contributions."""

    number: str
    confirmed_at: datetime
    units: int                          # this add-on's share of the batch
    paid_yen: int
    co2_g: int
    batch_tonnes: int                   # the whole batch's invalidated tonnes (shared with other add-ons)
    purchase: PurchaseView | None
    invalidations: tuple[InvalidationView, ...]

    @property
    def invalidated_on(self) -> date | None:
        return max((i.invalidated_on for i in self.invalidations), default=None)


@dataclass(frozen=True)
class EventCertificate:
    addon: AddOn
    organiser: User
    retired: Totals                     # units, yen and grams retired
    awaiting: Totals                    # paid, not yet in a confirmed batch
    batches: tuple[CertificateBatch, ...]

    @property
    def last_invalidated_on(self) -> date | None:
        return max((b.invalidated_on for b in self.batches if b.invalidated_on), default=None)


def has_retired_contributions(addon: AddOn) -> bool:
    """True once at least one of the add-on's contributions is retired (its batch confirmed)."""
    return db.session.scalar(
        select(Contribution.id).join(Batch, Batch.id == Contribution.batch_id).where(*_retired(addon.id)).limit(1)
    ) is not None


def event_certificate(addon: AddOn) -> EventCertificate | None:
    """The certificate's contents, or None while none of the add-on's contributions is retired."""
    rows = db.session.execute(
        select(Batch.id, func.sum(Contribution.quantity), func.sum(Contribution.net_yen),
               func.sum(Contribution.net_g))
        .select_from(Contribution).join(Batch, Batch.id == Contribution.batch_id)
        .where(*_retired(addon.id)).group_by(Batch.id).order_by(Batch.id)).all()
    if not rows:
        return None
    batches = []
    for batch_id, units, paid_yen, co2_g in rows:
        view = batch_view(db.session.get(Batch, batch_id))
        batches.append(CertificateBatch(view.batch.number, view.batch.confirmed_at, int(units), int(paid_yen),
                                        int(co2_g), view.invalidated_t, view.purchase, view.invalidations))
    retired = Totals(sum(b.units for b in batches), sum(b.paid_yen for b in batches), sum(b.co2_g for b in batches))
    paid = addon_totals(addon)
    awaiting = Totals(paid.units - retired.units, paid.yen - retired.yen, paid.co2_g - retired.co2_g)
    return EventCertificate(addon, addon.owner, retired, awaiting, tuple(batches))
