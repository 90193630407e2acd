"""The Stripe gateway: real Stripe with keys, the local sandbox without. Same SDK, same code path.

The sandbox is either started here in a thread (development and tests, one process) or reached as
its own process at STRIPE_SANDBOX_URL with the key it was started with (production with
ALLOW_PAYMENT_SANDBOX=1, where `make serve` starts it for all workers)."""
from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import stripe
from flask import Flask, current_app

from ..config import is_production

log = logging.getLogger(__name__)

STRIPE_API_VERSION = "2026-10-28.endive"
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class PaymentGateway:
    """A thin, typed face over StripeClient for the calls this app makes."""

    def __init__(self, client: stripe.StripeClient, webhook_secret: str, *, sandbox: bool,
                 sandbox_server: Any = None) -> None:
        self.client = client
        self.webhook_secret = webhook_secret
        self.sandbox = sandbox
        self.sandbox_server = sandbox_server

    def create_checkout_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        """Create a hosted Checkout Session; the idempotency key makes a retried call harmless."""
        session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})
        return CheckoutSession(session.id, session.url)

    def retrieve_session(self, session_id: str) -> dict[str, Any]:
        """The session as a plain dict (StripeObject is not a dict since stripe 15)."""
        return self.client.v1.checkout.sessions.retrieve(session_id).to_dict()

    def list_sessions(self, created_since: int) -> Iterator[dict[str, Any]]:
        """Every Checkout Session created at or after the Unix time, newest first, page by page."""
        listing = self.client.v1.checkout.sessions.list({"created": {"gte": created_since}, "limit": 100})
        for session in listing.auto_paging_iter():
            yield session.to_dict()

    def expire_session(self, session_id: str) -> dict[str, Any]:
        return self.client.v1.checkout.sessions.expire(session_id).to_dict()

    def refund(self, payment_intent_id: str, amount_yen: int | None, idempotency_key: str) -> dict[str, Any]:
        params: dict[str, Any] = {"payment_intent": payment_intent_id}
        if amount_yen is not None:
            params["amount"] = amount_yen
        return self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key}).to_dict()

    def construct_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """Verify the signature of the raw body (300 s tolerance) and parse the event."""
        event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        return event.to_dict()


_lock = threading.Lock()


def uses_sandbox(app: Flask) -> bool:
    return not app.config.get("STRIPE_SECRET_KEY")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def init_app(app: Flask) -> None:
    """Decide the checkout origin for the CSP now; build the client on first use."""
    # The SDK logs whole request and response bodies (the resident's e-mail address among them) at
    # DEBUG: keep its logger at INFO even when the rest of the app is debugged.
    logging.getLogger("stripe").setLevel(logging.INFO)
    if uses_sandbox(app):
        if not app.config.get("STRIPE_WEBHOOK_SECRET"):
            app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_sandbox_" + secrets.token_hex(16)
        url = app.config.get("STRIPE_SANDBOX_PUBLIC_URL") or app.config.get("STRIPE_SANDBOX_URL")
        if url:
            app.config.setdefault("CSP_FORM_ACTION_ORIGINS", [_origin(url)])
    else:
        app.config.setdefault("CSP_FORM_ACTION_ORIGINS", [STRIPE_CHECKOUT_ORIGIN])


def get_gateway() -> PaymentGateway:
    """The app's gateway, starting the local sandbox the first time it is needed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    gateway = app.extensions.get("payment_gateway")
    if gateway is not None:
        return gateway
    with _lock:
        gateway = app.extensions.get("payment_gateway")
        if gateway is None:
            gateway = _build(app)
            app.extensions["payment_gateway"] = gateway
    return gateway


def _build(app: Flask) -> PaymentGateway:
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    if not uses_sandbox(app):
        client = stripe.StripeClient(app.config["STRIPE_SECRET_KEY"], stripe_version=STRIPE_API_VERSION,
                                     max_network_retries=2)
        return PaymentGateway(client, secret, sandbox=False)
    url = app.config.get("STRIPE_SANDBOX_URL")
    api_key = app.config.get("STRIPE_SANDBOX_API_KEY")
    production = is_production(app.config)
    if not url and production and app.config.get("STRIPE_SANDBOX_PORT"):
        # A command on a staging server (`flask payments reconcile`): the sandbox make serve started.
        url = f"http://127.0.0.1:{app.config['STRIPE_SANDBOX_PORT']}"
    server = None
    if url and not api_key:
        raise RuntimeError("STRIPE_SANDBOX_URL is set without STRIPE_SANDBOX_API_KEY, the key that sandbox "
                           "was started with.")
    if not url:
        if production:
            raise RuntimeError("ALLOW_PAYMENT_SANDBOX=1 needs the sandbox as its own process: set "
                               "STRIPE_SANDBOX_PORT and STRIPE_SANDBOX_API_KEY as for make serve, or "
                               "STRIPE_SANDBOX_URL.")
        from .sandbox import new_api_key, serve_in_thread

        api_key = new_api_key()  # the one key this run's sandbox answers
        server, url = serve_in_thread(
            host="127.0.0.1", port=int(app.config.get("STRIPE_SANDBOX_PORT") or 0), api_key=api_key,
            webhook_url=app.config.get("STRIPE_SANDBOX_WEBHOOK_URL"), webhook_secret=secret)
        log.warning("No STRIPE_SECRET_KEY: using the local Stripe sandbox at %s (test payments only)", url)
        origins = app.config.setdefault("CSP_FORM_ACTION_ORIGINS", [])
        if url not in origins:
            origins.append(url)
    # The sandbox is local: no proxy from the environment may stand in between (and looking one
    # up on every call costs more CPU than the call itself).
    session = requests.Session()
    session.trust_env = False
    client = stripe.StripeClient(api_key, stripe_version=STRIPE_API_VERSION, base_addresses={"api": url},
                                 max_network_retries=2, http_client=stripe.RequestsClient(session=session))
    return PaymentGateway(client, secret, sandbox=True, sandbox_server=server)
