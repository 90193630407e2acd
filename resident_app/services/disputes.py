"""Disputes (chargebacks) from Stripe: charge.dispute.created and charge.dispute.closed.

Opened: the contribution stays counted (the bank has not decided) but is held out of batches: an
open batch lets it go, and no new batch takes it; certificates and staff screens say "under
dispute". Won: an ordinary paid contribution again. Lost: exactly a refund of what was left
(after retirement its grams become surplus). Retired contributions stay retired while disputed:
taking their grams back and then returning them could leave the balance short. A dispute for
part of the amount, lost, is a partial refund of that part."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from ..extensions import db
from ..models import Contribution, ContributionStatus, DisputeStatus, LedgerKind
from ..models.enums import dispute_sources_for
from .audit import add_audit
from .batches import release_from_batch
from .ledger import Entry, lock_pool, post
from .payments import Outcome, find_by_intent
from .refunds import refund_in_transaction

WON_STATUSES = ("won", "warning_closed")  # an inquiry closed without a chargeback keeps the money
LOST_STATUSES = ("lost",)


def _move(contribution: Contribution, target: DisputeStatus, dispute_id: str) -> bool:
    moved = db.session.execute(
        update(Contribution).where(Contribution.id == contribution.id,
                                   Contribution.status == ContributionStatus.PAID,
                                   Contribution.dispute_status.in_(dispute_sources_for(target)))
        .values(dispute_status=target, stripe_dispute_id=dispute_id)
        .execution_options(synchronize_session=False)).rowcount
    return moved == 1


def _open(contribution: Contribution, dispute_id: str) -> bool:
    """Inside the transaction, after lock_pool: hold the contribution out of batches."""
    if contribution.stripe_dispute_id == dispute_id and contribution.dispute_status != DisputeStatus.NONE:
        return False  # this dispute was seen already (perhaps closed before its created event came)
    if not _move(contribution, DisputeStatus.OPEN, dispute_id):
        return False
    effect = release_from_batch(contribution, actor="stripe", why="dispute")
    post([Entry(LedgerKind.DISPUTE_OPENED, contribution_id=contribution.id)])
    add_audit("stripe", "contribution.dispute_opened", "contribution", contribution.id,
              {"dispute_status": str(contribution.dispute_status)},
              {"dispute_status": "open", "dispute": dispute_id, "batch": effect})
    return True


def open_dispute(dispute: dict[str, Any]) -> Outcome:
    """charge.dispute.created: the payer's bank disputes the payment."""
    contribution = find_by_intent(dispute.get("payment_intent"))
    if contribution is None:
        return Outcome("unknown")
    lock_pool()
    db.session.refresh(contribution)
    if not _open(contribution, str(dispute.get("id") or "")):
        db.session.rollback()
        return Outcome("ignored", contribution)
    db.session.commit()
    db.session.refresh(contribution)
    return Outcome("dispute_opened", contribution)


def close_dispute(dispute: dict[str, Any]) -> Outcome:
    """charge.dispute.closed: won keeps the money, lost gives back what was left of it."""
    status = str(dispute.get("status") or "")
    if status not in WON_STATUSES + LOST_STATUSES:
        return Outcome("ignored")
    contribution = find_by_intent(dispute.get("payment_intent"))
    if contribution is None:
        return Outcome("unknown")
    dispute_id = str(dispute.get("id") or "")
    lock_pool()
    db.session.refresh(contribution)
    if contribution.dispute_status != DisputeStatus.OPEN:
        # Delivery is unordered: a close that overtakes its created event opens the dispute first.
        if not _open(contribution, dispute_id):
            db.session.rollback()
            return Outcome("ignored", contribution)
        db.session.flush()
        db.session.refresh(contribution)
    won = status in WON_STATUSES
    if not _move(contribution, DisputeStatus.WON if won else DisputeStatus.LOST, dispute_id):
        db.session.rollback()
        return Outcome("ignored", contribution)
    if won:
        post([Entry(LedgerKind.DISPUTE_WON, contribution_id=contribution.id)])
    else:  # the disputed amount goes back (usually all that was left; a dispute can be for less)
        disputed = int(dispute.get("amount") or contribution.net_yen)
        refund_in_transaction(contribution, contribution.refunded_yen + disputed, actor="stripe",
                              full_kind=LedgerKind.DISPUTE_LOST)
    add_audit("stripe", "contribution.dispute_closed", "contribution", contribution.id,
              {"dispute_status": "open"}, {"dispute_status": "won" if won else "lost", "dispute": dispute_id})
    db.session.commit()
    db.session.refresh(contribution)
    return Outcome("dispute_won" if won else "dispute_lost", contribution)
