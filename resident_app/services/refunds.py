"""Refunds, full and partial: the money and its grams leave the pool's figures.

A partial refund keeps floor(co2_g × kept yen / amount) grams (carbon.conversion.kept_grams), so
the pool never promises more than the money left buys. Where the contribution sits decides the
rest: not in a batch, nothing more; in an open batch, the batch lets it go (full) or owes less
(partial); in a confirmed batch its credits are already retired, so the grams given back become
surplus (a surplus_carried ledger entry) and the batch's published figures stay as they were."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from ..carbon.conversion import kept_grams
from ..extensions import db
from ..models import Contribution, ContributionStatus, FlagKind, LedgerKind, sources_for, utcnow
from .audit import add_audit
from .batches import refresh_open_batches, release_from_batch
from .ledger import Entry, lock_pool, post
from .payments import Outcome, find_by_intent
from .reviews import raise_flag


def refund_in_transaction(contribution: Contribution, refunded_total_yen: int, *, actor: str,
                          full_kind: LedgerKind = LedgerKind.REFUND) -> str | None:
    """Bring a paid contribution's refunds up to `refunded_total_yen` (the charge's running total),
    inside the caller's transaction (no commit). Returns "refunded" (all of it), "partial", or None
    when nothing changes (an older or repeated event, or a contribution that is not paid)."""
    lock_pool()
    db.session.refresh(contribution)  # decide on what is committed now that the pool is ours
    total = min(max(refunded_total_yen, 0), contribution.amount_yen)
    if contribution.status != ContributionStatus.PAID or total <= contribution.refunded_yen:
        return None
    full = total == contribution.amount_yen
    kept_g = 0 if full else kept_grams(contribution.co2_g, contribution.amount_yen, contribution.amount_yen - total)
    delta_yen = total - contribution.refunded_yen
    delta_g = contribution.net_g - kept_g
    values: dict[str, Any] = {"refunded_yen": total, "refunded_g": contribution.co2_g - kept_g,
                              "refunded_at": utcnow()}
    status_rule = Contribution.status == ContributionStatus.PAID
    if full:
        values["status"] = ContributionStatus.REFUNDED
        status_rule = Contribution.status.in_(sources_for(ContributionStatus.REFUNDED))
    moved = db.session.execute(
        update(Contribution).where(Contribution.id == contribution.id, status_rule,
                                   Contribution.refunded_yen == contribution.refunded_yen)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return None
    batch_id = contribution.batch_id
    effect = release_from_batch(contribution, actor=actor, why=str(full_kind if full else LedgerKind.PARTIAL_REFUND),
                                partial=not full)
    entries = [Entry(full_kind if full else LedgerKind.PARTIAL_REFUND, yen=-delta_yen, co2_g=-delta_g,
                     contribution_id=contribution.id)]
    if effect == "retired" and delta_g:
        entries.append(Entry(LedgerKind.SURPLUS_CARRIED, retired_g=-delta_g, contribution_id=contribution.id,
                             batch_id=batch_id))
    post(entries)
    if effect == "retired":
        refresh_open_batches()  # the grams given back joined the surplus open batches may use
    if not full:
        raise_flag(contribution.id, FlagKind.PARTIAL_REFUND,
                   f"Partial refund of {delta_yen} yen ({total} of {contribution.amount_yen} yen refunded so far): "
                   f"{delta_g} g less owed. Check it and note why.", actor=actor)
    add_audit(actor, "contribution.refunded" if full else "contribution.partially_refunded", "contribution",
              contribution.id, {"status": "paid", "refunded_yen": contribution.refunded_yen,
                                "refunded_g": contribution.refunded_g},
              {"status": "refunded" if full else "paid", "refunded_yen": total,
               "refunded_g": contribution.co2_g - kept_g, "batch": effect, "kind": str(full_kind)})
    return "refunded" if full else "partial"


def record_refund(charge: dict[str, Any]) -> Outcome:
    """Stripe's charge.refunded: `amount_refunded` is the charge's running total, so a repeated or
    older event changes nothing and a later one adds only the difference."""
    contribution = find_by_intent(charge.get("payment_intent"))
    if contribution is None:
        return Outcome("unknown")
    total = contribution.amount_yen if charge.get("refunded") else int(charge.get("amount_refunded") or 0)
    result = refund_in_transaction(contribution, total, actor="stripe")
    if result is None:
        db.session.rollback()
        return Outcome("ignored", contribution)
    db.session.commit()
    db.session.refresh(contribution)
    return Outcome("refunded" if result == "refunded" else "partially_refunded", contribution)
