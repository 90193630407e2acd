"""The learn pages in a real phone-size browser: axe-core finds nothing serious, nothing scrolls sideways."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from resident_app.learn.content import library

BLOCKING = {"serious", "critical"}
AXE = Axe()
PATHS = ["/learn"] + [f"/learn/{page.slug}" for page in library().ordered("ja")]


def blocking_violations(page: Page) -> list[str]:
    """One line per serious or critical violation: rule, impact, help, and the elements hit."""
    lines = []
    for violation in AXE.run(page).response["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:8]
        lines.append(f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{violation['helpUrl']}] on {targets}")
    return lines


def test_learn_pages_have_no_serious_violations_in_japanese(page: Page) -> None:
    found: list[str] = []
    for path in PATHS:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator("h1")).to_be_visible()
        found += blocking_violations(page)
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_sideways_scrolling_at_360_px(page: Page, page_widths, base_url, lang) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
    page.set_viewport_size({"width": 360, "height": 640})
    too_wide = []
    for path in PATHS:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        scroll_width, inner_width = page_widths(page)
        if scroll_width > inner_width:
            too_wide.append(f"{path}: {scroll_width} px wide in a {inner_width} px window")
    assert not too_wide, "\n".join(too_wide)


def test_the_table_of_contents_jumps_to_its_section(page: Page) -> None:
    page.goto("/learn/what-is-offset")
    toc = page.locator("nav.learn-toc")
    expect(toc).to_be_visible()
    toc.locator("a").nth(1).click()
    expect(page).to_have_url(page.url.split("#")[0] + "#section-2")
    expect(page.locator("#section-2")).to_be_in_viewport()
