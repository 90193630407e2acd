"""Reconciliation: every payment Stripe holds is counted here, even if its webhook never came.

Lists the Checkout Sessions created since a day (Japan time) and passes each paid one that is not
yet paid here through fulfil_checkout_session, the one function that marks a payment paid. Safe to
run at any moment and any number of times: that function decides with a conditional UPDATE.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select

from .days import TOKYO
from ..extensions import db
from ..models import Contribution, ContributionStatus
from ..payments.gateway import get_gateway
from .payments import fulfil_checkout_session

PAID_AT_STRIPE = ("paid", "no_payment_required")


@dataclass
class Reconciliation:
    """What one run saw and changed."""

    since: date
    sessions: int = 0
    paid_at_stripe: int = 0
    already_counted: int = 0
    fulfilled: list[tuple[str, str, int]] = field(default_factory=list)  # session, number, yen
    unknown: list[tuple[str, int]] = field(default_factory=list)         # session, yen: no contribution here
    flagged: list[tuple[str, str]] = field(default_factory=list)         # session, number: amount mismatch


def reconcile_payments(since: date) -> Reconciliation:
    """Fulfil every session paid at Stripe since the start of `since` (Japan time) and missing here."""
    report = Reconciliation(since)
    start = int(datetime.combine(since, time.min, TOKYO).timestamp())
    for session in get_gateway().list_sessions(start):
        report.sessions += 1
        if session.get("payment_status") not in PAID_AT_STRIPE or session.get("created", start) < start:
            continue
        report.paid_at_stripe += 1
        contribution = db.session.scalar(
            select(Contribution).where(Contribution.stripe_session_id == session.get("id")))
        if contribution is None:
            report.unknown.append((str(session.get("id")), int(session.get("amount_total") or 0)))
            continue
        if not ContributionStatus(contribution.status).can_become(ContributionStatus.PAID):
            report.already_counted += 1  # paid (or since refunded) here already
            continue
        outcome = fulfil_checkout_session(session)
        if outcome.result == "paid":
            report.fulfilled.append((str(session["id"]), contribution.number, contribution.amount_yen))
        elif outcome.result == "mismatch":
            report.flagged.append((str(session["id"]), contribution.number))
        else:  # a webhook won the race a moment ago
            report.already_counted += 1
    return report
