"""A resident on a phone, in Japanese: fill in the calculator, reduce, save, share and delete.

300 kWh of electricity and 20 m3 of city gas a month: 300 x 12 x 0.423 + 20 x 12 x 2.21
= 1,522.8 + 530.4 = 2,053.2 kg a year. Raising the cooling setpoint to 28C saves 30.24 kWh,
x 0.423 = 12.79 kg, which leaves 2,040.4 kg.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

TOTAL = "2,053"
AFTER_AC_COOL_28 = "2,040"


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


def _expect_charts_drawn(page: Page) -> None:
    """Both Plotly charts are drawn as SVG inside the phone's width, each labelled as an image."""
    for name in ("breakdown", "comparison"):
        chart = page.locator(f'#result [data-chart="{name}"][data-drawn="true"]')
        expect(chart).to_have_count(1)
        expect(chart).to_have_attribute("role", "img")
        expect(chart.locator("svg").first).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box


def _expect_tables(page: Page) -> None:
    """The same figures as tables: one row per source used, the total in the footer."""
    tables = page.locator("#result table.data")
    expect(tables).to_have_count(2)
    expect(tables.nth(0).locator("tbody tr")).to_have_count(2)
    expect(tables.nth(0).locator("tbody td.num")).to_have_text(["1,523", "74%", "530", "26%"])
    expect(tables.nth(0).locator("tfoot td.num").first).to_have_text(TOTAL)
    expect(tables.nth(1).locator("tbody tr")).to_have_count(2)


@pytest.mark.xfail(strict=True, reason=(
    "app bug: base.html sets htmx allowScriptTags:false, and htmx 2 then removes every <script> "
    "from swapped content, including the <script type=application/json data-chart-for> figures, "
    "so charts.js finds nothing to draw after a live update"))
def test_live_result_draws_the_charts(calculate) -> None:
    page = calculate()
    _expect_charts_drawn(page)


def test_live_result_tables_and_reduction(calculate) -> None:
    page = calculate()
    _expect_tables(page)

    # Nothing reduced yet: the remainder is the total.
    expect(page.locator("#remainder-kg")).to_have_text(TOTAL)
    # The action's label comes from the data, in Japanese.
    expect(page.locator('label[for="action-ac_cool_28"]')).to_contain_text("冷房の設定温度")
    page.locator("#action-ac_cool_28").check()
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_AC_COOL_28)
    expect(page.locator("#action-ac_cool_28")).to_be_checked()  # survives the swap
    expect(page.locator("#total-kg")).to_have_text(TOTAL)

    page.locator("#action-ac_cool_28").uncheck()
    expect(page.locator("#remainder-kg")).to_have_text(TOTAL)


def test_switch_to_english_stays_on_calculator(calculate, fill_calculator) -> None:
    page = calculate()
    page.locator(".lang-switch").get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The calculator works in English too: English number formats, no Japanese action labels.
    fill_calculator(page, electricity="300", city_gas="20", household="3")
    expect(page.locator("#total-kg")).to_have_text(TOTAL)
    label = page.locator('label[for="action-ac_cool_28"]')
    expect(label).to_contain_text("−12.8 kg")
    expect(label).not_to_contain_text("冷房")

    page.locator(".lang-switch").get_by_role("button", name="日本語").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")


@pytest.mark.parametrize("path", ["/", "/calculator", "/methodology"])
def test_no_sideways_scrolling_at_360_px(page: Page, calculate, page_widths, path: str) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    if path == "/calculator":
        calculate()
        page.locator("#action-ac_cool_28").check()
        expect(page.locator("#remainder-kg")).to_have_text(AFTER_AC_COOL_28)
        # Open every "source and assumptions": long URLs live in there.
        for summary in page.locator(".action-source summary").all():
            summary.click()
    else:
        page.goto(path)
    scroll_width, inner_width = page_widths(page)
    assert inner_width == 360
    assert scroll_width <= inner_width, f"{path} scrolls sideways: {scroll_width}px wide at {inner_width}px"


def test_save_share_and_delete(calculate, new_context) -> None:
    page = calculate()
    page.locator("#action-ac_cool_28").check()
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_AC_COOL_28)

    save = page.locator('#result button[formaction$="/calculator/save"]')
    expect(save).to_have_count(1)
    save.click()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]{16,}$"))
    saved_url = page.url
    token = saved_url.rsplit("/", 1)[1]
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#total-kg")).to_have_text(TOTAL)
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_AC_COOL_28)
    expect(page.locator("#action-ac_cool_28")).to_be_checked()
    expect(page.locator("#f-electricity")).to_have_value("300")
    expect(page.locator("#f-city_gas")).to_have_value("20")
    expect(page.locator("#f-household_size")).to_have_value("3")
    expect(page.locator("#share-link")).to_have_value(saved_url)
    # A whole page (not an htmx swap): the charts are drawn on load.
    _expect_charts_drawn(page)
    _expect_tables(page)

    # Someone else opening the link (no cookies of ours) sees the same numbers.
    visitor = new_context().new_page()
    visitor.goto(saved_url)
    expect(visitor.locator("#total-kg")).to_have_text(TOTAL)
    expect(visitor.locator("#remainder-kg")).to_have_text(AFTER_AC_COOL_28)

    page.locator(f'form[action$="/r/{token}/delete"]').get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    expect(page.locator(".flash-success")).to_be_visible()
    gone = page.goto(saved_url)
    assert gone is not None and gone.status == 404
    gone = visitor.goto(saved_url)
    assert gone is not None and gone.status == 404
