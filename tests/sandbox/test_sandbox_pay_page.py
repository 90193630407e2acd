"""The hosted pay page: what it shows, and paying, cancelling and the konbini simulation through it."""
from __future__ import annotations

import requests


def test_page_is_labelled_bilingual_and_script_free(client, session_params):
    session = client.v1.checkout.sessions.create(session_params())
    page = requests.get(session.url, timeout=5)
    html = page.text
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "テスト決済 / Test payment — no money moves" in html
    assert "支払う / Pay ¥1,200" in html and "キャンセル / Cancel" in html
    assert "森林由来クレジット 1 kg" in html and "¥1,000" in html and "¥200" in html
    assert "<script" not in html and "http://" not in html.split("</head>")[0]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # i.e. default-src 'none' applies
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_pay_completes_session_and_sends_signed_webhook(client, session_params, submit_pay_page, receiver,
                                                        webhook_secret):
    import stripe

    session = client.v1.checkout.sessions.create(session_params())
    response = submit_pay_page(session.url)
    assert response.status_code == 303
    assert response.headers["Location"] == f"http://app.test/thanks?session_id={session.id}"

    headers, body = receiver.wait_for(1)[0]
    assert headers["Content-Type"].startswith("application/json")
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], webhook_secret)
    assert event.id.startswith("evt_") and event.object == "event"
    assert event.type == "checkout.session.completed"
    assert event.api_version == "2026-10-28.endive" and event.livemode is False
    assert event.pending_webhooks == 1
    assert event.request.to_dict() == {"id": None, "idempotency_key": None}
    obj = event.data.object
    assert obj.id == session.id and obj.object == "checkout.session"
    assert obj.status == "complete" and obj.payment_status == "paid"
    assert obj.payment_intent.startswith("pi_") and obj.amount_total == 1200
    assert obj.client_reference_id == "order-42" and obj.metadata.ward == "世田谷区"
    assert obj.customer_details.email == "resident@example.jp"

    fetched = client.v1.checkout.sessions.retrieve(session.id)
    assert fetched.status == "complete" and fetched.payment_intent == obj.payment_intent and fetched.url is None


def test_wrong_form_token_is_refused(client, session_params, submit_pay_page, sandbox):
    session = client.v1.checkout.sessions.create(session_params())
    response = submit_pay_page(session.url, token="forged")
    assert response.status_code == 400
    assert "Reload the page" in response.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sandbox.sandbox.events() == []


def test_paying_twice_shows_a_message(client, session_params, submit_pay_page):
    session = client.v1.checkout.sessions.create(session_params())
    page = requests.get(session.url, timeout=5).text
    assert submit_pay_page(session.url).status_code == 303
    token = page.split('name="form_token" value="')[1].split('"')[0]
    again = requests.post(session.url, data={"form_token": token, "action": "pay"}, allow_redirects=False,
                          timeout=5)
    assert again.status_code == 409 and "This session can no longer be paid." in again.text
    revisit = requests.get(session.url, timeout=5)
    assert "This payment is complete." in revisit.text and "支払う / Pay" not in revisit.text


def test_expired_session_page_shows_message(client, session_params):
    session = client.v1.checkout.sessions.create(session_params())
    token = requests.get(session.url, timeout=5).text.split('name="form_token" value="')[1].split('"')[0]
    client.v1.checkout.sessions.expire(session.id)
    page = requests.get(session.url, timeout=5)
    assert "This test checkout session has expired." in page.text and "支払う / Pay" not in page.text
    refused = requests.post(session.url, data={"form_token": token, "action": "pay"}, allow_redirects=False,
                            timeout=5)
    assert refused.status_code == 409
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_cancel_redirects_and_leaves_session_open(client, session_params, sandbox):
    session = client.v1.checkout.sessions.create(session_params())
    response = requests.get(f"{session.url}/cancel", allow_redirects=False, timeout=5)
    assert response.status_code == 303 and response.headers["Location"] == "http://app.test/cart"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sandbox.sandbox.events() == []


def test_unknown_session_page_is_404(sandbox):
    response = requests.get(f"{sandbox.base_url}/pay/cs_test_missing", timeout=5)
    assert response.status_code == 404 and "No such checkout session." in response.text


def test_konbini_async_success(client, session_params, submit_pay_page, receiver, sandbox):
    session = client.v1.checkout.sessions.create(session_params(payment_method_types=["card", "konbini"]))
    response = submit_pay_page(session.url, action="konbini")
    assert response.status_code == 303 and response.headers["Location"].endswith(session.id)

    completed = receiver.wait_for_event("checkout.session.completed")
    assert completed.data.object.status == "complete" and completed.data.object.payment_status == "unpaid"
    assert "Simulate payment received" in requests.get(session.url, timeout=5).text

    settled = requests.post(f"{sandbox.base_url}/_sandbox/sessions/{session.id}/async_succeed", timeout=5)
    assert settled.status_code == 200 and settled.json()["payment_status"] == "paid"
    succeeded = receiver.wait_for_event("checkout.session.async_payment_succeeded")
    assert succeeded.data.object.id == session.id and succeeded.data.object.payment_status == "paid"

    refund = client.v1.refunds.create({"payment_intent": settled.json()["payment_intent"]})
    assert refund.amount == 1200


def test_konbini_async_failure_from_the_page(client, session_params, submit_pay_page, receiver, sandbox):
    session = client.v1.checkout.sessions.create(session_params())  # no explicit types: konbini offered
    assert submit_pay_page(session.url, action="konbini").status_code == 303
    response = submit_pay_page(session.url, action="async_fail")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/pay/{session.id}")
    failed = receiver.wait_for_event("checkout.session.async_payment_failed")
    assert failed.data.object.payment_status == "unpaid"
    again = requests.post(f"{sandbox.base_url}/_sandbox/sessions/{session.id}/async_succeed", timeout=5)
    assert again.status_code == 400 and again.json()["error"]["type"] == "invalid_request_error"


def test_konbini_button_hidden_when_card_only(client, session_params):
    session = client.v1.checkout.sessions.create(session_params(payment_method_types=["card"]))
    assert "Simulate konbini" not in requests.get(session.url, timeout=5).text
