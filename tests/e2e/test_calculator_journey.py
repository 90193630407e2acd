"""A resident on a phone, in Japanese: fill in the calculator, reduce, save, share and delete.

300 kWh of electricity and 20 m3 of city gas a month: 300 x 12 x 0.423 + 20 x 12 x 2.21
= 1,522.8 + 530.4 = 2,053.2 kg a year. Cooling is 11 % of a gas home's electricity (396 kWh a year);
one degree higher saves 10 % of it, 39.6 kWh x 0.423 = 16.75 kg, which leaves 2,036.4 kg.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

TOTAL = "2,053"
AFTER_COOLING = "2,036"
PHONE_WIDTH = 390


@pytest.fixture
def calculate(page: Page, fill_calculator):
    """Open the calculator in Japanese, type 300 kWh, 20 m3 and 3 people; wait for the live result."""
    def run() -> Page:
        page.goto("/calculator")
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        fill_calculator(page, electricity="300", city_gas="20", household="3")
        expect(page.locator("#total-kg")).to_have_text(TOTAL)
        return page
    return run


def expect_charts_drawn(page: Page, timeout: float | None = None) -> None:
    """Both Plotly charts are drawn as SVG within the phone's width, each labelled as an image."""
    for name in ("breakdown", "comparison"):
        chart = page.locator(f'#result [data-chart="{name}"][data-drawn="true"]')
        expect(chart).to_have_count(1, timeout=timeout)
        expect(chart).to_have_attribute("role", "img")
        expect(chart.locator("svg").first).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, box


def expect_tables(page: Page) -> None:
    """The same figures as tables: one row per source used, the total in the footer."""
    tables = page.locator("#result table.data")
    expect(tables).to_have_count(2)
    expect(tables.nth(0).locator("tbody tr")).to_have_count(2)
    expect(tables.nth(0).locator("tbody td.num")).to_have_text(["1,523", "74%", "530", "26%"])
    expect(tables.nth(0).locator("tfoot td.num").first).to_have_text(TOTAL)
    # the comparison: electricity, city gas, LPG, kerosene, car fuel in their own units
    expect(tables.nth(1).locator("tbody tr")).to_have_count(5)
    expect(tables.nth(1).locator("tbody tr").first.locator("td.num").first).to_have_text("3,600")


def test_calculate_reduce_save_share_delete_and_switch_language(calculate, new_context) -> None:
    page = calculate()
    expect_tables(page)

    # Nothing reduced yet: the remainder is the total. The action's label is data, in Japanese.
    expect(page.locator("#remainder-kg")).to_have_text(TOTAL)
    expect(page.locator('label[for="action-cooling_setpoint"]')).to_contain_text("冷房の設定温度")
    page.locator(".more-actions > summary").click()  # cooling is not among this home's top five
    page.locator("#action-cooling_setpoint").scroll_into_view_if_needed()
    before_scroll = page.evaluate("window.scrollY")
    page.locator("#action-cooling_setpoint").check()
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_COOLING)
    expect(page.locator("#action-cooling_setpoint")).to_be_checked()  # survives the swap
    # The live update swaps figures only: the box keeps the focus and the page does not move.
    expect(page.locator("#action-cooling_setpoint")).to_be_focused()
    assert abs(page.evaluate("window.scrollY") - before_scroll) <= 2
    expect(page.locator("#result-announcement")).to_contain_text(AFTER_COOLING)
    expect(page.locator("#total-kg")).to_have_text(TOTAL)

    # Save: a whole-page POST that lands on the private link.
    save = page.locator('#result button[formaction$="/calculator/save"]')
    expect(save).to_have_count(1)
    save.click()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]{16,}$"))
    saved_url = page.url
    token = saved_url.rsplit("/", 1)[1]
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#total-kg")).to_have_text(TOTAL)
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_COOLING)
    expect(page.locator("#action-cooling_setpoint")).to_be_checked()
    expect(page.locator("#f-electricity")).to_have_value("300")
    expect(page.locator("#f-city_gas")).to_have_value("20")
    expect(page.locator("#f-household_size")).to_have_value("3")
    expect(page.locator("#share-link")).to_have_value(saved_url)
    # A whole page, not an htmx swap: the charts are drawn on load.
    expect_charts_drawn(page)
    expect_tables(page)

    # Someone else opening the link (none of our cookies) sees the same numbers.
    visitor = new_context().new_page()
    visitor.goto(saved_url)
    expect(visitor.locator("#total-kg")).to_have_text(TOTAL)
    expect(visitor.locator("#remainder-kg")).to_have_text(AFTER_COOLING)
    # The link only reads: the delete form is for the browser that saved it (its HttpOnly key).
    expect(visitor.locator(f'form[action$="/r/{token}/delete"]')).to_have_count(0)
    expect(visitor.locator(".saved-banner")).to_contain_text("保存したブラウザだけ")
    expect(page.locator(f'form[action$="/r/{token}/delete"]')).to_have_count(1)
    assert page.evaluate("document.cookie").find("delete_key") == -1  # scripts cannot read it

    # Delete: back on the calculator, and the link is gone for everybody.
    page.locator(f'form[action$="/r/{token}/delete"]').get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator(".flash-success")).to_be_visible()

    # The header's language button: English, and still on the calculator; then back.
    page.locator(".lang-switch").get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".lang-switch").get_by_role("button", name="日本語").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    for browser_page in (page, visitor):
        gone = browser_page.goto(saved_url)
        assert gone is not None and gone.status == 404


def test_live_result_draws_the_charts(page: Page) -> None:
    """The empty form does without the 1.2 MB Plotly bundle; the first result fetches it and draws."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto("/calculator")
    page.wait_for_load_state("networkidle")
    assert any("/js/charts.js" in url for url in fetched), fetched  # fingerprinted: charts.js?v=...
    assert not [url for url in fetched if "plotly" in url]
    page.locator("#f-electricity").press_sequentially("300", delay=20)
    expect(page.locator("#total-kg")).to_have_text("1,523")
    expect(page.locator("#result [data-figure]")).to_have_count(2, timeout=1_000)
    expect_charts_drawn(page, timeout=3_000)
    assert len([url for url in fetched if "plotly" in url]) == 1


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_sideways_scrolling_at_360_px(page: Page, base_url: str, fill_calculator, page_widths,
                                         lang: str) -> None:
    """Home, the methodology and the calculator with a result, every <details> open (long URLs
    live in there): neither the page nor any box inside it scrolls sideways at 360 px. (A phone
    widens window.innerWidth to fit a page that overflows, so that must stay 360 too.)"""
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
    too_wide = {}

    def measure(name: str) -> None:
        page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
        scroll_width, phone_width = page_widths(page)
        inner_width = page.evaluate("window.innerWidth")
        boxes = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                         && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)""")
        if scroll_width > phone_width or inner_width != phone_width or boxes:
            too_wide[name] = {"scrollWidth": scroll_width, "innerWidth": inner_width, "scrolling boxes": boxes}

    for path in ("/", "/methodology"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        measure(path)
    page.goto("/calculator")
    fill_calculator(page, electricity="300", city_gas="20", household="3")
    expect(page.locator("#total-kg")).to_have_text(TOTAL)
    measure("/calculator")
    assert not too_wide, f"sideways scrolling at 360 px in {lang}: {too_wide}"


def test_a_bill_in_yen_is_read_through_the_tariff_and_a_renewable_menu_zeroes_electricity(page: Page) -> None:
    page.goto("/calculator")
    page.locator('select[name="electricity_unit"]').select_option("yen")
    page.locator("#f-electricity").press_sequentially("10000", delay=20)
    # TEPCO Juryo Dento B at 30 A with this fiscal year's surcharge: 242.9 kWh a month, not 10,000 / 31
    expect(page.locator("#estimate-electricity")).to_contain_text("242.9")
    expect(page.locator("#estimate-electricity")).to_contain_text("従量電灯B")
    expect(page.locator("#total-kg")).to_have_text("1,233")
    page.locator("#f-electricity_menu").focus()
    page.locator("#f-electricity_menu").select_option("renewable_100")
    expect(page.locator("#total-kg")).to_have_text("0.0")
    expect(page.locator("#action-renewable_menu")).to_have_count(0)
    expect(page.locator("#f-electricity_menu")).to_be_focused()
