"""The staff console at phone width, in Japanese and in English: no page scrolls sideways (wide
tables scroll inside their own named box). A visually hidden label at its static position once
widened /staff/settings to 412 px in English."""
from __future__ import annotations

from playwright.sync_api import Page

from resident_app.services.programme_content import DEMO_STAFF_EMAIL

STAFF_PAGES = ("/staff/", "/staff/settings", "/staff/settings/event-factors", "/staff/reviews", "/staff/batches",
               "/staff/batches/new", "/staff/contributions/offline", "/staff/exports", "/staff/users")


def test_no_staff_page_scrolls_sideways_at_360_px(page: Page, demo_content, page_widths) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/auth/login")
    page.locator("main input[name=email]").fill(DEMO_STAFF_EMAIL)
    page.locator("main input[name=password]").fill(demo_content[DEMO_STAFF_EMAIL])
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    too_wide = {}
    for lang, button in (("ja", None), ("en", "English")):
        if button:  # the header's language button, as a member of staff would switch
            page.locator(".lang-switch").get_by_role("button", name=button).click()
            page.wait_for_load_state()
        for path in STAFF_PAGES:
            response = page.goto(path)
            assert response is not None and response.status == 200, (lang, path)
            assert page.locator("html").get_attribute("lang") == lang
            scroll_width, width = page_widths(page)
            if scroll_width > width:
                too_wide[f"{lang} {path}"] = scroll_width
    assert not too_wide, f"pages wider than the phone (360 px): {too_wide}"
