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
