"""Real-browser tests: the app on a live server thread, Debian's Chromium driven by Playwright.

The server is built once per session on the same database as the other tests (a SQLite file of
our own, or PostgreSQL when DATABASE_URL is set); every test starts from the default data.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from resident_app import create_app
from resident_app.extensions import db
from resident_app.models import AddOn, StripeEvent
from resident_app.services.programme_content import load_demo_content
from tests.conftest import config_for, wipe_database

CHROMIUM = "/usr/bin/chromium"
PHONE = "iPhone 13"  # 390 x 664 CSS pixels, touch, mobile user agent


def pytest_collection_modifyitems(items) -> None:
    """Every test in this folder drives a browser: mark it e2e (pytest -m 'not e2e' skips them)."""
    for item in items:
        if "/tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_app(database_url, _schema):
    app = create_app(config_for(database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app served on 127.0.0.1 on a free port, in a daemon thread; yields its base URL.

    Payments go to the app's own local Stripe sandbox, started on first use (no STRIPE_SECRET_KEY).
    The gateway is built lazily, so the port is known before the sandbox exists: point the
    sandbox's signed webhooks at this server, as `make run` does, and both the success page and
    the webhook fulfil every payment (the app must count it once)."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    assert "payment_gateway" not in live_app.extensions, "the gateway was built before the webhook URL was set"
    live_app.config["STRIPE_SANDBOX_WEBHOOK_URL"] = f"{url}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        gateway = live_app.extensions.get("payment_gateway")
        if gateway is not None and gateway.sandbox_server is not None:
            gateway.sandbox_server.stop()  # no more webhook deliveries to a server going away
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """pytest-playwright passes this to every context, so page.goto("/calculator") works."""
    return live_server


@pytest.fixture(autouse=True)
def _fresh_data(live_app) -> None:
    """Every test starts from the default factors, prices and rate, with nothing saved."""
    with live_app.app_context():
        wipe_database()
        db.session.remove()


@pytest.fixture
def demo_content(live_app, _fresh_data) -> dict[str, str]:
    """The demo organiser's add-ons on top of the default data: demo-bus (100 yen), demo-event (200 yen).
    Returns the demo accounts' random passwords by e-mail address."""
    with live_app.app_context():
        passwords = load_demo_content()
        db.session.remove()
    return passwords


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def phone(playwright) -> dict:
    """Chromium emulating an iPhone 13: viewport, scale, touch and user agent."""
    device = dict(playwright.devices[PHONE])
    device.pop("default_browser_type", None)
    return device


@pytest.fixture(scope="session")
def browser_context_args(phone, base_url) -> dict:
    return {**phone, "locale": "ja-JP", "timezone_id": "Asia/Tokyo", "base_url": base_url}


@pytest.fixture
def page(context) -> Page:
    """A page that fails fast: 10 s for actions and assertions instead of 30 s."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(10_000)
    return page


# --- helpers shared by the test modules (fixtures: test modules here are not a package) ---------

def _fill_calculator(page: Page, *, electricity: str, city_gas: str, household: str) -> None:
    """Type the figures as a person would: pick the household size, then key in each amount."""
    page.locator("#f-household_size").select_option(household)
    for field, value in (("electricity", electricity), ("city_gas", city_gas)):
        box = page.locator(f"#f-{field}")
        box.click()
        box.press_sequentially(value, delay=20)


def _page_widths(page: Page) -> tuple[int, int]:
    """(the page's scrollWidth, the phone's width): it scrolls sideways when the first is larger.

    Not window.innerWidth: a mobile-emulating Chromium widens the layout viewport to fit content
    that overflows, so innerWidth grows with the page and "scrollWidth <= innerWidth" always holds.
    """
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    return scroll_width, viewport["width"]


@pytest.fixture(scope="session")
def fill_calculator():
    return _fill_calculator


@pytest.fixture(scope="session")
def page_widths():
    return _page_widths


# --- payments: the sandbox's hosted pay page, the pool API, webhook deliveries -------------------

PAY_PAGE = re.compile(r"^http://127\.0\.0\.1:\d+/pay/(cs_[A-Za-z0-9_]+)$")


def _pay_at_sandbox(page: Page) -> str:
    """On the sandbox's hosted pay page (a test payment, it says テスト決済), press Pay; returns the
    Checkout Session id. The page is the sandbox's own, not the app's: its words are fixed."""
    expect(page).to_have_url(PAY_PAGE)
    session_id = PAY_PAGE.match(page.url).group(1)  # type: ignore[union-attr]
    expect(page).to_have_title(re.compile("テスト決済"))
    expect(page.locator(".banner")).to_contain_text("テスト決済")
    page.locator('button[name="action"][value="pay"]').click()
    return session_id


def _pool_now(page: Page) -> dict[str, int]:
    """GET /api/v1/pool through the browser context (no proxy, same server)."""
    response = page.request.get("/api/v1/pool")
    assert response.ok, response.status
    return response.json()


@pytest.fixture(scope="session")
def pay_at_sandbox():
    return _pay_at_sandbox


@pytest.fixture(scope="session")
def pool_now():
    return _pool_now


@pytest.fixture
def webhook_outcome(live_app):
    """wait(session_id) -> what the app answered to the sandbox's checkout.session.completed webhook
    for that session ("paid" when it came first, "already" after the success page), once delivered."""
    def wait(session_id: str, timeout: float = 10.0) -> str:
        sandbox = live_app.extensions["payment_gateway"].sandbox_server.sandbox
        deadline = time.monotonic() + timeout
        while True:
            events = [e for e in sandbox.events("checkout.session.completed")
                      if e.event["data"]["object"]["id"] == session_id]
            if events and events[0].delivery_status in ("delivered", "failed"):
                break
            assert time.monotonic() < deadline, f"no webhook delivered for {session_id}: {[e.to_debug() for e in events]}"
            time.sleep(0.05)
        assert len(events) == 1, [e.id for e in events]
        event = events[0]
        assert (event.delivery_status, event.last_status_code, event.attempts) == ("delivered", 200, 1), \
            event.to_debug()
        with live_app.app_context():
            row = db.session.get(StripeEvent, event.id)
            outcome = row.outcome if row is not None else None
            db.session.remove()
        assert outcome is not None, f"the app answered 200 but recorded no event {event.id}"
        return outcome
    return wait


@pytest.fixture
def paid_certificate(live_app, live_server, webhook_outcome):
    """pay(slug, quantity, name) -> the path of a paid contribution's certificate, made without a
    browser (test_payment_journey walks the same path by hand): the checkout service, the sandbox
    completing the session as its Pay button does, then the success page's fulfilment; and the
    webhook that follows is waited for, so the next test starts from a quiet database."""
    from resident_app.payments.gateway import get_gateway
    from resident_app.services.payments import fulfil_checkout_session, start_checkout

    def pay(slug: str, quantity: int = 1, name: str = "") -> str:
        with live_app.test_request_context(base_url=live_server, headers={"Accept-Language": "ja"}):
            addon = db.session.scalar(select(AddOn).where(AddOn.slug == slug))
            contribution, _ = start_checkout(addon, quantity=quantity, amount_yen=None, display_name=name,
                                             receipt_email="", locale="ja")
            session_id = contribution.stripe_session_id
            gateway = get_gateway()
            gateway.sandbox_server.sandbox.store.complete_session(session_id, "card")
            outcome = fulfil_checkout_session(gateway.retrieve_session(session_id))
            assert outcome.contribution is not None and outcome.contribution.status == "paid", outcome
            token = outcome.contribution.certificate_token
            db.session.remove()
        webhook_outcome(session_id)
        return f"/c/{token}"
    return pay


# --- accessibility: axe-core's serious and critical findings --------------------------------------

def _blocking_violations(page: Page) -> list[str]:
    """One line per serious or critical violation: rule, impact, help, and the elements hit."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in ("serious", "critical"):
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:8]
        lines.append(f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{violation['helpUrl']}] on {targets}")
    return lines


@pytest.fixture(scope="session")
def blocking_violations():
    return _blocking_violations
