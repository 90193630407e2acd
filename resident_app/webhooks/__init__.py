"""POST /webhooks/stripe: verified, deduplicated, routed to the payment services."""
from __future__ import annotations

import logging

import stripe
from flask import Blueprint, jsonify, request

from ..extensions import csrf
from ..payments.gateway import get_gateway
from ..services.stripe_events import already_seen, handle_event, remember_event

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@csrf.exempt
@bp.post("/webhooks/stripe")
def stripe_webhook():
    """400 for a bad or stale signature; 200 for duplicates and events we ignore; 5xx lets Stripe retry."""
    payload = request.get_data()
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = get_gateway().construct_event(payload, signature)
    except (ValueError, stripe.SignatureVerificationError):
        return jsonify({"error": "invalid signature or payload"}), 400
    event_id = str(event.get("id") or "")
    if not event_id:
        return jsonify({"error": "event without id"}), 400
    if already_seen(event_id):
        return jsonify({"received": True, "outcome": "duplicate"})
    outcome = remember_event(event_id, str(event.get("type", "")), handle_event(event))  # conditional updates decide
    log.info("stripe event %s %s: %s", event_id, event.get("type"), outcome)
    return jsonify({"received": True, "outcome": outcome})
