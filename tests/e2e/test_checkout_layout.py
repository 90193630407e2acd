"""The residents' payment pages on a 360 px phone, in Japanese and English: the add-on page (fixed
price and household amount), the participation certificate and the test-payment banner; and the
certificate printed on one clean A4 page.

Set E2E_SHOTS=/some/folder to keep screenshots of every page for a person to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

WIDTH = 360
SHOTS = Path(os.environ["E2E_SHOTS"]) if os.environ.get("E2E_SHOTS") else None
QR_MAX_PX = 160
A4_PAGES = re.compile(rb"/Type\s*/Page\b(?!s)")
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[([^\]]*)\]")


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found


def expect_fields_stacked(page: Page) -> list[str]:
    """Every text-like input fills its field's width, and its hint and error sit below it."""
    problems = []
    for field in page.locator("form .field").all():
        control = field.locator("input:not([type=hidden]), select").first
        if control.count() == 0:
            continue
        control_box, field_box = box(control), box(field)
        name = control.get_attribute("name")
        if control.get_attribute("type") in ("text", "email") and control_box["width"] < field_box["width"] - 1:
            problems.append(f"{name}: input {control_box['width']:.0f} px wide in a {field_box['width']:.0f} px field")
        for below in field.locator("span.muted, span.hint").all():
            if box(below)["y"] < control_box["y"] + control_box["height"] - 1:
                problems.append(f"{name}: its hint starts beside the input, not below it")
    return problems


def too_wide(page: Page, page_widths) -> str | None:
    scroll_width, width = page_widths(page)
    return f"{page.url} scrolls sideways: {scroll_width} > {width}" if scroll_width > width else None


def test_checkout_pages_and_certificate_at_360_px(page: Page, base_url: str, demo_content, paid_certificate,
                                                   page_widths) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 740})
    certificate = paid_certificate("demo-bus", quantity=3, name="みどり台 花子")

    problems: list[str] = []
    for lang in ("ja", "en"):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
        for name, path in (("addon", "/a/demo-bus"), ("household", "/a/household?amount=15228")):
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator(".sandbox-banner")).to_be_visible()
            problems += [f"{lang} {path}: {p}" for p in expect_fields_stacked(page)]
            problems += filter(None, [too_wide(page, page_widths)])
            shot(page, f"{lang}-{name}")
            if name == "addon":
                shot(page, f"{lang}-banner", full_page=False)
            if name == "addon" and lang == "ja":  # a refused e-mail address: its error, below the input
                page.locator("#f-receipt_email").fill("not an address")
                page.locator('form[action$="/a/demo-bus/checkout"] button[type="submit"]').click()
                error = page.locator("#error-receipt_email")
                expect(error).not_to_be_empty()
                expect(page.locator("#f-receipt_email")).to_have_attribute("aria-invalid", "true")
                problems += [f"{lang} {path} (refused): {p}" for p in expect_fields_stacked(page)]
                email_box = box(page.locator("#f-receipt_email"))
                if box(error)["y"] < email_box["y"] + email_box["height"] - 1:
                    problems.append(f"{lang} {path}: the e-mail error is beside the input, not below it")
                shot(page, f"{lang}-addon-error")
            if name == "addon" and SHOTS is not None:  # the sandbox's own pay page, with its banner
                page.locator("#f-receipt_email").fill("")
                page.locator('form[action$="/a/demo-bus/checkout"] button[type="submit"]').click()
                expect(page).to_have_url(re.compile(r"/pay/cs_\w+$"))
                shot(page, f"{lang}-sandbox-pay-page")

        page.goto(certificate)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        problems += filter(None, [too_wide(page, page_widths)])
        qr = box(page.locator(".cert-qr svg"))
        if not 96 <= qr["width"] <= QR_MAX_PX:
            problems.append(f"{lang} certificate: the QR code is {qr['width']:.0f} px wide")
        dt, dd = (box(page.locator(f".cert-facts {tag}").first) for tag in ("dt", "dd"))
        if dd["y"] < dt["y"] + dt["height"] - 1:
            problems.append(f"{lang} certificate: the facts are not stacked at {WIDTH} px")
        shot(page, f"{lang}-certificate")

        # On paper: A4, no site furniture, one page, the QR code and the border kept.
        page.emulate_media(media="print")
        for hidden in (".site-header", ".site-footer", ".sandbox-banner", "[data-print-row]", ".site-nav"):
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator(".cert-qr svg")).to_be_visible()
        border = page.locator("article.certificate").evaluate("e => getComputedStyle(e).borderTopStyle")
        if border == "none":
            problems.append(f"{lang} certificate: no border on paper")
        if SHOTS is not None:
            page.set_viewport_size({"width": 680, "height": 1009})  # A4 less 15 mm margins, at 96 dpi
            shot(page, f"{lang}-certificate-print", full_page=False)
            page.set_viewport_size({"width": WIDTH, "height": 740})
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        if SHOTS is not None:
            (SHOTS / f"{lang}-certificate.pdf").write_bytes(pdf)
        pages = len(A4_PAGES.findall(pdf))
        if pages != 1:
            problems.append(f"{lang} certificate: printed on {pages} pages")
        sizes = {tuple(round(float(n)) for n in m.split()[2:]) for m in MEDIA_BOX.findall(pdf)}
        if sizes != {(595, 842)}:
            problems.append(f"{lang} certificate: printed on {sizes} pt paper, not A4 (the @page rule)")
        page.emulate_media(media="screen")

    # Wider screens: the certificate's facts in two columns.
    page.set_viewport_size({"width": 900, "height": 900})
    dt, dd = (box(page.locator(f".cert-facts {tag}").first) for tag in ("dt", "dd"))
    if not (dd["x"] > dt["x"] + dt["width"] - 1 and abs(dd["y"] - dt["y"]) < 4):
        problems.append("certificate at 900 px: the facts are not in two columns")
    shot(page, "en-certificate-900", full_page=False)

    assert not problems, "\n".join(problems)


def test_english_add_on_page_shows_yen_sign_after_a_japanese_visit(page: Page, base_url: str) -> None:
    japanese = page.request.get("/a/household").text()
    assert "100円 = 10.0 kg" in japanese
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base_url}])
    english = page.request.get("/a/household").text()
    assert "¥10,000 per tonne" in english  # a variable: formatted per request
    assert "¥100 = 10.0 kg" in english and "100円" not in english  # a literal: frozen in Japanese
