"""Staff take a bus fare box through to a published invalidation; the resident's certificate and
the public transparency page then show the serial range (phone size, Japanese)."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from resident_app.services.days import tokyo_today
from resident_app.services.programme_content import DEMO_STAFF_EMAIL

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_fare_box_to_published_invalidation(page: Page, demo_content, tmp_path) -> None:
    notice = tmp_path / "notice.pdf"
    notice.write_bytes(PDF)
    two_days_ago = (tokyo_today() - timedelta(days=2)).isoformat()
    yesterday = (tokyo_today() - timedelta(days=1)).isoformat()

    page.goto("/auth/login")
    page.locator("main input[name=email]").fill(DEMO_STAFF_EMAIL)
    page.locator("main input[name=password]").fill(demo_content[DEMO_STAFF_EMAIL])
    page.locator("main button[type=submit]").click()

    # The bus route's fare box: 37 rides x 100 yen, received two days ago.
    page.goto("/staff/contributions/offline")
    form = page.locator("main form").first
    select = form.locator("select[name=addon_id]")
    bus_value = select.locator("option", has_text="コミュニティバス").first.get_attribute("value")
    select.select_option(bus_value)
    form.locator("input[name=quantity]").fill("37")
    form.locator("input[name=received_on]").fill(two_days_ago)
    form.locator("input[name=channel][value=cash]").check()
    form.locator("input[name=display_name]").fill("みどり台循環バス")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/contributions/\d+$"))
    expect(page.locator("main")).to_contain_text("3,700円")
    certificate_url = page.locator("main a[href*='/c/']").first.get_attribute("href")

    # Close the batch up to yesterday: 370 kg owed, one whole tonne to buy.
    page.goto(f"/staff/batches/new?cutoff={yesterday}")
    expect(page.locator("#preview-tonnes")).to_have_text(re.compile(r"^1\s*t$"))
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+$"))
    batch_url = page.url

    purchase = page.locator(f"form[action$='/purchase']")
    purchase.locator("[name=provider]").fill("みどり信用金庫")
    purchase.locator("[name=credit_type]").select_option("j_credit")
    purchase.locator("[name=project_name]").fill("下川町森林吸収プロジェクト")
    purchase.locator("[name=project_id]").fill("JCL-0042")
    purchase.locator("[name=credit_place]").fill("北海道/下川町")
    purchase.locator("[name=tonnes]").fill("1")
    purchase.locator("[name=price_per_t_yen]").fill("10000")
    purchase.locator("[name=total_yen]").fill("10000")
    purchase.locator("[name=purchased_on]").fill(yesterday)
    purchase.locator("[name=invoice_file]").set_input_files(str(notice))
    purchase.locator("button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+"))

    invalidation = page.locator("form[action$='/invalidations']")
    invalidation.locator("[name=registry]").select_option("j_credit_registry")
    invalidation.locator("[name=invalidated_on]").fill(yesterday)
    invalidation.locator("[name=serial_start_1]").fill("JP-123-0001")
    invalidation.locator("[name=serial_end_1]").fill("JP-123-0001")
    invalidation.locator("[name=tonnes]").fill("1")
    invalidation.locator("[name=purpose]").fill("2026年度 コミュニティバス カーボン・オフセット")
    invalidation.locator("[name=offset_place]").fill("東京都/八王子市")
    invalidation.locator("[name=notice_file]").set_input_files(str(notice))
    invalidation.locator(".form-actions button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+"))

    confirm = page.locator("form[action$='/confirm']")
    for box in confirm.locator("input[name^='ack-']").all():
        box.check()
    confirm.locator("input[name=final]").check()
    confirm.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(batch_url)))
    expect(page.locator("form[action$='/confirm']")).to_have_count(0)

    # The resident's certificate shows where the money went, and the public page shows the batch.
    page.goto(certificate_url)
    expect(page.locator("main")).to_contain_text("JP-123-0001")
    expect(page.locator("main")).to_contain_text("下川町森林吸収プロジェクト")
    notice_link = page.locator("main a[href*='/evidence/notices/']").first
    response = page.request.get(notice_link.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")

    page.goto("/transparency")
    expect(page.locator("main")).to_contain_text("JP-123-0001")
    pool = page.request.get("/api/v1/pool").json()
    assert pool["retired_t"] == 1 and pool["balance_g"] == 1_000_000 - 370_000
