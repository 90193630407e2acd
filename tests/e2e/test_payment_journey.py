"""A resident pays for an offset add-on on a phone, in Japanese: QR code -> add-on page -> the local
Stripe sandbox's pay page -> back -> participation certificate; and the pool counts it once.

The rate is 10,000 yen a tonne: 100 yen = 10 kg. demo-bus costs 100 yen a unit, so 3 units are
300 yen = 30.0 kg. The calculator's 300 kWh a month is 1,522.8 kg a year = 15,228 yen.
The sandbox delivers signed webhooks to the live server, so the success page and the webhook
both fulfil each payment; whichever comes second must change nothing.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

CERTIFICATE = re.compile(r"/c/[A-Za-z0-9_-]{16,}$")
NUMBER = re.compile(r"^OC-\d{4}-\d{6}$")


def open_checkout_form(page: Page, slug: str) -> None:
    """The add-on page in Japanese, with its pay form (as opened from a QR code: a plain GET)."""
    page.goto(f"/a/{slug}")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(f'form[action$="/a/{slug}/checkout"]')).to_be_visible()


def press_pay(page: Page, slug: str) -> None:
    page.locator(f'form[action$="/a/{slug}/checkout"] button[type="submit"]').click()


def expect_pool(pool: dict[str, int], before: dict[str, int], *, yen: int, grams: int, count: int) -> None:
    assert (pool["paid_yen"] - before["paid_yen"], pool["co2_g"] - before["co2_g"],
            pool["contributions"] - before["contributions"]) == (yen, grams, count), (before, pool)


def test_pay_for_three_bus_fares_and_get_a_certificate(page: Page, demo_content, pay_at_sandbox, pool_now,
                                                       webhook_outcome) -> None:
    before = pool_now(page)

    open_checkout_form(page, "demo-bus")
    page.locator("#f-quantity").select_option("3")
    page.locator("#f-display_name").fill("みどり台 花子")
    press_pay(page, "demo-bus")
    session_id = pay_at_sandbox(page)  # 303 to the sandbox; Pay; 303 back to /thanks; 303 to /c/<token>

    expect(page).to_have_url(CERTIFICATE)
    certificate = page.locator("article.certificate")
    expect(certificate.locator("#cert-title")).to_have_text("みどり台 花子")
    facts = certificate.locator("dl.cert-facts dd")
    expect(facts.nth(0)).to_have_text(NUMBER)
    expect(facts.nth(2)).to_have_text("コミュニティバス カーボン・オフセット乗車賃")  # the add-on's title: data
    expect(facts.nth(3)).to_have_text("3")
    expect(facts.nth(4)).to_have_text("300円")
    expect(facts.nth(5)).to_contain_text("30.0")
    expect(facts.nth(6)).to_contain_text("10,000円")
    qr = certificate.locator(".cert-qr svg")
    expect(qr).to_be_visible()
    expect(certificate.locator(".cert-link")).to_have_text(page.url)
    expect(page.locator(".flash-success")).to_be_visible()

    expect_pool(pool_now(page), before, yen=300, grams=30_000, count=1)
    # The webhook arrives too (before or after the success page): it is answered 200 and counted once.
    assert webhook_outcome(session_id) in ("paid", "already")
    expect_pool(pool_now(page), before, yen=300, grams=30_000, count=1)

    # The certificate is a stable link: opening it again (a bookmark) shows the same number.
    number = facts.nth(0).inner_text()
    page.reload()
    expect(page.locator("dl.cert-facts dd").nth(0)).to_have_text(number)


def test_cancel_on_the_pay_page_counts_nothing(page: Page, demo_content, pool_now) -> None:
    before = pool_now(page)
    open_checkout_form(page, "demo-bus")
    page.locator("#f-quantity").select_option("2")
    press_pay(page, "demo-bus")
    expect(page).to_have_url(re.compile(r"/pay/cs_\w+$"))
    page.locator("a.cancel").click()

    expect(page).to_have_url(re.compile(r"/a/demo-bus\?cancelled=1$"))
    expect(page.locator(".flash-info")).to_be_visible()
    expect(page.locator('form[action$="/a/demo-bus/checkout"]')).to_be_visible()  # free to try again
    expect_pool(pool_now(page), before, yen=0, grams=0, count=0)


def test_offset_what_the_calculator_found(page: Page, pay_at_sandbox, pool_now, webhook_outcome) -> None:
    before = pool_now(page)
    page.goto("/calculator")
    page.locator("#f-electricity").press_sequentially("300", delay=20)
    expect(page.locator("#total-kg")).to_have_text("1,523")
    offset = page.locator('#result a[href*="/a/household?amount="]')
    expect(offset).to_have_attribute("href", re.compile(r"/a/household\?amount=15228$"))
    offset.click()

    expect(page).to_have_url(re.compile(r"/a/household\?amount=15228$"))
    expect(page.locator("#f-amount")).to_have_value("15228")
    expect(page.locator("#f-quantity")).to_have_count(0)  # the resident chooses an amount, not units
    press_pay(page, "household")
    session_id = pay_at_sandbox(page)

    expect(page).to_have_url(CERTIFICATE)
    facts = page.locator("dl.cert-facts dd")
    expect(facts.nth(0)).to_have_text(NUMBER)
    expect(facts.nth(2)).to_have_text("わが家のCO2の残りをオフセット")
    expect(page.locator("dl.cert-facts")).to_contain_text("15,228円")
    expect(page.locator("dl.cert-facts")).to_contain_text("1,523")
    expect(page.locator(".cert-qr svg")).to_be_visible()
    assert webhook_outcome(session_id) in ("paid", "already")
    expect_pool(pool_now(page), before, yen=15_228, grams=1_522_800, count=1)
