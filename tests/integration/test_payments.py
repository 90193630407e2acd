"""Paying an add-on through the local Stripe sandbox, and webhooks: exactly once, forgeries refused."""
from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from resident_app.extensions import db
from resident_app.models import AddOn, AuditEntry, Contribution, StripeEvent
from resident_app.payments.gateway import get_gateway
from resident_app.services.programme import current_rate

from ..conftest import csrf_token
from .factories import contribution, deliver, events_for, pay, pool, session_id, signed, start

EN = {"Accept-Language": "en"}


def test_three_fares_paid_once_however_often_stripe_says_so(client, demo, stripe_sandbox):
    before = pool(client)
    pay_url = start(client, quantity="3", display_name="たろう", receipt_email="taro@example.jp")
    sid = session_id(pay_url)
    success = pay(pay_url)
    assert success.endswith(f"/a/demo-bus/thanks?session_id={sid}")
    assert pool(client)["paid_yen"] == before["paid_yen"]      # nothing counts before confirmation
    [event] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    first = deliver(client, event)
    assert first.status_code == 200 and first.get_json()["outcome"] == "paid"
    assert deliver(client, event).get_json()["outcome"] == "duplicate"
    thanks = client.get(urlsplit(success).path + "?" + urlsplit(success).query)
    assert thanks.status_code == 303 and "/c/" in thanks.headers["Location"]
    after = pool(client)
    assert after["paid_yen"] - before["paid_yen"] == 300
    assert after["co2_g"] - before["co2_g"] == 30_000
    assert after["contributions"] - before["contributions"] == 1
    row = contribution(demo, sid)
    assert (row.status, row.quantity, row.amount_yen, row.co2_g, row.rate_yen_per_t) == ("paid", 3, 300, 30_000, 10_000)
    assert row.stripe_payment_intent_id.startswith("pi_") and row.paid_at is not None


def test_success_page_fulfils_when_the_webhook_is_late(client, demo, stripe_sandbox):
    pay_url = start(client)
    success = urlsplit(pay(pay_url))
    response = client.get(f"{success.path}?{success.query}")
    assert response.status_code == 303
    [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    assert deliver(client, event).get_json()["outcome"] == "already"
    assert pool(client)["paid_yen"] == 100


def test_the_same_session_in_two_events_counts_once(client, demo, stripe_sandbox):
    pay_url = start(client)
    pay(pay_url)
    [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    twin = {**event, "id": event["id"] + "_twin", "type": "checkout.session.async_payment_succeeded"}
    assert deliver(client, event).get_json()["outcome"] == "paid"
    assert deliver(client, twin).get_json()["outcome"] == "already"
    assert pool(client)["paid_yen"] == 100


def test_concurrent_duplicates_from_threads_count_once(client, demo, stripe_sandbox):
    pay_url = start(client, quantity="2")
    pay(pay_url)
    sid = session_id(pay_url)
    [event] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    variants = [event] * 4 + [{**event, "id": f"{event['id']}_{n}"} for n in range(4)]
    barrier = threading.Barrier(len(variants))
    statuses: list[int] = []

    def send(item):
        local = demo.test_client()
        payload = json.dumps(item)
        headers = signed(payload)
        barrier.wait()
        statuses.append(local.post("/webhooks/stripe", data=payload, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(v,)) for v in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses and all(code == 200 for code in statuses), statuses
    assert pool(client)["paid_yen"] == 200
    with demo.app_context():
        paid_audits = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "contribution.paid"))
        events = db.session.scalar(select(func.count(StripeEvent.id)))
    assert paid_audits == 1
    assert events == 5  # the original id once, and four distinct ids


@pytest.mark.parametrize("tamper", ["wrong_secret", "stale", "missing", "body_changed"])
def test_forged_or_stale_webhooks_are_refused(client, demo, stripe_sandbox, tamper):
    pay_url = start(client)
    pay(pay_url)
    [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    payload = json.dumps(event)
    if tamper == "wrong_secret":
        headers = signed(payload, secret="whsec_someone_else")
    elif tamper == "stale":
        headers = signed(payload, timestamp=int(time.time()) - 600)
    elif tamper == "missing":
        headers = {"Content-Type": "application/json"}
    else:
        headers = signed(payload)
        payload = payload.replace('"amount_total": 100', '"amount_total": 1')
    response = client.post("/webhooks/stripe", data=payload, headers=headers)
    assert response.status_code == 400
    assert pool(client)["paid_yen"] == 0


def test_a_signed_event_for_a_session_we_never_created_changes_nothing(client, demo):
    event = {"id": "evt_unknown", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_never_ours", "object": "checkout.session", "payment_status": "paid",
        "amount_total": 100, "currency": "jpy", "payment_intent": "pi_x"}}}
    response = deliver(client, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown"
    assert pool(client)["contributions"] == 0


def test_amount_mismatch_is_flagged_not_paid(client, demo, stripe_sandbox):
    pay_url = start(client)
    pay(pay_url)
    [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    event["data"]["object"]["amount_total"] = 1
    assert deliver(client, event).get_json()["outcome"] == "mismatch"
    row = contribution(demo, session_id(pay_url))
    assert row.status == "pending" and "expected 100 jpy" in row.flag_reason
    wrong_currency = {**event, "id": event["id"] + "_usd"}
    wrong_currency["data"] = {"object": {**event["data"]["object"], "amount_total": 100, "currency": "usd"}}
    assert deliver(client, wrong_currency).get_json()["outcome"] == "mismatch"
    assert pool(client)["paid_yen"] == 0


def test_a_refund_that_overtakes_completion(client, demo, stripe_sandbox):
    pay_url = start(client)
    pay(pay_url)
    sid = session_id(pay_url)
    [completed] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    intent = completed["data"]["object"]["payment_intent"]
    with demo.app_context():
        get_gateway().refund(intent, None, idempotency_key="test-refund-1")
    [refunded] = [e for e in (r.event for r in stripe_sandbox.sandbox.events("charge.refunded"))
                  if e["data"]["object"]["payment_intent"] == intent]
    assert deliver(client, refunded).get_json()["outcome"] == "refunded"
    assert deliver(client, completed).get_json()["outcome"] == "already"
    row = contribution(demo, sid)
    assert (row.status, row.refunded_yen) == ("refunded", 100)
    assert pool(client)["paid_yen"] == 0


def test_refund_after_payment(client, demo, stripe_sandbox):
    pay_url = start(client, quantity="2")
    pay(pay_url)
    sid = session_id(pay_url)
    [completed] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    deliver(client, completed)
    assert pool(client)["paid_yen"] == 200
    intent = completed["data"]["object"]["payment_intent"]
    with demo.app_context():
        get_gateway().refund(intent, None, idempotency_key="test-refund-2")
    [refunded] = [e for e in (r.event for r in stripe_sandbox.sandbox.events("charge.refunded"))
                  if e["data"]["object"]["payment_intent"] == intent]
    assert deliver(client, refunded).get_json()["outcome"] == "refunded"
    assert deliver(client, {**refunded, "id": refunded["id"] + "_again"}).get_json()["outcome"] == "ignored"
    assert pool(client)["paid_yen"] == 0
    certificate = contribution(demo, sid).certificate_token
    assert "Refunded" in client.get(f"/c/{certificate}", headers=EN).get_data(as_text=True)


def test_cancel_counts_nothing(client, demo):
    pay_url = start(client, quantity="3")
    back = pay(pay_url + "/cancel".replace("/cancel", ""), action="cancel") if False else None
    cancel = requests.get(pay_url + "/cancel", allow_redirects=False, timeout=5)
    assert cancel.status_code == 303
    landing = urlsplit(cancel.headers["Location"])
    page = client.get(f"{landing.path}?{landing.query}", headers=EN)
    assert "cancelled" in page.get_data(as_text=True)
    assert pool(client)["contributions"] == 0 and back is None


def test_expired_then_failed_and_async_paths(client, demo, stripe_sandbox):
    pay_url = start(client)
    sid = session_id(pay_url)
    with demo.app_context():
        get_gateway().expire_session(sid)
    [expired] = events_for(stripe_sandbox, sid, "checkout.session.expired")
    assert deliver(client, expired).get_json()["outcome"] == "expired"
    assert contribution(demo, sid).status == "expired"

    konbini_url = start(client)
    ksid = session_id(konbini_url)
    pay(konbini_url, action="konbini")
    [completed] = events_for(stripe_sandbox, ksid, "checkout.session.completed")
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert deliver(client, completed).get_json()["outcome"] == "not_paid"
    requests.post(f"{stripe_sandbox.base_url}/_sandbox/sessions/{ksid}/async_fail", timeout=5)
    [failed] = events_for(stripe_sandbox, ksid, "checkout.session.async_payment_failed")
    assert deliver(client, failed).get_json()["outcome"] == "failed"
    assert pool(client)["contributions"] == 0


def test_the_amount_comes_from_the_database_not_the_form(client, demo, stripe_sandbox):
    pay_url = start(client, quantity="2", unit_price_yen="1", amount="1")
    with demo.app_context():
        session = get_gateway().retrieve_session(session_id(pay_url))
    assert session["amount_total"] == 200


@pytest.mark.parametrize("form, field", [
    ({"quantity": "0"}, "quantity"), ({"quantity": "21"}, "quantity"), ({"quantity": "x"}, "quantity"),
    ({"receipt_email": "not-an-address"}, "receipt_email"), ({"display_name": "あ" * 41}, "display_name"),
])
def test_bad_checkout_input_gets_a_message_and_no_payment(client, demo, form, field):
    data = {"quantity": "1", "csrf_token": csrf_token(client, "/a/demo-bus"), **form}
    response = client.post("/a/demo-bus/checkout", data=data, headers=EN)
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', response.get_data(as_text=True))
    with demo.app_context():
        assert db.session.scalar(select(func.count(Contribution.id))) == 0


@pytest.mark.parametrize("amount, ok", [("99", False), ("100", True), ("300000", True), ("300001", False)])
def test_household_amount_within_bounds(client, app, amount, ok):
    data = {"amount": amount, "csrf_token": csrf_token(client, "/a/household")}
    response = client.post("/a/household/checkout", data=data)
    assert (response.status_code == 303) is ok


def test_calculator_amount_prefills_the_household_offset(client):
    html = client.get("/a/household?amount=15228").get_data(as_text=True)
    assert 'value="15228"' in html


def test_unavailable_add_ons_show_no_form(client, demo):
    with demo.app_context():
        addon = db.session.scalar(select(AddOn).where(AddOn.slug == "demo-event"))
        addon.max_units = 1
        db.session.add(Contribution(number="OC-T-1", certificate_token="t1", addon_id=addon.id, channel="cash",
                                    status="paid", quantity=1, unit_price_yen=200, amount_yen=200, co2_g=20_000,
                                    rate_id=current_rate().id, rate_yen_per_t=10_000, idempotency_key="k1"))
        bus = db.session.scalar(select(AddOn).where(AddOn.slug == "demo-bus"))
        bus.is_active = False
        db.session.commit()
    for slug in ("demo-event", "demo-bus"):
        html = client.get(f"/a/{slug}", headers=EN).get_data(as_text=True)
        assert "checkout" not in html.split("<main")[1].split("</main>")[0] or 'action="/a/' not in html
        assert client.post(f"/a/{slug}/checkout", data={
            "quantity": "1", "csrf_token": csrf_token(client, f"/a/{slug}")}).status_code == 422


def test_unknown_add_on_is_404(client):
    assert client.get("/a/nothing-here").status_code == 404
    assert client.get("/a/" + "x" * 100).status_code == 404


def test_certificate_never_shows_the_email_and_pending_has_none(client, demo, stripe_sandbox):
    pay_url = start(client, display_name="Hanako", receipt_email="hanako@example.jp")
    sid = session_id(pay_url)
    token = contribution(demo, sid).certificate_token
    assert client.get(f"/c/{token}").status_code == 404         # not paid yet
    pay(pay_url)
    [event] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    deliver(client, event)
    html = client.get(f"/c/{token}", headers=EN).get_data(as_text=True)
    assert "Hanako" in html and "hanako@example.jp" not in html
    assert "OC-" in html and "10.0 kg-CO2" in html and "<svg" in html
    assert "awaiting the next invalidation" in html


def test_without_smtp_the_log_notes_the_receipt_but_holds_no_personal_data(client, demo, stripe_sandbox, caplog):
    with caplog.at_level("DEBUG"):
        pay_url = start(client, receipt_email="jiro@example.jp", display_name="山田次郎")
        pay(pay_url)
        [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
        deliver(client, event)
        client.get(f"/a/demo-bus/thanks?session_id={session_id(pay_url)}")
    paid = contribution(demo, session_id(pay_url))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"receipt for contribution {paid.number} not sent" in logged
    for personal in ("jiro@example.jp", "山田次郎", paid.certificate_token):
        assert personal not in logged


def test_api_addons_lists_open_public_add_ons(client, demo):
    items = client.get("/api/v1/addons").get_json()
    by_slug = {i["slug"]: i for i in items}
    assert by_slug["demo-bus"]["unit_price_yen"] == 100 and by_slug["demo-bus"]["co2_g_per_unit"] == 10_000
    assert by_slug["demo-bus"]["kind"] == "community_bus"
    assert by_slug["demo-event"]["kind"] == "event_ticket"
    assert by_slug["demo-bus"]["url"].endswith("/a/demo-bus")


def test_sandbox_banner_on_every_page(client, demo):
    for url in ("/", "/calculator", "/a/demo-bus"):
        assert "テスト決済" in client.get(url).get_data(as_text=True)
        assert "テスト決済" in client.get(url, headers=EN).get_data(as_text=True)


def test_csp_allows_the_checkout_origin(client, demo, stripe_sandbox):
    csp = client.get("/a/demo-bus").headers["Content-Security-Policy"]
    assert f"form-action 'self' {stripe_sandbox.base_url}" in csp


def test_a_signed_body_too_deeply_nested_to_read_is_a_400(client):
    payload = '{"id": "evt_deep", "data": ' + "[" * 50_000 + "]" * 50_000 + "}"
    assert client.post("/webhooks/stripe", data=payload, headers=signed(payload)).status_code == 400
