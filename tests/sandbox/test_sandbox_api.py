"""The sandbox's /v1 API as seen through the real stripe SDK."""
from __future__ import annotations

import time

import pytest
import requests
import stripe

from resident_app.payments.sandbox import API_VERSION


def test_create_session_mirrors_params(client, session_params):
    before = int(time.time())
    session = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "create-1"})

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.mode == "payment"
    assert session.currency == "jpy"
    assert session.amount_total == 1200 and session.amount_subtotal == 1200
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.payment_intent is None
    assert session.livemode is False
    assert session.success_url == "http://app.test/thanks?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == "http://app.test/cart"
    assert session.client_reference_id == "order-42"
    assert session.metadata.to_dict() == {"order_id": "42", "ward": "世田谷区"}
    assert session.customer_email == "resident@example.jp"
    assert session.customer_details is None
    assert session.payment_method_types == ["card"]
    assert before <= session.created <= int(time.time())
    assert session.expires_at == session.created + 24 * 3600
    assert session.url.endswith(f"/pay/{session.id}")
    assert requests.get(session.url, timeout=5).status_code == 200
    # StripeObject is not a dict since stripe 15: the app must use attributes or to_dict().
    assert session.to_dict()["amount_total"] == 1200


def test_retrieve_line_items_and_expand(client, session_params):
    created = client.v1.checkout.sessions.create(session_params())

    fetched = client.v1.checkout.sessions.retrieve(created.id)
    assert fetched.id == created.id and "line_items" not in fetched

    expanded = client.v1.checkout.sessions.retrieve(created.id, {"expand": ["line_items"]})
    first = expanded.line_items.data[0]
    assert first.object == "item" and first.description == "森林由来クレジット 1 kg"
    assert first.price.unit_amount == 500 and first.quantity == 2 and first.amount_total == 1000

    listed = client.v1.checkout.sessions.line_items.list(created.id, {"limit": 1})
    assert listed.object == "list" and listed.has_more is True and len(listed.data) == 1
    rest = client.v1.checkout.sessions.line_items.list(created.id, {"starting_after": listed.data[0].id})
    assert [i.amount_total for i in rest.data] == [200] and rest.has_more is False


def test_minimum_charge_is_refused(client, session_params):
    params = session_params(line_items=[{
        "price_data": {"currency": "jpy", "unit_amount": 49, "product_data": {"name": "Too cheap"}},
        "quantity": 1}])
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params)
    assert info.value.http_status == 400
    assert info.value.code == "amount_too_small"
    assert info.value.json_body["error"]["type"] == "invalid_request_error"
    assert "¥50" in info.value.user_message


def test_fifty_yen_is_accepted(client, session_params):
    params = session_params(line_items=[{
        "price_data": {"currency": "JPY", "unit_amount": 50, "product_data": {"name": "Just enough"}},
        "quantity": 1}])
    assert client.v1.checkout.sessions.create(params).amount_total == 50


@pytest.mark.parametrize(("change", "param", "code"), [
    ({"success_url": None}, "success_url", "parameter_missing"),
    ({"mode": None}, "mode", "parameter_missing"),
    ({"mode": "subscription"}, "mode", None),
    ({"succes_url": "http://typo"}, "succes_url", None),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": 100,
                                     "product_data": {"name": "x"}}}]}, "line_items[0][quantity]",
     "parameter_missing"),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "x"}},
                      "quantity": 1}]}, "line_items[0][price_data][currency]", None),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": 100_000_000,
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][unit_amount]", None),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": 0, "product_data": {"name": "x"}},
                      "quantity": 1}]}, "line_items[0][price_data][unit_amount]", None),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": "12.5", "product_data": {"name": "x"}},
                      "quantity": 1}]}, "line_items[0][price_data][unit_amount]", None),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": 99_999_999,
                                     "product_data": {"name": "x"}}, "quantity": 2}]}, "line_items",
     "amount_too_large"),
    ({"line_items": [{"price_data": {"currency": "jpy", "unit_amount": 100, "product_data": {}},
                      "quantity": 1}]}, "line_items[0][price_data][product_data]", "parameter_missing"),
    ({"expires_at": int(time.time()) + 60}, "expires_at", None),
    ({"customer_email": "not-an-email"}, "customer_email", "email_invalid"),
])
def test_invalid_params_are_refused_with_param_name(shared_sandbox, make_client, session_params, change, param,
                                                    code):
    client = make_client(shared_sandbox.base_url)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(session_params(**change))
    assert info.value.http_status == 400
    assert info.value.param == param
    assert info.value.code == code


def test_idempotent_replay_returns_original(client, session_params, sandbox):
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-42-attempt-1"})
    again = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "order-42-attempt-1"})
    assert again.id == first.id
    assert len(sandbox.sandbox.store.sessions) == 1
    # The replay header, seen on the wire.
    raw = requests.post(f"{sandbox.base_url}/v1/checkout/sessions",
                        headers={"Authorization": "Bearer sk_test_sandbox_tests", "Idempotency-Key": "raw-1"},
                        data={"mode": "payment", "line_items[0][price_data][currency]": "jpy",
                              "line_items[0][price_data][unit_amount]": "100",
                              "line_items[0][price_data][product_data][name]": "x",
                              "line_items[0][quantity]": "1", "success_url": "http://app.test/ok"}, timeout=5)
    replay = requests.post(raw.request.url, headers=raw.request.headers, data=raw.request.body, timeout=5)
    assert raw.status_code == replay.status_code == 200
    assert "Idempotent-Replayed" not in raw.headers
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == raw.content


def test_idempotency_key_with_other_params_is_an_error(client, session_params):
    client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-mismatch"})
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.checkout.sessions.create(session_params(client_reference_id="order-43"),
                                           {"idempotency_key": "k-mismatch"})
    assert info.value.http_status == 400
    assert info.value.json_body["error"]["type"] == "idempotency_error"
    assert info.value.user_message.startswith("Keys for idempotent requests can only be used with the same "
                                              "parameters they were first used with")


def test_only_the_key_the_sandbox_was_started_with_is_answered(client, make_client, sandbox, session_params):
    assert client.v1.checkout.sessions.create(session_params()).id
    with pytest.raises(stripe.AuthenticationError) as info:
        make_client(sandbox.base_url, "sk_test_another_developer").v1.checkout.sessions.list()
    assert info.value.http_status == 401
    assert "only the key it was started with" in info.value.user_message
    assert "sk_test_another_developer" not in info.value.user_message


def test_a_sandbox_without_a_given_key_makes_its_own(fast_retries, make_client, session_params):
    from resident_app.payments.sandbox import serve_in_thread

    kwargs = {k: v for k, v in fast_retries.items() if k != "api_key"}
    server, url = serve_in_thread(webhook_url=None, webhook_secret="whsec_x", **kwargs)
    try:
        assert server.api_key.startswith("sk_test_") and len(server.api_key) > 30
        assert make_client(url, server.api_key).v1.checkout.sessions.create(session_params()).id
        with pytest.raises(stripe.AuthenticationError):
            make_client(url).v1.checkout.sessions.create(session_params())
    finally:
        server.stop()


def test_failed_request_is_not_saved_for_its_key(client, session_params):
    bad = session_params(success_url=None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(bad, {"idempotency_key": "fix-and-retry"})
    # Stripe does not store validation failures, so the key stays usable after a fix.
    assert client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "fix-and-retry"}).id


@pytest.mark.parametrize("key", ["sk_live_realmoney1234", "pk_test_publishable", "rubbish"])
def test_bad_api_key_is_an_authentication_error(make_client, shared_sandbox, session_params, key):
    with pytest.raises(stripe.AuthenticationError) as info:
        make_client(shared_sandbox.base_url, key).v1.checkout.sessions.create(session_params())
    assert info.value.http_status == 401
    assert key not in info.value.user_message  # the key is redacted, as Stripe does


def test_missing_authorization_header(shared_sandbox):
    response = requests.get(f"{shared_sandbox.base_url}/v1/checkout/sessions/cs_test_x", timeout=5)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "API key" in error["message"]


def test_unknown_ids_are_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve("cs_test_does_not_exist")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire("cs_test_does_not_exist")
    assert info.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"payment_intent": "pi_nope"})
    assert info.value.code == "resource_missing" and info.value.param == "payment_intent"


def test_unrecognised_url_is_a_stripe_style_404(shared_sandbox):
    response = requests.get(f"{shared_sandbox.base_url}/v1/customers",
                            headers={"Authorization": f"Bearer {shared_sandbox.api_key}"}, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/customers)")
    assert response.headers["Stripe-Version"] == API_VERSION


def test_expire_open_session_only(client, session_params, receiver, submit_pay_page):
    session = client.v1.checkout.sessions.create(session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None and expired.payment_status == "unpaid"

    event = receiver.wait_for_event("checkout.session.expired")
    assert event.data.object.id == session.id and event.data.object.status == "expired"
    assert event.request.id and event.request.id.startswith("req_")

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire(session.id)
    assert info.value.http_status == 400 and 'status of "expired"' in info.value.user_message


def test_sessions_expire_on_their_own(make_client, session_params, fast_retries):
    from resident_app.payments.sandbox import serve_in_thread

    now = [1_800_000_000.0]
    server, url = serve_in_thread(webhook_url=None, webhook_secret="whsec_x", clock=lambda: now[0],
                                  **fast_retries)
    try:
        client = make_client(url)
        session = client.v1.checkout.sessions.create(session_params(expires_at=int(now[0]) + 1800))
        assert session.expires_at == 1_800_001_800
        now[0] += 1800
        assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
        assert [e.type for e in server.sandbox.events()] == ["checkout.session.expired"]
    finally:
        server.stop()


def test_full_and_partial_refunds(client, session_params, submit_pay_page, receiver, webhook_secret):
    session = client.v1.checkout.sessions.create(session_params())
    assert submit_pay_page(session.url).status_code == 303
    paid = client.v1.checkout.sessions.retrieve(session.id)
    intent_id = paid.payment_intent

    refund = client.v1.refunds.create({"payment_intent": intent_id, "amount": 500,
                                       "reason": "requested_by_customer"}, {"idempotency_key": "refund-1"})
    assert refund.id.startswith("re_") and refund.object == "refund"
    assert refund.status == "succeeded" and refund.amount == 500 and refund.currency == "jpy"
    assert refund.payment_intent == intent_id and refund.charge.startswith("ch_")

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"payment_intent": intent_id, "amount": 701})
    assert info.value.param == "amount" and info.value.code == "amount_too_large"

    rest = client.v1.refunds.create({"payment_intent": intent_id})  # default: everything left
    assert rest.amount == 700

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"payment_intent": intent_id})
    assert info.value.code == "charge_already_refunded"

    charge = client.v1.charges.retrieve(refund.charge)
    assert charge.amount_refunded == 1200 and charge.refunded is True

    receiver.wait_for(3)  # completed + two charge.refunded
    refunded = [stripe.Webhook.construct_event(body, headers["Stripe-Signature"], webhook_secret)
                for headers, body in receiver.deliveries]
    refunded = [e for e in refunded if e.type == "charge.refunded"]
    assert [(e.data.object.amount_refunded, e.data.object.refunded) for e in refunded] == [(500, False),
                                                                                          (1200, True)]
    first = refunded[0]
    assert first.data.object.object == "charge" and first.data.object.payment_intent == intent_id
    assert first.data.object.amount == 1200 and first.data.object.currency == "jpy"
    assert first.data.previous_attributes.to_dict() == {"amount_refunded": 0, "refunded": False}
    assert first.request.idempotency_key == "refund-1"


def test_refund_of_unpaid_session_is_refused(client, session_params, submit_pay_page):
    session = client.v1.checkout.sessions.create(session_params())
    assert submit_pay_page(session.url, action="konbini").status_code == 303
    pending = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert pending.payment_status == "unpaid" and pending.payment_intent.status == "requires_action"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create({"payment_intent": pending.payment_intent.id})
    assert info.value.code == "charge_not_refundable"


def test_payment_intent_and_list_lookup(client, session_params, submit_pay_page):
    session = client.v1.checkout.sessions.create(session_params())
    submit_pay_page(session.url)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert intent.status == "succeeded" and intent.amount == 1200 and intent.latest_charge.startswith("ch_")
    found = client.v1.checkout.sessions.list({"payment_intent": intent_id})
    assert [s.id for s in found.data] == [session.id]
