"""The calculator without JavaScript: every step is a plain form post and still works."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

TOTAL = "2,053"
AFTER_COOLING = "2,036"


@pytest.fixture
def page(new_context) -> Page:
    page = new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(10_000)
    return page


def test_calculate_reduce_and_save_without_javascript(page: Page, fill_calculator) -> None:
    page.goto("/calculator")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#total-kg")).to_have_count(0)
    fill_calculator(page, electricity="300", city_gas="20", household="3")
    # No live update without JavaScript: nothing happens until the button is pressed.
    expect(page.locator("#total-kg")).to_have_count(0)

    # The first submit button in the form is Calculate, at the end of the energy fieldset.
    calculate = page.locator("#calculator > fieldset").last.get_by_role("button")
    expect(calculate).to_have_count(1)
    calculate.click()
    expect(page).to_have_url(re.compile(r"/calculator#result$"))
    expect(page.locator("#total-kg")).to_have_text(TOTAL)
    expect(page.locator("#f-electricity")).to_have_value("300")
    expect(page.locator("#f-household_size")).to_have_value("3")

    # Charts need JavaScript; the tables carry the same figures.
    expect(page.locator("[data-chart]")).to_have_count(2)
    expect(page.locator("[data-chart][data-drawn]")).to_have_count(0)
    expect(page.locator("[data-chart] svg")).to_have_count(0)
    tables = page.locator("#result table.data")
    expect(tables).to_have_count(2)
    expect(tables.nth(0).locator("tbody td.num")).to_have_text(["1,523", "74%", "530", "26%"])
    expect(tables.nth(0).locator("tfoot td.num").first).to_have_text(TOTAL)

    # With JavaScript off, <noscript> content is real: its button recalculates what remains.
    expect(page.locator("#remainder-kg")).to_have_text(TOTAL)
    page.locator(".more-actions > summary").click()  # cooling is not among this home's top five
    page.locator("#action-cooling_setpoint").check()
    expect(page.locator("#remainder-kg")).to_have_text(TOTAL)  # not yet: no JavaScript
    reduce = page.locator("section:has(#action-cooling_setpoint)")
    update = reduce.get_by_role("button")
    expect(update).to_have_count(1)
    update.click()
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_COOLING)
    expect(page.locator("#action-cooling_setpoint")).to_be_checked()
    expect(page.locator("#total-kg")).to_have_text(TOTAL)

    # Save and delete work as plain forms too.
    page.locator('#result button[formaction$="/calculator/save"]').click()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]{16,}$"))
    saved_url = page.url
    expect(page.locator("#remainder-kg")).to_have_text(AFTER_COOLING)
    page.locator(".saved-banner form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    gone = page.goto(saved_url)
    assert gone is not None and gone.status == 404
