"""Disputes (chargebacks) in the sandbox, so the app's dispute handling can be tested end to end.

Stripe has no API to open a dispute (its test mode uses special card numbers); here a test or a
developer opens one with a debug route and decides it with another, and the sandbox emits the
same signed events Stripe would:

    POST /_sandbox/disputes                     charge=ch_... or payment_intent=pi_... [amount, reason]
        -> charge.dispute.created, then charge.dispute.funds_withdrawn
    POST /_sandbox/disputes/<id>/close          status=won|lost
        -> won:  charge.dispute.funds_reinstated, then charge.dispute.closed (status won)
        -> lost: charge.dispute.closed (status lost)

Stripe's own endpoints are there too: GET /v1/disputes/<id>, GET /v1/disputes and
POST /v1/disputes/<id>/close (accepting a dispute: it is lost)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, request

from .errors import invalid, no_such
from .objects import Charge, new_id
from .store import NO_REQUEST, RequestInfo, SandboxStore

REASONS = ("bank_cannot_process", "credit_not_processed", "customer_initiated", "debit_not_authorized",
           "duplicate", "fraudulent", "general", "incorrect_account_details", "insufficient_funds",
           "product_not_received", "product_unacceptable", "subscription_canceled", "unrecognized")
EVIDENCE_DAYS = 7


@dataclass
class Dispute:
    """A dispute against a charge; the sandbox decides it when told to."""

    id: str
    created: int
    amount: int
    currency: str
    charge_id: str
    payment_intent_id: str
    reason: str
    status: str = "needs_response"  # needs_response | won | lost
    metadata: dict[str, str] = field(default_factory=dict)

    def to_stripe(self) -> dict[str, Any]:
        """The `dispute` object."""
        return {
            "id": self.id,
            "object": "dispute",
            "amount": self.amount,
            "balance_transactions": [],
            "charge": self.charge_id,
            "created": self.created,
            "currency": self.currency,
            "evidence": {"customer_name": None, "product_description": None, "uncategorized_text": None},
            "evidence_details": {"due_by": self.created + EVIDENCE_DAYS * 86400, "has_evidence": False,
                                 "past_due": False, "submission_count": 0},
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent_id,
            "reason": self.reason,
            "status": self.status,
        }


def _disputes(store: SandboxStore) -> dict[str, Dispute]:
    return store.disputes  # kept on the store, so reset() forgets them with everything else


def _charge_for(store: SandboxStore, charge_id: str | None, payment_intent: str | None) -> Charge:
    if charge_id:
        charge = store.charges.get(charge_id)
        if charge is None:
            raise no_such("charge", charge_id, "charge", status=400)
        return charge
    if payment_intent:
        intent = store.payment_intents.get(payment_intent)
        if intent is None or not intent.latest_charge_id:
            raise no_such("payment_intent", payment_intent, "payment_intent", status=400)
        return store.charges[intent.latest_charge_id]
    raise invalid("One of the following params should be provided for this request: charge or payment_intent.",
                  code="parameter_missing")


def open_dispute(store: SandboxStore, *, charge_id: str | None = None, payment_intent: str | None = None,
                 amount: int | None = None, reason: str = "fraudulent") -> Dispute:
    """The payer's bank disputes a charge: emits charge.dispute.created and funds_withdrawn."""
    with store.lock:
        charge = _charge_for(store, charge_id, payment_intent)
        if charge.disputed:
            raise invalid(f"Charge {charge.id} is already disputed.", code="charge_disputed")
        if reason not in REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason")
        remaining = charge.amount - charge.amount_refunded
        amount = remaining if amount is None else amount
        if not 1 <= amount <= remaining:
            raise invalid(f"The dispute amount must be from 1 to {remaining}.", param="amount")
        dispute = Dispute(id=new_id("du_"), created=store.now(), amount=amount, currency=charge.currency,
                          charge_id=charge.id, payment_intent_id=charge.payment_intent_id, reason=reason)
        _disputes(store)[dispute.id] = dispute
        charge.disputed = True
        store.emit("charge.dispute.created", dispute.to_stripe(), NO_REQUEST)
        store.emit("charge.dispute.funds_withdrawn", dispute.to_stripe(), NO_REQUEST)
        return dispute


def get_dispute(store: SandboxStore, dispute_id: str) -> Dispute:
    with store.lock:
        dispute = _disputes(store).get(dispute_id)
        if dispute is None:
            raise no_such("dispute", dispute_id, "id")
        return dispute


def close_dispute(store: SandboxStore, dispute_id: str, status: str, request: RequestInfo = NO_REQUEST) -> Dispute:
    """The bank decides: won returns the money (funds_reinstated), lost keeps it with the payer."""
    if status not in ("won", "lost"):
        raise invalid("status must be won or lost.", param="status")
    with store.lock:
        dispute = get_dispute(store, dispute_id)
        if dispute.status != "needs_response":
            raise invalid(f"This dispute is already closed ({dispute.status}).", code="dispute_already_closed")
        previous = {"status": dispute.status}
        dispute.status = status
        if status == "won":
            store.emit("charge.dispute.funds_reinstated", dispute.to_stripe(), request)
        store.emit("charge.dispute.closed", dispute.to_stripe(), request, previous_attributes=previous)
        return dispute


def register_dispute_routes(app: Flask, get_store, json_response) -> None:
    """The debug routes and Stripe's dispute endpoints on a sandbox app."""

    @app.post("/_sandbox/disputes")
    def sandbox_open_dispute() -> Response:
        form = request.form
        amount = form.get("amount")
        if amount is not None and not amount.isdigit():
            raise invalid("amount must be a whole number of yen.", param="amount")
        dispute = open_dispute(get_store(), charge_id=form.get("charge"), payment_intent=form.get("payment_intent"),
                               amount=int(amount) if amount else None, reason=form.get("reason") or "fraudulent")
        return json_response(dispute.to_stripe())

    @app.post("/_sandbox/disputes/<dispute_id>/close")
    def sandbox_close_dispute(dispute_id: str) -> Response:
        return json_response(close_dispute(get_store(), dispute_id, request.form.get("status", "")).to_stripe())

    @app.get("/v1/disputes/<dispute_id>")
    def retrieve_dispute(dispute_id: str) -> Response:
        return json_response(get_dispute(get_store(), dispute_id).to_stripe())

    @app.get("/v1/disputes")
    def list_disputes() -> Response:
        store = get_store()
        with store.lock:
            items = sorted(_disputes(store).values(), key=lambda d: d.created, reverse=True)
            if g.params.get("payment_intent"):
                items = [d for d in items if d.payment_intent_id == g.params["payment_intent"]]
            data = [d.to_stripe() for d in items]
        return json_response({"object": "list", "data": data, "has_more": False, "url": "/v1/disputes"})

    @app.post("/v1/disputes/<dispute_id>/close")
    def accept_dispute(dispute_id: str) -> Response:
        # At Stripe, "closing" a dispute means accepting it: the dispute is lost.
        return json_response(close_dispute(get_store(), dispute_id, "lost",
                                           (g.request_id, request.headers.get("Idempotency-Key"))).to_stripe())
