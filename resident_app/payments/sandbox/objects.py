"""The sandbox's records and their Stripe JSON shapes (checkout.session, payment_intent, charge, refund, event)."""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

# The API version stripe-python 16.1.0 pins; events carry it like Stripe's do.
API_VERSION = "2026-10-28.endive"
CURRENCY = "jpy"

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A random Stripe-looking id such as "pi_3Qx..." (test-mode sessions use "cs_test_")."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class LineItem:
    """One line of a Checkout Session, created from inline price_data."""

    id: str
    price_id: str
    product_id: str
    name: str
    description: str | None
    unit_amount: int
    quantity: int
    currency: str
    created: int

    @property
    def amount(self) -> int:
        """Total for this line (JPY has no minor unit, so no rounding)."""
        return self.unit_amount * self.quantity

    def to_stripe(self) -> dict[str, Any]:
        """The `item` object listed by /v1/checkout/sessions/{id}/line_items."""
        return {
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount,
            "amount_tax": 0,
            "amount_total": self.amount,
            "currency": self.currency,
            # Stripe puts the product *name* here; the product description stays on the product.
            "description": self.name,
            "price": {
                "id": self.price_id,
                "object": "price",
                "active": False,
                "billing_scheme": "per_unit",
                "created": self.created,
                "currency": self.currency,
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": None,
                "metadata": {},
                "nickname": None,
                "product": self.product_id,
                "recurring": None,
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "one_time",
                "unit_amount": self.unit_amount,
                "unit_amount_decimal": str(self.unit_amount),
            },
            "quantity": self.quantity,
        }


@dataclass
class CheckoutSession:
    """A hosted Checkout Session in payment mode."""

    id: str
    created: int
    expires_at: int
    currency: str
    line_items: list[LineItem]
    success_url: str
    cancel_url: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    customer_email: str | None
    payment_method_types: list[str]
    konbini_allowed: bool
    locale: str | None
    pi_metadata: dict[str, str]
    pi_description: str | None
    pay_page_base: str
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    mode: str = "payment"
    status: str = "open"  # open | complete | expired
    payment_status: str = "unpaid"  # unpaid | paid
    payment_intent_id: str | None = None
    customer_details: dict[str, Any] | None = None
    # None until the konbini path is taken; then pending | succeeded | failed.
    async_state: str | None = None
    client_secret: str | None = None  # only embedded Checkout has one; the sandbox hosts its pay page

    @property
    def amount_total(self) -> int:
        """Sum of all lines (no tax, shipping or discounts in the sandbox)."""
        return sum(item.amount for item in self.line_items)

    @property
    def pay_url(self) -> str:
        """The hosted pay page of this session."""
        return f"{self.pay_page_base}/pay/{self.id}"

    def to_stripe(self) -> dict[str, Any]:
        """The `checkout.session` object, without expansions."""
        return {
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": self.client_secret,
            "consent": None,
            "consent_collection": None,
            "created": self.created,
            "currency": self.currency,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "discounts": [],
            "expires_at": self.expires_at,
            "invoice": None,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": self.mode,
            "payment_intent": self.payment_intent_id,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_options": {},
            "payment_method_types": list(self.payment_method_types),
            "payment_status": self.payment_status,
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": self.status,
            "submit_type": None,
            "subscription": None,
            "success_url": self.success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            # Stripe only shows the URL while the session can still be paid.
            "url": self.pay_url if self.status == "open" else None,
        }


@dataclass
class PaymentIntent:
    """The PaymentIntent a Checkout Session creates when the customer pays."""

    id: str
    created: int
    amount: int
    currency: str
    method: str  # card | konbini
    payment_method_id: str
    status: str  # succeeded | requires_action | requires_payment_method
    metadata: dict[str, str]
    description: str | None
    receipt_email: str | None
    latest_charge_id: str | None = None

    def to_stripe(self) -> dict[str, Any]:
        """The `payment_intent` object."""
        next_action = None
        if self.status == "requires_action" and self.method == "konbini":
            next_action = {
                "type": "konbini_display_details",
                "konbini_display_details": {"expires_at": self.created + 3 * 86400, "hosted_voucher_url": None},
            }
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": self.amount if self.status == "succeeded" else 0,
            "application": None,
            "application_fee_amount": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{self.id}_secret_sandbox",
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "description": self.description,
            "last_payment_error": None,
            "latest_charge": self.latest_charge_id,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": next_action,
            "payment_method": self.payment_method_id,
            "payment_method_types": [self.method],
            "processing": None,
            "receipt_email": self.receipt_email,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "status": self.status,
            "transfer_data": None,
            "transfer_group": None,
        }


@dataclass
class Charge:
    """A successful charge of a PaymentIntent; refunds add to amount_refunded."""

    id: str
    created: int
    amount: int
    currency: str
    payment_intent_id: str
    payment_method_id: str
    method: str
    metadata: dict[str, str]
    description: str | None
    billing_email: str | None
    receipt_email: str | None
    amount_refunded: int = 0
    disputed: bool = False  # set by disputes.open_dispute

    @property
    def refunded(self) -> bool:
        """Stripe marks a charge refunded only once it is refunded in full."""
        return self.amount_refunded >= self.amount

    def to_stripe(self) -> dict[str, Any]:
        """The `charge` object (without the `refunds` list, as in current API versions)."""
        if self.method == "konbini":
            details: dict[str, Any] = {"type": "konbini", "konbini": {"store": {"chain": "familymart"}}}
        else:
            details = {
                "type": "card",
                "card": {"brand": "visa", "country": "JP", "exp_month": 12, "exp_year": 2034,
                         "funding": "credit", "last4": "4242", "network": "visa"},
            }
        return {
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount,
            "amount_refunded": self.amount_refunded,
            "application": None,
            "balance_transaction": None,
            "billing_details": {"address": None, "email": self.billing_email, "name": None, "phone": None},
            "calculated_statement_descriptor": "SANDBOX",
            "captured": True,
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "description": self.description,
            "disputed": self.disputed,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(self.metadata),
            "outcome": {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                        "seller_message": "Payment complete.", "type": "authorized"},
            "paid": True,
            "payment_intent": self.payment_intent_id,
            "payment_method": self.payment_method_id,
            "payment_method_details": details,
            "receipt_email": self.receipt_email,
            "receipt_url": None,
            "refunded": self.refunded,
            "status": "succeeded",
        }


@dataclass
class Refund:
    """A refund against a charge; the sandbox settles refunds at once."""

    id: str
    created: int
    amount: int
    currency: str
    charge_id: str
    payment_intent_id: str
    reason: str | None
    metadata: dict[str, str]
    status: str = "succeeded"

    def to_stripe(self) -> dict[str, Any]:
        """The `refund` object."""
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": None,
            "charge": self.charge_id,
            "created": self.created,
            "currency": self.currency,
            "destination_details": None,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent_id,
            "reason": self.reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": self.status,
            "transfer_reversal": None,
        }


@dataclass
class EventRecord:
    """A Stripe event plus its webhook delivery state."""

    id: str
    type: str
    created: int
    event: dict[str, Any]
    payload: str  # the exact JSON body that is signed and sent, fixed at creation
    delivery_status: str  # pending | retrying | delivered | failed | not_configured | dropped
    attempts: int = 0  # all attempts ever made
    round_attempts: int = 0  # attempts since the last (re)send, bounded by max_attempts
    last_status_code: int | None = None
    last_error: str | None = None
    last_attempt_at: float | None = None
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    schedule_token: int = 0  # bumps on every (re)schedule so stale queue entries are skipped

    def to_debug(self) -> dict[str, Any]:
        """The JSON row shown by GET /_sandbox/events."""
        return {
            "id": self.id,
            "type": self.type,
            "created": self.created,
            "delivery_status": self.delivery_status,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "last_attempt_at": self.last_attempt_at,
            "next_attempt_at": self.next_attempt_at,
            "delivered_at": self.delivered_at,
            "event": self.event,
        }


@dataclass
class IdempotencyRecord:
    """The first response given for an (API key, Idempotency-Key) pair."""

    method: str
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    status: int
    body: bytes
    request_id: str
    created: float
