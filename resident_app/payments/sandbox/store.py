"""In-memory, thread-safe state of the sandbox and the operations that change it.

One re-entrant lock guards everything, including the webhook queue (webhooks.py waits on a
Condition built on the same lock), so no operation can see half of another.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import ApiError, invalid, no_such
from .objects import (
    API_VERSION,
    CURRENCY,
    Charge,
    CheckoutSession,
    EventRecord,
    IdempotencyRecord,
    LineItem,
    PaymentIntent,
    Refund,
    new_id,
)
from .validation import MAX_EXPIRY_SECONDS, RefundSpec, SessionSpec

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
# The email a paid session reports when the app did not prefill one (Stripe asks the payer).
SANDBOX_PAYER_EMAIL = "sandbox-payer@example.com"

# What caused an event: (request id, idempotency key), or (None, None) for the pay page.
RequestInfo = tuple[str | None, str | None]
NO_REQUEST: RequestInfo = (None, None)


class SandboxStore:
    """Sessions, payment intents, charges, refunds, events and idempotency records."""

    def __init__(self, *, webhooks_enabled: bool, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.webhooks_enabled = webhooks_enabled
        # Set by the webhook dispatcher; called with the lock held whenever an event is stored.
        self.on_event: Callable[[EventRecord], None] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests call this between cases)."""
        with self.lock:
            self.sessions: dict[str, CheckoutSession] = {}
            self.payment_intents: dict[str, PaymentIntent] = {}
            self.charges: dict[str, Charge] = {}
            self.refunds: dict[str, Refund] = {}
            self.events: dict[str, EventRecord] = {}
            self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
            self.session_by_intent: dict[str, str] = {}
            self.disputes: dict[str, Any] = {}  # disputes.Dispute by id

    def now(self) -> int:
        """Current time as Stripe's integer Unix timestamps."""
        return int(self.clock())

    # --- Lookups ---------------------------------------------------------------------------

    def get_session(self, session_id: str) -> CheckoutSession:
        """The session, after applying any due expiry; 404 resource_missing if unknown."""
        with self.lock:
            self.expire_due_sessions()
            session = self.sessions.get(session_id)
            if session is None:
                raise no_such("checkout.session", session_id, "session")
            return session

    def get_object(self, kind: str, object_id: str) -> Any:
        """A payment_intent, charge or refund by id; 404 resource_missing if unknown."""
        table = {"payment_intent": self.payment_intents, "charge": self.charges, "refund": self.refunds}[kind]
        with self.lock:
            found = table.get(object_id)
            if found is None:
                raise no_such(kind, object_id, "id")
            return found

    # --- Checkout sessions -----------------------------------------------------------------

    def create_session(self, spec: SessionSpec, pay_page_base: str) -> CheckoutSession:
        """Store a new open session built from validated parameters."""
        with self.lock:
            now = self.now()
            items = [
                LineItem(id=new_id("li_"), price_id=new_id("price_"), product_id=new_id("prod_"),
                         name=item.name, description=item.description, unit_amount=item.unit_amount,
                         quantity=item.quantity, currency=CURRENCY, created=now)
                for item in spec.line_items
            ]
            pm_types = list(spec.payment_method_types) if spec.payment_method_types else ["card"]
            session = CheckoutSession(
                # Stripe's test-mode session ids are long; apps must not assume a short length.
                id=new_id("cs_test_", 58),
                created=now,
                expires_at=spec.expires_at or now + MAX_EXPIRY_SECONDS,
                currency=CURRENCY,
                line_items=items,
                success_url=spec.success_url,
                cancel_url=spec.cancel_url,
                client_reference_id=spec.client_reference_id,
                metadata=dict(spec.metadata),
                customer_email=spec.customer_email,
                payment_method_types=pm_types,
                # Without explicit types Stripe picks methods dynamically; konbini is then possible.
                konbini_allowed=spec.payment_method_types is None or "konbini" in spec.payment_method_types,
                locale=spec.locale,
                pi_metadata=dict(spec.pi_metadata),
                pi_description=spec.pi_description,
                pay_page_base=pay_page_base.rstrip("/"),
            )
            self.sessions[session.id] = session
            return session

    def expire_session(self, session_id: str, request: RequestInfo = NO_REQUEST) -> CheckoutSession:
        """Expire an open session and emit checkout.session.expired; 400 unless it is open."""
        with self.lock:
            session = self.get_session(session_id)
            if session.status != "open":
                raise invalid(
                    f'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f'This Checkout Session has a status of "{session.status}".'
                )
            self._expire(session, request)
            return session

    def _expire(self, session: CheckoutSession, request: RequestInfo) -> None:
        session.status = "expired"
        self.emit("checkout.session.expired", session.to_stripe(), request)

    def expire_due_sessions(self) -> None:
        """Expire open sessions past expires_at, as Stripe does on its own."""
        with self.lock:
            now = self.now()
            for session in list(self.sessions.values()):
                if session.status == "open" and session.expires_at <= now:
                    self._expire(session, NO_REQUEST)

    def complete_session(self, session_id: str, method: str) -> CheckoutSession:
        """Pay a session from the hosted page: card pays now, konbini completes unpaid."""
        with self.lock:
            session = self.get_session(session_id)
            if session.status != "open":
                raise invalid(f"This Checkout Session is {session.status} and can no longer be paid.")
            if method == "konbini" and not session.konbini_allowed:
                raise invalid("This Checkout Session does not accept konbini payments.")
            email = session.customer_email or SANDBOX_PAYER_EMAIL
            intent = PaymentIntent(
                id=new_id("pi_"),
                created=self.now(),
                amount=session.amount_total,
                currency=session.currency,
                method=method,
                payment_method_id=new_id("pm_"),
                status="requires_action" if method == "konbini" else "succeeded",
                metadata=dict(session.pi_metadata),
                description=session.pi_description,
                receipt_email=session.customer_email,
            )
            self.payment_intents[intent.id] = intent
            self.session_by_intent[intent.id] = session.id
            session.status = "complete"
            session.payment_intent_id = intent.id
            session.customer_details = {"address": None, "email": email, "name": None, "phone": None,
                                        "tax_exempt": "none", "tax_ids": []}
            if method == "konbini":
                session.async_state = "pending"
            else:
                self._charge(intent, email)
                session.payment_status = "paid"
            self.emit("checkout.session.completed", session.to_stripe(), NO_REQUEST)
            return session

    def settle_async(self, session_id: str, succeeded: bool) -> CheckoutSession:
        """Finish a pending konbini payment and emit async_payment_succeeded or _failed."""
        with self.lock:
            session = self.get_session(session_id)
            if session.async_state != "pending":
                raise invalid("This Checkout Session has no pending asynchronous (konbini) payment.",
                              code="checkout_session_not_pending")
            intent = self.payment_intents[session.payment_intent_id or ""]
            if succeeded:
                intent.status = "succeeded"
                self._charge(intent, (session.customer_details or {}).get("email"))
                session.payment_status = "paid"
                session.async_state = "succeeded"
                self.emit("checkout.session.async_payment_succeeded", session.to_stripe(), NO_REQUEST)
            else:
                # An unpaid konbini voucher lapses; the intent asks for a new payment method.
                intent.status = "requires_payment_method"
                session.async_state = "failed"
                self.emit("checkout.session.async_payment_failed", session.to_stripe(), NO_REQUEST)
            return session

    def _charge(self, intent: PaymentIntent, email: str | None) -> Charge:
        charge = Charge(id=new_id("ch_"), created=self.now(), amount=intent.amount, currency=intent.currency,
                        payment_intent_id=intent.id, payment_method_id=intent.payment_method_id,
                        method=intent.method, metadata=dict(intent.metadata), description=intent.description,
                        billing_email=email, receipt_email=intent.receipt_email)
        self.charges[charge.id] = charge
        intent.latest_charge_id = charge.id
        return charge

    # --- Refunds ---------------------------------------------------------------------------

    def create_refund(self, spec: RefundSpec, request: RequestInfo) -> Refund:
        """Refund all or part of a charge and emit charge.refunded."""
        with self.lock:
            charge = self._refundable_charge(spec)
            remaining = charge.amount - charge.amount_refunded
            if remaining <= 0:
                raise invalid(f"Charge {charge.id} has already been refunded.", code="charge_already_refunded")
            amount = remaining if spec.amount is None else spec.amount
            if amount > remaining:
                raise invalid(
                    f"Refund amount (¥{amount:,}) is greater than unrefunded amount on charge (¥{remaining:,})",
                    param="amount", code="amount_too_large",
                )
            refund = Refund(id=new_id("re_"), created=self.now(), amount=amount, currency=charge.currency,
                            charge_id=charge.id, payment_intent_id=charge.payment_intent_id, reason=spec.reason,
                            metadata=dict(spec.metadata))
            self.refunds[refund.id] = refund
            previous = {"amount_refunded": charge.amount_refunded, "refunded": charge.refunded}
            charge.amount_refunded += amount
            self.emit("charge.refunded", charge.to_stripe(), request, previous_attributes=previous)
            return refund

    def _refundable_charge(self, spec: RefundSpec) -> Charge:
        # Ids inside parameters that do not exist are 400s at Stripe (404 is for URL ids).
        if spec.payment_intent:
            intent = self.payment_intents.get(spec.payment_intent)
            if intent is None:
                raise no_such("payment_intent", spec.payment_intent, "payment_intent", status=400)
            if intent.status != "succeeded" or not intent.latest_charge_id:
                raise invalid(
                    f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                    param="payment_intent", code="charge_not_refundable",
                )
            charge = self.charges[intent.latest_charge_id]
            if spec.charge and spec.charge != charge.id:
                raise invalid("The charge does not belong to this PaymentIntent.", param="charge")
            return charge
        charge_id = spec.charge or ""
        found = self.charges.get(charge_id)
        if found is None:
            raise no_such("charge", charge_id, "charge", status=400)
        return found

    # --- Events ----------------------------------------------------------------------------

    def emit(self, event_type: str, data_object: dict[str, Any], request: RequestInfo,
             previous_attributes: dict[str, Any] | None = None) -> EventRecord:
        """Store an event (a snapshot of data_object) and hand it to the webhook dispatcher."""
        with self.lock:
            data: dict[str, Any] = {"object": data_object}
            if previous_attributes is not None:
                data["previous_attributes"] = previous_attributes
            event = {
                "id": new_id("evt_"),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1 if self.webhooks_enabled else 0,
                "request": {"id": request[0], "idempotency_key": request[1]},
                "type": event_type,
            }
            # Serialised once so every delivery attempt sends the same bytes (signed afresh).
            payload = json.dumps(event, ensure_ascii=False, indent=2)
            record = EventRecord(id=event["id"], type=event_type, created=event["created"],
                                 event=json.loads(payload), payload=payload,
                                 delivery_status="pending" if self.webhooks_enabled else "not_configured")
            self.events[record.id] = record
            if self.on_event is not None and self.webhooks_enabled:
                self.on_event(record)
            return record

    def get_event(self, event_id: str) -> EventRecord:
        """An event by id; 404 resource_missing if unknown."""
        with self.lock:
            record = self.events.get(event_id)
            if record is None:
                raise no_such("event", event_id, "id")
            return record

    # --- Idempotency -----------------------------------------------------------------------

    def idempotent_replay(self, api_key: str, key: str, method: str, path: str,
                          fingerprint: tuple[tuple[str, str], ...]) -> IdempotencyRecord | None:
        """The saved response for this key, None if new; raises idempotency_error on a mismatch."""
        with self.lock:
            self._purge_idempotency()
            record = self.idempotency.get((api_key, key))
            if record is None:
                return None
            if (record.method, record.path) != (method, path):
                raise ApiError(400, "Keys for idempotent requests can only be used for the same endpoint "
                                    f"they were first used for ('{record.method} {record.path}' vs "
                                    f"'{method} {path}'). Try using a key other than '{key}' if you "
                                    "meant to execute a different request.",
                               type="idempotency_error")
            if record.fingerprint != fingerprint:
                raise ApiError(400, "Keys for idempotent requests can only be used with the same parameters "
                                    "they were first used with. Try using a key other than "
                                    f"'{key}' if you meant to execute a different request.",
                               type="idempotency_error")
            return record

    def save_idempotent(self, api_key: str, key: str, record: IdempotencyRecord) -> None:
        """Remember a response so the same key replays it for 24 hours."""
        with self.lock:
            self.idempotency[(api_key, key)] = record

    def _purge_idempotency(self) -> None:
        cutoff = self.clock() - IDEMPOTENCY_TTL_SECONDS
        for k in [k for k, r in self.idempotency.items() if r.created < cutoff]:
            del self.idempotency[k]
