"""Staff resolve a partly refunded payment on the review screen, and the resident's certificate
and the public ledger show the netted figures (phone size, Japanese)."""
from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOn, Channel, Contribution, ContributionStatus
from resident_app.models.addons import new_token
from resident_app.services.payments import mark_paid
from resident_app.services.programme import current_rate
from resident_app.services.programme_content import DEMO_STAFF_EMAIL
from resident_app.services.refunds import record_refund


def partly_refunded(live_app) -> tuple[str, str]:
    """¥1,000 paid by card for the bus, then ¥400 refunded at Stripe; (number, certificate token)."""
    with live_app.app_context():
        bus = db.session.scalar(select(AddOn).where(AddOn.slug == "demo-bus"))
        rate = current_rate()
        row = Contribution(number=f"OC-E2E-{uuid.uuid4().hex[:6]}", certificate_token=new_token(), addon_id=bus.id,
                           channel=Channel.STRIPE, status=ContributionStatus.PENDING, quantity=10, unit_price_yen=100,
                           amount_yen=1_000, co2_g=100_000, rate_id=rate.id, rate_yen_per_t=rate.yen_per_t,
                           idempotency_key=f"e2e-{uuid.uuid4()}")
        db.session.add(row)
        db.session.flush()
        mark_paid([row.id], paid_at=datetime.now(timezone.utc) - timedelta(minutes=5), payment_intent="pi_e2e_partial")
        db.session.commit()
        record_refund({"payment_intent": "pi_e2e_partial", "refunded": False, "amount_refunded": 400})
        result = row.number, row.certificate_token
        db.session.remove()
        return result


def test_a_partial_refund_is_resolved_and_the_public_figures_net_it_out(page: Page, demo_content, live_app,
                                                                         base_url) -> None:
    number, token = partly_refunded(live_app)

    page.goto("/auth/login")
    page.locator("main input[name=email]").fill(DEMO_STAFF_EMAIL)
    page.locator("main input[name=password]").fill(demo_content[DEMO_STAFF_EMAIL])
    page.locator("main button[type=submit]").click()
    page.goto("/staff/")
    page.get_by_role("link", name="要確認", exact=True).click()
    review = page.locator("article.review", has_text=number)
    expect(review).to_contain_text("一部返金：返金した分はすでにプールから差し引いています")
    expect(review).to_contain_text("1,000円 のうち 400円 を返金")
    review.locator("button[type=submit]").click()                      # no reason: refused beside the field
    expect(page.locator("article.review", has_text=number).locator(".field-error")).to_have_text(
        "この要確認について、どう対応したかを入力してください。")
    page.locator("article.review", has_text=number).locator("textarea[name=reason]").fill(
        "12月1日 Stripe で400円の返金を確認")
    page.locator("article.review", has_text=number).locator("button[type=submit]").click()
    expect(page.locator("#no-flags")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    page.goto(f"/c/{token}")
    expect(page.locator("#cert-amount")).to_contain_text("600円（支払い 1,000円、返金 400円）")
    expect(page.locator("#cert-kg")).to_contain_text("60.0 kg-CO2")

    page.goto("/transparency")
    expect(page.locator("#t-paid-yen")).to_have_attribute("data-value", "600")
    href = page.locator("#ledger-csv").get_attribute("href")
    rows = list(csv.DictReader(io.StringIO(requests.get(base_url + href, timeout=5).content.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["payment", "partial_refund"]
    assert sum(int(r["yen"]) for r in rows) == 600 and re.match(r"OC-E2E-", rows[0]["contribution"])
