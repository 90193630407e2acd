"""axe-core on the public pages at phone size, in Japanese: nothing serious or critical."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

def test_no_serious_violations_in_japanese(page: Page, fill_calculator, blocking_violations) -> None:
    """Home, the methodology, and the calculator with a result and the actions' sources open.
    (English layouts are covered for width by the journey's 360 px test.)"""
    found: list[str] = []
    for path in ("/", "/methodology"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        found += blocking_violations(page)

    page.goto("/calculator")
    fill_calculator(page, electricity="300", city_gas="20", household="3")
    expect(page.locator("#total-kg")).to_have_text("2,053")
    page.locator(".more-actions > summary").click()  # cooling is not among this home's top five
    page.locator("#action-cooling_setpoint").check()
    expect(page.locator("#remainder-kg")).to_have_text("2,036")
    page.locator(".action-sources > summary").click()
    found += blocking_violations(page)

    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)
