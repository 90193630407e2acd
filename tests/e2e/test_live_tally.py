"""An organiser watches the festival on a phone: the add-on page's tally updates by itself when
residents pay (htmx polling), fits 360 px, and the refresh link works without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOn
from resident_app.services.programme_content import DEMO_ORGANISER_EMAIL

pytestmark = pytest.mark.e2e


def demo_bus_id(live_app) -> int:
    with live_app.app_context():
        addon_id = db.session.scalar(select(AddOn.id).where(AddOn.slug == "demo-bus"))
        db.session.remove()
    return addon_id


def log_in(page: Page, passwords: dict[str, str]) -> None:
    page.goto("/auth/login")
    page.locator("#f-email").fill(DEMO_ORGANISER_EMAIL)
    page.locator("#f-password").fill(passwords[DEMO_ORGANISER_EMAIL])
    page.locator('form[action$="/auth/login"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/organiser/$"))


def test_the_tally_counts_payments_as_they_come(page: Page, live_app, demo_content, paid_certificate,
                                                page_widths) -> None:
    log_in(page, demo_content)
    page.goto(f"/organiser/addons/{demo_bus_id(live_app)}")
    expect(page.locator("#total-units")).to_have_text("0")
    expect(page.locator("#recent")).to_contain_text("直近10分間：0口、0円。")

    paid_certificate("demo-bus", 2)
    paid_certificate("demo-bus", 1)
    # No reload: htmx asks for the tally every 10 seconds.
    expect(page.locator("#total-units")).to_have_text("3", timeout=15_000)
    expect(page.locator("#total-yen")).to_have_text("300円")
    expect(page.locator("#total-kg")).to_have_text("30.0 kg-CO2")
    expect(page.locator("#recent")).to_contain_text("直近10分間：3口、300円。")
    expect(page.locator("#recent")).to_contain_text("最後のお支払い：")
    page.set_viewport_size({"width": 360, "height": 740})
    scroll_width, width = page_widths(page)
    assert scroll_width <= width
    page.locator("#live").screenshot(path="screenshots/tally-ja-360.png")


def test_without_javascript_the_refresh_link_shows_new_figures(browser, base_url, live_app, demo_content,
                                                               paid_certificate) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url, locale="en-GB",
                                  viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        log_in(page, demo_content)
        page.goto(f"/organiser/addons/{demo_bus_id(live_app)}")
        expect(page.locator("#total-units")).to_have_text("0")
        paid_certificate("demo-bus", 4)
        page.get_by_role("link", name="Refresh").click()
        expect(page).to_have_url(re.compile(r"/organiser/addons/\d+#live$"))
        expect(page.locator("#total-units")).to_have_text("4")
        expect(page.locator("#recent")).to_contain_text("In the last 10 minutes: 4 units, ¥400.")
        page.screenshot(path="screenshots/tally-en-390-nojs.png", full_page=True)
    finally:
        context.close()
