"""Which service handles which verified Stripe event. Events the pool does not use are ignored
(the webhook still answers 2xx, so Stripe stops sending them)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import StripeEvent
from .disputes import close_dispute, open_dispute
from .payments import fulfil_checkout_session, mark_expired, mark_failed
from .refunds import record_refund

HANDLERS = {
    "checkout.session.completed": fulfil_checkout_session,
    "checkout.session.async_payment_succeeded": fulfil_checkout_session,
    "checkout.session.async_payment_failed": mark_failed,
    "checkout.session.expired": mark_expired,
    "charge.refunded": record_refund,
    "charge.dispute.created": open_dispute,
    "charge.dispute.closed": close_dispute,
    # charge.dispute.funds_withdrawn / funds_reinstated / updated only move money at Stripe while a
    # dispute is open: the pool follows created and closed, so they are ignored.
}


def handle_event(event: dict[str, Any]) -> str:
    """Route a verified Stripe event to its service; returns the outcome for the log."""
    handler = HANDLERS.get(event.get("type", ""))
    if handler is None:
        return "ignored"
    return handler((event.get("data") or {}).get("object") or {}).result


def already_seen(event_id: str) -> bool:
    """True when this event id was handled before (Stripe delivers at least once)."""
    return db.session.get(StripeEvent, event_id) is not None


def remember_event(event_id: str, kind: str, outcome: str) -> str:
    """Record the event id once; returns the outcome, or "duplicate" when another worker handled
    the same event at the same moment (its service's conditional updates made this one a no-op)."""
    db.session.add(StripeEvent(id=event_id, type=kind[:100], outcome=outcome))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    return outcome
