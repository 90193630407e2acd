"""Statuses with explicit transition tables: an illegal move raises."""
from __future__ import annotations

from enum import StrEnum


class IllegalTransition(ValueError):
    pass


class Role(StrEnum):
    ORGANISER = "organiser"
    STAFF = "staff"
    ADMIN = "admin"


class AccountStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class AddOnKind(StrEnum):
    EVENT_TICKET = "event_ticket"
    COMMUNITY_BUS = "community_bus"
    ECO_TOUR = "eco_tour"
    HOUSEHOLD = "household"
    OTHER = "other"


class Channel(StrEnum):
    STRIPE = "stripe"
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"


class ContributionStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"

    def can_become(self, target: "ContributionStatus") -> bool:
        return target in CONTRIBUTION_TRANSITIONS[self]

    def check(self, target: "ContributionStatus") -> None:
        if not self.can_become(target):
            raise IllegalTransition(f"{self} -> {target}")


# A payment can still succeed after Stripe expired the session in a race (async methods), so
# expired -> paid is allowed; paid money only ever leaves by a refund.
CONTRIBUTION_TRANSITIONS: dict[ContributionStatus, frozenset[ContributionStatus]] = {
    ContributionStatus.PENDING: frozenset({ContributionStatus.PAID, ContributionStatus.FAILED,
                                           ContributionStatus.EXPIRED}),
    ContributionStatus.FAILED: frozenset({ContributionStatus.PAID}),
    ContributionStatus.EXPIRED: frozenset({ContributionStatus.PAID}),
    ContributionStatus.PAID: frozenset({ContributionStatus.REFUNDED}),
    ContributionStatus.REFUNDED: frozenset(),
}


def sources_for(target: ContributionStatus) -> tuple[ContributionStatus, ...]:
    """Every status the table allows to move to `target`: the WHERE of a conditional UPDATE, so
    the rule lives in one place (`Contribution.status.in_(sources_for(PAID))`)."""
    return tuple(s for s, targets in CONTRIBUTION_TRANSITIONS.items() if target in targets)


class DisputeStatus(StrEnum):
    """A card payment the payer's bank disputes (chargeback). Kept apart from the payment status:
    a disputed payment is still paid until the bank decides, and a late completion event must
    never turn a dispute back into a plain payment."""

    NONE = "none"
    OPEN = "open"      # held out of batches; "under dispute" on the certificate and staff screens
    WON = "won"        # the money stays: an ordinary paid contribution again
    LOST = "lost"      # the money went back: treated as a refund

    def can_become(self, target: "DisputeStatus") -> bool:
        return target in DISPUTE_TRANSITIONS[self]


# A charge can be disputed again after a win (an inquiry, then a chargeback); a loss is final.
DISPUTE_TRANSITIONS: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    DisputeStatus.NONE: frozenset({DisputeStatus.OPEN}),
    DisputeStatus.OPEN: frozenset({DisputeStatus.WON, DisputeStatus.LOST}),
    DisputeStatus.WON: frozenset({DisputeStatus.OPEN}),
    DisputeStatus.LOST: frozenset(),
}


def dispute_sources_for(target: DisputeStatus) -> tuple[DisputeStatus, ...]:
    """Every dispute status the table allows to move to `target`."""
    return tuple(s for s, targets in DISPUTE_TRANSITIONS.items() if target in targets)


class FlagKind(StrEnum):
    """Why a contribution waits for a person to look at it (the review screen's label)."""

    NONE = ""
    AMOUNT_MISMATCH = "amount_mismatch"   # Stripe reported another amount or currency: not paid
    PARTIAL_REFUND = "partial_refund"     # netted out already; staff check and note why
    OVER_CAP = "over_cap"                 # paid after the add-on's unit cap was reached: refund it
    DISPUTE = "dispute"                   # the bank decided a dispute: staff note what happened


class LedgerKind(StrEnum):
    """What a pool ledger entry records. Stable values: the open data publishes them."""

    PAYMENT = "payment"                          # card or online payment (Stripe)
    CASH = "cash"                                # a fare box's cash
    TRANSFER = "transfer"                        # an organiser's bank transfer
    PARTIAL_REFUND = "partial_refund"            # part of a payment given back; the rest stays
    REFUND = "refund"                            # what was left of a payment given back
    DISPUTE_OPENED = "dispute_opened"            # held out of batches; still counted
    DISPUTE_WON = "dispute_won"                  # back to an ordinary payment
    DISPUTE_LOST = "dispute_lost"                # the bank took the money back: like a refund
    BATCH_CLOSED = "batch_closed"                # a batch took the paid contributions to a cut-off
    CREDITS_BOUGHT = "credits_bought"            # what the batch's credits cost (at confirmation)
    CREDITS_INVALIDATED = "credits_invalidated"  # tonnes retired in the registry (at confirmation)
    BATCH_RETIRED = "batch_retired"              # the batch's contributions are now covered
    SURPLUS_CARRIED = "surplus_carried"          # a retired contribution left: its grams join the surplus
    CORRECTION = "correction"                    # a correcting entry on a confirmed batch


# Kinds that bring a contribution into the pool, and the kinds that take one out for good.
LEDGER_IN = (LedgerKind.PAYMENT, LedgerKind.CASH, LedgerKind.TRANSFER)
LEDGER_OUT = (LedgerKind.REFUND, LedgerKind.DISPUTE_LOST)
