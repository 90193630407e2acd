"""POST /webhooks/stripe: verified, deduplicated, routed to the payment services."""
from __future__ import annotations

import logging

import stripe
from flask import Blueprint, jsonify, request
from sqlalchemy.exc import DBAPIError

from ..extensions import csrf, db
from ..payments.gateway import get_gateway
from ..services.stripe_events import already_seen, handle_event, remember_event
from ..web.openapi import BOOLEAN, TEXT, obj, ok, operation

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)

SIGNATURE = {"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"},
             "description": "t=<timestamp>,v1=<HMAC-SHA256 of the raw body with the endpoint's secret>"}


@csrf.exempt
@bp.post("/webhooks/stripe")
@operation("Stripe's events (only Stripe can sign them)", tags=("payments",), parameters=(SIGNATURE,),
           request={"type": "object"}, responses={
               200: ok("Recorded, a duplicate, or ignored", obj({"received": BOOLEAN, "outcome": TEXT})),
               400: ok("A bad or stale signature, or an event without an id", obj({"error": TEXT}))})
def stripe_webhook():
    """400 for a bad or stale signature; 200 for duplicates and events we ignore; 5xx lets Stripe retry."""
    payload = request.get_data()
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = get_gateway().construct_event(payload, signature)
    except (ValueError, RecursionError, stripe.SignatureVerificationError):  # signed but unreadable too
        return jsonify({"error": "invalid signature or payload"}), 400
    event_id = str(event.get("id") or "")
    if not event_id:
        return jsonify({"error": "event without id"}), 400
    if already_seen(event_id):
        return jsonify({"received": True, "outcome": "duplicate"})
    outcome = remember_event(event_id, str(event.get("type", "")), handle_event(event))  # conditional updates decide
    log.info("stripe event %s %s: %s", event_id, event.get("type"), outcome)
    return jsonify({"received": True, "outcome": outcome})


@bp.errorhandler(DBAPIError)
def database_unavailable(error: DBAPIError):
    """The database went away mid-event: 503, so Stripe delivers the event again later."""
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; the pool replaces it on the next checkout (pool_pre_ping)
    log.error("stripe webhook: database error, asking Stripe to retry: %s", type(error.orig).__name__)
    return jsonify({"error": "database unavailable, retry later"}), 503
