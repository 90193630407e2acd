"""An organiser on a desktop browser, in Japanese: sign up, wait for approval, log in, create an
event-ticket add-on at 150 yen (= 15.0 kg at 10,000 yen a tonne), and share it: the QR code PNG,
the poster and the HTML snippet all carry the add-on's public link /a/<slug>.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

EMAIL = "npo-midori@example.jp"
PASSWORD = "blue kites over tama river"
TITLE = "みどり台 夏まつり 入場券オフセット"


@pytest.fixture(scope="module")
def browser_context_args(playwright, base_url) -> dict:
    """A desktop browser, still Japanese and in Tokyo."""
    desktop = dict(playwright.devices["Desktop Chrome"])
    desktop.pop("default_browser_type", None)
    return {**desktop, "viewport": {"width": 1280, "height": 900}, "locale": "ja-JP",
            "timezone_id": "Asia/Tokyo", "base_url": base_url}


def decode_qr(png: bytes) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def log_in(page: Page, password: str = PASSWORD) -> None:
    page.locator("#f-email").fill(EMAIL)
    page.locator("#f-password").fill(password)
    page.locator('form[action$="/auth/login"] button[type="submit"]').click()


def test_sign_up_get_approved_create_an_add_on_and_share_it(page: Page, live_app, base_url: str,
                                                             page_widths) -> None:
    # Sign up: the account waits for the programme office.
    page.goto("/auth/signup")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.locator("#f-organisation").fill("NPO法人 みどり台まちづくり")
    page.locator("#f-contact_name").fill("鈴木 一郎")
    page.locator("#f-email").fill(EMAIL)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("#f-password_confirm").fill(PASSWORD)
    page.locator('form[action$="/auth/signup"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/auth/signup/done$"))

    # Not approved yet: the right password still does not let them in.
    page.goto("/organiser/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Forganiser%2F$"))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/auth/login")) as refused:
        log_in(page)
    assert refused.value.status == 403
    expect(page.locator('section.card[role="alert"]')).to_be_visible()  # the account-status page
    page.goto("/organiser/")  # still signed out
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))

    # The programme office approves the account from the command line.
    result = live_app.test_cli_runner().invoke(args=["users", "approve", EMAIL])
    assert result.exit_code == 0, result.output
    assert EMAIL in result.output

    log_in(page)
    expect(page).to_have_url(re.compile(r"/organiser/$"))
    expect(page.locator(".kicker")).to_have_text("NPO法人 みどり台まちづくり")

    # Create the add-on; the preview shows what 150 yen offsets as it is typed (htmx).
    page.locator('a[href$="/organiser/addons/new"]').first.click()
    expect(page).to_have_url(re.compile(r"/organiser/addons/new$"))
    page.locator("#f-kind").select_option("event_ticket")
    page.locator("#f-title_ja").fill(TITLE)
    price = page.locator("#f-unit_price_yen")
    expect(price).to_have_value("100")  # the suggested price
    expect(page.locator("#price-preview .figure-sentence")).to_contain_text("10.0")
    price.select_text()
    price.press_sequentially("150", delay=20)
    expect(page.locator("#price-preview .figure-sentence")).to_contain_text("15.0")
    expect(page.locator("#price-preview .figure-sentence")).to_contain_text("150円")
    page.locator('form.addon-form button[type="submit"]').click()

    expect(page).to_have_url(re.compile(r"/organiser/addons/\d+$"))
    addon_page = page.url
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".flash-success")).to_be_visible()
    link = page.locator("#share-link").input_value()
    assert re.fullmatch(re.escape(base_url) + r"/a/[a-z0-9]{6,32}", link), link
    expect(page.locator("#snippet")).to_have_value(re.compile(re.escape(f'href="{link}"')))
    expect(page.locator(".qr-preview svg")).to_be_visible()

    # The PNG download holds exactly the public link.
    with page.expect_download() as download:
        page.locator('a[href$="/qr.png"]').click()
    assert download.value.suggested_filename.endswith(".png")
    assert decode_qr(Path(download.value.path()).read_bytes()) == [link]
    svg = page.request.get(page.locator('a[href$="/qr.svg"]').get_attribute("href"))
    assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml")

    # The poster: title, link and a QR code that scans to the same link.
    page.locator('a[href$="/poster"]').click()
    expect(page).to_have_url(re.compile(r"/organiser/addons/\d+/poster$"))
    expect(page.locator("#poster-title")).to_have_text(TITLE)
    expect(page.locator(".poster-link")).to_have_text(link)
    poster_qr = page.locator(".poster-qr svg")
    expect(poster_qr).to_be_visible()
    assert decode_qr(poster_qr.screenshot()) == [link]

    # The dashboard lists it, and does not scroll sideways on a 360 px phone.
    page.goto("/organiser/")
    row = page.locator("#addon-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th a")).to_have_text(TITLE)
    expect(row.locator("th a")).to_have_attribute("href", addon_page.removeprefix(base_url))
    expect(row.locator('td[data-col="yen"]')).to_have_text("0円")
    page.set_viewport_size({"width": 360, "height": 740})
    scroll_width, width = page_widths(page)
    assert scroll_width <= width, f"the dashboard scrolls sideways at 360 px: {scroll_width} > {width}"
    scrolling = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)""")
    assert not scrolling, f"a box on the dashboard scrolls sideways at 360 px: {scrolling}"
