"""Real-browser tests: the app on a live server thread, Debian's Chromium driven by Playwright.

The server is built once per session on the same database as the other tests (a SQLite file of
our own, or PostgreSQL when DATABASE_URL is set); every test starts from the default data.
"""
from __future__ import annotations

import threading
from typing import Iterator

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

from resident_app import create_app
from resident_app.extensions import db
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
    """The app served on 127.0.0.1 on a free port, in a daemon thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
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
