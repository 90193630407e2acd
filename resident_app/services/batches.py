"""Purchase batches (購入バッチ): preview and close one, let a contribution go while it is open,
and confirm it, which retires its contributions and writes the retirement into the ledger.

Each public function takes the pool lock first, validates, writes, leaves an audit row and
commits once; a refusal rolls back before it raises, so callers never roll back themselves."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..carbon.conversion import GRAMS_PER_TONNE
from ..carbon.pool import PoolWarning, tonnes_to_buy
from ..extensions import db
from ..models import (Batch, BatchStatus, Contribution, ContributionStatus, DisputeStatus, LedgerKind, User,
                      utcnow)
from .accounts import actor_name
from .audit import add_audit
from .days import TOKYO, cutoff_instant, start_of_day
from .errors import DomainError
from .fields import MAX_NOTE, clean, kg_text, require_staff
from .ledger import Entry, lock_pool, pool_state, post
from .register import batch_warnings

OPEN_STATUSES = (BatchStatus.DRAFT, BatchStatus.PURCHASED)


def final_error(batch: Batch) -> DomainError:
    return DomainError(_l("Batch %(number)s is confirmed and can no longer be changed. Record a "
                          "correction instead.", number=batch.number))


def lock_open(batch: Batch) -> None:
    """Take the batch for writing while it is still open (after lock_pool: the pool lock comes
    first in every transaction, so no two writers can wait on each other)."""
    touched = db.session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.status.in_(OPEN_STATUSES))
        .values(updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if touched != 1:
        db.session.rollback()
        raise final_error(batch)


def refuse(message, *, field: str | None = None) -> DomainError:
    """Undo this transaction's writes and return the error to raise."""
    db.session.rollback()
    return DomainError(message, field=field)


# --- what a batch takes and owes -----------------------------------------------------------------

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


def batchable():
    """Paid contributions a batch may take: in none yet, and not under dispute."""
    return (Contribution.batch_id.is_(None), Contribution.status == ContributionStatus.PAID,
            Contribution.dispute_status != DisputeStatus.OPEN)


def _sums():
    return (func.count(Contribution.id), func.coalesce(func.sum(Contribution.net_yen), 0),
            func.coalesce(func.sum(Contribution.net_g), 0))


def balance_now_g() -> int:
    """The carried balance from the ledger's running totals (read after lock_pool to decide on it)."""
    state = pool_state()
    return state.retired_t * GRAMS_PER_TONNE - state.retired_g


def reserved_surplus_g(*, excluding: int | None = None) -> int:
    """The carried balance already promised to open (not yet confirmed) batches."""
    query = select(func.coalesce(func.sum(Batch.surplus_used_g), 0)).where(Batch.status.in_(OPEN_STATUSES))
    if excluding is not None:
        query = query.where(Batch.id != excluding)
    return int(db.session.scalar(query) or 0)


def available_surplus_g(*, excluding: int | None = None) -> int:
    """The carried balance a batch may use: the pool's balance less what open batches reserved."""
    return max(0, balance_now_g() - reserved_surplus_g(excluding=excluding))


def preview_batch(cutoff: date | datetime) -> BatchPreview:
    """The figures close_batch(cutoff) would record now, for the staff screen to show first."""
    cutoff_at = cutoff_instant(cutoff)
    count, paid_yen, owed_g = db.session.execute(
        select(*_sums()).where(*batchable(), Contribution.paid_at <= cutoff_at)).one()
    surplus = available_surplus_g()
    plan = tonnes_to_buy(int(owed_g), surplus)
    return BatchPreview(cutoff_at, int(count), int(paid_yen), int(owed_g), surplus, plan.surplus_used_g,
                        plan.tonnes, plan.surplus_after_g)


def figures(batch: Batch) -> dict[str, int]:
    return {"contribution_count": batch.contribution_count, "paid_yen": batch.paid_yen,
            "owed_g": batch.owed_g, "surplus_available_g": batch.surplus_available_g,
            "surplus_used_g": batch.surplus_used_g, "tonnes_required": batch.tonnes_required,
            "surplus_after_g": batch.surplus_after_g}


def refresh_figures(batch: Batch) -> None:
    """Recompute an open batch's figures from the contributions it holds (net of partial refunds)
    and the free surplus."""
    count, paid_yen, owed_g = db.session.execute(
        select(*_sums()).where(Contribution.batch_id == batch.id,
                               Contribution.status == ContributionStatus.PAID)).one()
    surplus = available_surplus_g(excluding=batch.id)
    plan = tonnes_to_buy(int(owed_g), surplus)
    batch.contribution_count, batch.paid_yen, batch.owed_g = int(count), int(paid_yen), int(owed_g)
    batch.surplus_available_g = surplus
    batch.tonnes_required, batch.surplus_used_g, batch.surplus_after_g = plan


def refresh_open_batches() -> None:
    """Bring every open batch's figures up to date, oldest first, inside a transaction that changed
    the balance or what open batches reserve (after lock_pool). Batches are few, and this keeps the
    figures and warnings staff read on a batch page the ones confirmation will decide on."""
    for batch in db.session.scalars(select(Batch).where(Batch.status.in_(OPEN_STATUSES)).order_by(Batch.id)):
        refresh_figures(batch)


def close_batch(cutoff: date | datetime, *, actor: User, note: str = "") -> Batch:
    """Close a batch (購入バッチ): every paid contribution not yet in a batch and not under dispute,
    paid up to the cut-off."""
    require_staff(actor)
    cutoff_at = cutoff_instant(cutoff)
    if cutoff_at > utcnow():
        raise DomainError(_l("The cut-off cannot be in the future."), field="cutoff")
    note = clean(note)
    if len(note) > MAX_NOTE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_NOTE), field="note")
    lock_pool()
    waiting = (*batchable(), Contribution.paid_at <= cutoff_at)
    expected = int(db.session.scalar(select(func.count(Contribution.id)).where(*waiting)) or 0)
    if expected == 0:
        raise refuse(_l("There are no paid contributions up to this cut-off that are not already in a batch."),
                     field="cutoff")
    batch = Batch(number=f"tmp-{uuid.uuid4().hex[:20]}", status=BatchStatus.DRAFT, cutoff_at=cutoff_at,
                  note=note, created_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    batch.number = f"PB-{batch.created_at.astimezone(TOKYO).year}-{batch.id:04d}"
    # The one place a contribution joins a batch: only while it has none and is still paid, so two
    # people closing batches at once can never take the same contribution.
    taken = db.session.execute(
        update(Contribution).where(*waiting).values(batch_id=batch.id)
        .execution_options(synchronize_session=False)).rowcount
    if taken < expected:
        raise refuse(_l("Some of these contributions were taken by another batch or refunded a moment ago. "
                        "Look at the batches again and retry."), field="cutoff")
    refresh_figures(batch)
    post([Entry(LedgerKind.BATCH_CLOSED, batch_id=batch.id)])
    add_audit(actor_name(actor), "batch.close", "batch", batch.id, None,
              {"number": batch.number, "cutoff_at": cutoff_at.isoformat(), **figures(batch)})
    db.session.commit()
    return batch


def release_from_batch(contribution: Contribution, *, actor: str, why: str, partial: bool = False) -> str | None:
    """Inside a refund's or a dispute's transaction (after lock_pool, no commit): an open batch lets
    the contribution go (or, for a partial refund, keeps it) and owes less; a confirmed batch keeps
    it and its figures (it stays retired). Returns "removed", "kept", "retired" or None (in no batch)."""
    if contribution.batch_id is None:
        return None
    batch = db.session.get(Batch, contribution.batch_id)
    if batch.status == BatchStatus.INVALIDATED:
        return "retired"
    before = figures(batch)
    if not partial:
        db.session.execute(update(Contribution).where(Contribution.id == contribution.id,
                                                      Contribution.batch_id == batch.id)
                           .values(batch_id=None).execution_options(synchronize_session=False))
    refresh_open_batches()  # it owes less, so it may reserve less of the surplus: others may use it
    batch.updated_at = utcnow()
    add_audit(actor, "batch.partial_refund" if partial else "batch.contribution_removed", "batch", batch.id,
              before, {**figures(batch), "contribution_id": contribution.id, "why": why})
    return "kept" if partial else "removed"


# --- money counted late --------------------------------------------------------------------------

@dataclass(frozen=True)
class LateMoney:
    """Contributions a batch holds that were received before an earlier batch's cut-off but
    recorded after it closed (cash counted late): they joined this batch instead."""

    count: int
    paid_yen: int
    owed_g: int
    earlier_batch: str           # the latest earlier batch whose cut-off they fall before


def late_money(batch: Batch) -> LateMoney | None:
    earlier = db.session.execute(
        select(Batch.number, Batch.cutoff_at).where(Batch.id < batch.id)
        .order_by(Batch.cutoff_at.desc(), Batch.id.desc()).limit(1)).first()
    if earlier is None:
        return None
    count, paid_yen, owed_g = db.session.execute(
        select(*_sums()).where(Contribution.batch_id == batch.id, Contribution.status == ContributionStatus.PAID,
                               Contribution.paid_at <= earlier.cutoff_at)).one()
    return LateMoney(int(count), int(paid_yen), int(owed_g), earlier.number) if count else None


def closed_after(paid_at: datetime) -> Batch | None:
    """The latest batch whose cut-off is on or after `paid_at`: money paid then and recorded now
    is too late for it and waits for the next batch."""
    return db.session.scalar(select(Batch).where(Batch.cutoff_at >= paid_at)
                             .order_by(Batch.cutoff_at.desc(), Batch.id.desc()).limit(1))


# --- confirmation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmResult:
    batch: Batch
    warnings: list[PoolWarning]


def confirm_batch(batch: Batch, *, actor: User, acknowledged: Collection[str] = ()) -> ConfirmResult:
    """Make the batch final: its contributions are retired. Every warning still standing must be
    acknowledged by its code; the tonnes with the free surplus must cover what the batch owes.
    The ledger gets the credits bought, each invalidation's tonnes and the retired grams."""
    require_staff(actor)
    if batch.is_confirmed:
        raise final_error(batch)
    lock_pool()
    lock_open(batch)
    refresh_figures(batch)
    if batch.contribution_count == 0:
        raise refuse(_l("Batch %(number)s holds no contribution any more (they were refunded or are under "
                        "dispute), so there is nothing to confirm.", number=batch.number))
    if batch.status == BatchStatus.DRAFT and batch.tonnes_required > 0:
        raise refuse(_l("Record the credit purchase and its invalidation before confirming batch %(number)s.",
                        number=batch.number))
    invalidations = list(batch.invalidations)
    if batch.status == BatchStatus.PURCHASED:
        if not invalidations:
            raise refuse(_l("Record the invalidation before confirming batch %(number)s.", number=batch.number))
        missing = [i.purpose for i in invalidations if i.notice_file_id is None]
        if missing:
            raise refuse(_l("Upload the registry's invalidation notice for: %(purposes)s.",
                            purposes=", ".join(missing)), field="notice_file")
    invalidated_t = sum(i.tonnes for i in invalidations)
    invalidated_g = invalidated_t * GRAMS_PER_TONNE
    if invalidated_g + batch.surplus_available_g < batch.owed_g:
        short = batch.owed_g - batch.surplus_available_g - invalidated_g
        raise refuse(_l("The invalidated tonnes and the carried balance do not cover this batch: %(kg)s kg-CO2 "
                        "short. Record the missing tonnes before confirming.", kg=kg_text(short)), field="tonnes")
    warnings = batch_warnings(batch)
    unacknowledged = sorted({w.code for w in warnings} - set(acknowledged))
    if unacknowledged:
        raise refuse(_l("Check these warnings and confirm that you have read them: %(codes)s.",
                        codes=", ".join(unacknowledged)), field="acknowledged")
    # What the batch really uses and carries, now that the tonnes are known (more tonnes than
    # required use less of the surplus and carry more).
    batch.surplus_used_g = min(batch.surplus_available_g, max(0, batch.owed_g - invalidated_g))
    batch.surplus_after_g = batch.surplus_available_g + invalidated_g - batch.owed_g
    batch.move_to(BatchStatus.INVALIDATED)
    batch.confirmed_at = utcnow()
    batch.confirmed_by_id = actor.id
    entries = []
    if batch.purchase is not None:
        entries.append(Entry(LedgerKind.CREDITS_BOUGHT, credits_yen=batch.purchase.total_yen, batch_id=batch.id,
                             purchase_id=batch.purchase.id))
    entries += [Entry(LedgerKind.CREDITS_INVALIDATED, occurred_at=min(start_of_day(i.invalidated_on), utcnow()),
                      tonnes=i.tonnes, batch_id=batch.id, invalidation_id=i.id) for i in invalidations]
    entries.append(Entry(LedgerKind.BATCH_RETIRED, retired_g=batch.owed_g, batch_id=batch.id))
    post(entries)
    refresh_open_batches()  # the balance moved: what the others may use and must buy moves with it
    add_audit(actor_name(actor), "batch.confirm", "batch", batch.id, {"status": "open"},
              {"status": str(batch.status), **figures(batch), "invalidated_t": invalidated_t,
               "warnings_acknowledged": sorted({w.code for w in warnings})})
    db.session.commit()
    return ConfirmResult(batch, warnings)
