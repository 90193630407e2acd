"""Fixtures for the Stripe sandbox tests: a threaded sandbox, a webhook receiver and a real SDK client."""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from resident_app.payments.sandbox import SandboxServer, serve_in_thread

API_KEY = "sk_test_sandbox_tests"
WEBHOOK_SECRET = "whsec_sandbox_tests"
POLL = 0.01  # servers notice shutdown within this; keeps per-test teardown in milliseconds
FAST_RETRIES = {"webhook_retry_base": 0.01, "webhook_retry_cap": 0.04, "webhook_max_attempts": 4,
                "webhook_timeout": 2.0}


class Receiver:
    """A tiny webhook endpoint that records every delivery and answers scripted statuses."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], str]] = []
        self.statuses: list[int] = []  # answered in order; 200 once exhausted
        self._cond = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL},
                                        daemon=True)
        self._thread.start()

    @Request.application
    def _app(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        with self._cond:
            status = self.statuses.pop(0) if self.statuses else 200
            self.deliveries.append((dict(request.headers), body))
            self._cond.notify_all()
        return Response("ok" if status < 300 else "nope", status=status)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], str]]:
        """Block until at least `count` deliveries arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.deliveries) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} webhook deliveries, got {len(self.deliveries)}")
                self._cond.wait(remaining)
            return list(self.deliveries)

    def wait_for_event(self, event_type: str, timeout: float = 5.0) -> stripe.Event:
        """Block until an event of this type arrives; verify its signature and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for headers, body in self.wait_for(1, timeout):
                event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], WEBHOOK_SECRET)
                if event.type == event_type:
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event_type} webhook arrived")
            with self._cond:
                self._cond.wait(0.05)

    def stop(self) -> None:
        """Shut the receiver down."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver running for one test."""
    rec = Receiver()
    yield rec
    rec.stop()


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[SandboxServer]:
    """A threaded sandbox delivering webhooks to the receiver with tiny retry delays."""
    server, _ = serve_in_thread(webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, poll_interval=POLL,
                                api_key=API_KEY, **FAST_RETRIES)
    yield server
    server.stop()


def make_client(base_url: str, api_key: str = API_KEY) -> stripe.StripeClient:
    """The real SDK pointed at a sandbox, exactly as the app configures it."""
    return stripe.StripeClient(api_key, base_addresses={"api": base_url}, max_network_retries=2)


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxServer]:
    """One webhook-less sandbox for tests that only check refusals (they change no state)."""
    server, _ = serve_in_thread(webhook_url=None, webhook_secret=WEBHOOK_SECRET, poll_interval=POLL,
                                api_key=API_KEY)
    yield server
    server.stop()


@pytest.fixture
def client(sandbox: SandboxServer) -> stripe.StripeClient:
    """A StripeClient talking to the sandbox."""
    return make_client(sandbox.base_url)


def session_params(**overrides: Any) -> dict[str, Any]:
    """Checkout Session parameters shaped like the app's: two lines totalling ¥1,200."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "jpy", "unit_amount": 500,
                            "product_data": {"name": "森林由来クレジット 1 kg", "description": "Forest credits"}},
             "quantity": 2},
            {"price_data": {"currency": "jpy", "unit_amount": 200, "product_data": {"name": "手数料 / Fee"}},
             "quantity": 1},
        ],
        "success_url": "http://app.test/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app.test/cart",
        "client_reference_id": "order-42",
        "metadata": {"order_id": "42", "ward": "世田谷区"},
        "customer_email": "resident@example.jp",
    }
    params.update(overrides)
    return params


_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


def submit_pay_page(url: str, action: str = "pay", token: str | None = None) -> requests.Response:
    """Load the hosted pay page and submit its form like a browser (without following the redirect)."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200, page.text
    if token is None:
        match = _TOKEN_RE.search(page.text)
        assert match, "pay page has no form token"
        token = match.group(1)
    return requests.post(url, data={"form_token": token, "action": action}, allow_redirects=False, timeout=5)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until predicate() is true (used for the sandbox's own delivery bookkeeping)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


# Helpers are handed out as fixtures so test modules never import conftest by name (which
# breaks under --import-mode=importlib or when another conftest.py exists higher up).


@pytest.fixture(name="session_params")
def _session_params_fixture() -> Callable[..., dict[str, Any]]:
    """Factory for Checkout Session parameters."""
    return session_params


@pytest.fixture(name="submit_pay_page")
def _submit_pay_page_fixture() -> Callable[..., requests.Response]:
    """Function that submits the hosted pay page."""
    return submit_pay_page


@pytest.fixture(name="make_client")
def _make_client_fixture() -> Callable[..., stripe.StripeClient]:
    """Factory for StripeClients against any sandbox URL."""
    return make_client


@pytest.fixture(name="wait_until")
def _wait_until_fixture() -> Callable[..., None]:
    """Polling helper."""
    return wait_until


@pytest.fixture
def webhook_secret() -> str:
    """The secret the sandbox signs webhooks with in these tests."""
    return WEBHOOK_SECRET


@pytest.fixture
def fast_retries() -> dict[str, Any]:
    """serve_in_thread keyword arguments: millisecond webhook retries, a fast shutdown, the tests' key."""
    return dict(FAST_RETRIES, poll_interval=POLL, api_key=API_KEY)
