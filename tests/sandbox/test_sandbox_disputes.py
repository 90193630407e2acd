"""Disputes in the sandbox: opened and decided through its debug routes, signed events delivered
like Stripe's, and Stripe's own dispute endpoints through the real SDK."""
from __future__ import annotations

import requests
import stripe


def paid_session(client, session_params, submit_pay_page):
    session = client.v1.checkout.sessions.create(session_params())
    assert submit_pay_page(session.url).status_code == 303
    return client.v1.checkout.sessions.retrieve(session.id)


def event_types(receiver, webhook_secret, count: int) -> list[stripe.Event]:
    return [stripe.Webhook.construct_event(body, headers["Stripe-Signature"], webhook_secret)
            for headers, body in receiver.wait_for(count)]


def test_open_and_lose_a_dispute_emits_signed_events(client, session_params, submit_pay_page, receiver, sandbox,
                                                    webhook_secret):
    session = paid_session(client, session_params, submit_pay_page)
    opened = requests.post(f"{sandbox.base_url}/_sandbox/disputes",
                           data={"payment_intent": session.payment_intent, "reason": "fraudulent"}, timeout=5)
    assert opened.status_code == 200
    dispute = opened.json()
    assert (dispute["object"], dispute["status"], dispute["amount"], dispute["currency"]) == \
        ("dispute", "needs_response", 1200, "jpy")
    charge = client.v1.charges.retrieve(dispute["charge"])
    assert charge.disputed is True and charge.payment_intent == session.payment_intent

    closed = requests.post(f"{sandbox.base_url}/_sandbox/disputes/{dispute['id']}/close", data={"status": "lost"},
                           timeout=5)
    assert closed.json()["status"] == "lost"
    events = event_types(receiver, webhook_secret, 4)
    assert [e.type for e in events] == ["checkout.session.completed", "charge.dispute.created",
                                        "charge.dispute.funds_withdrawn", "charge.dispute.closed"]
    assert events[-1].data.object.status == "lost" and events[-1].data.previous_attributes.status == "needs_response"
    assert events[1].data.object.payment_intent == session.payment_intent


def test_a_won_dispute_reinstates_the_funds_first(client, session_params, submit_pay_page, receiver, sandbox,
                                                  webhook_secret):
    session = paid_session(client, session_params, submit_pay_page)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    dispute = requests.post(f"{sandbox.base_url}/_sandbox/disputes",
                            data={"charge": intent.latest_charge, "amount": "500"}, timeout=5).json()
    assert dispute["amount"] == 500
    requests.post(f"{sandbox.base_url}/_sandbox/disputes/{dispute['id']}/close", data={"status": "won"}, timeout=5)
    types = [e.type for e in event_types(receiver, webhook_secret, 5)]
    assert types[-2:] == ["charge.dispute.funds_reinstated", "charge.dispute.closed"]
    again = requests.post(f"{sandbox.base_url}/_sandbox/disputes/{dispute['id']}/close", data={"status": "lost"},
                          timeout=5)
    assert again.status_code == 400 and again.json()["error"]["code"] == "dispute_already_closed"


def test_stripes_dispute_endpoints_through_the_sdk(client, session_params, submit_pay_page, sandbox):
    session = paid_session(client, session_params, submit_pay_page)
    dispute = requests.post(f"{sandbox.base_url}/_sandbox/disputes", data={"payment_intent": session.payment_intent},
                            timeout=5).json()
    assert client.v1.disputes.retrieve(dispute["id"]).status == "needs_response"
    listed = client.v1.disputes.list({"payment_intent": session.payment_intent})
    assert [d.id for d in listed.data] == [dispute["id"]]
    accepted = client.v1.disputes.close(dispute["id"])                     # accepting a dispute loses it
    assert accepted.status == "lost"
    try:
        client.v1.disputes.retrieve("du_missing")
    except stripe.InvalidRequestError as error:
        assert error.http_status == 404
    else:
        raise AssertionError("an unknown dispute must be 404")


def test_a_dispute_needs_a_charge_and_sensible_amounts(client, session_params, submit_pay_page, sandbox):
    session = paid_session(client, session_params, submit_pay_page)
    base = f"{sandbox.base_url}/_sandbox/disputes"
    assert requests.post(base, data={}, timeout=5).status_code == 400
    for amount in ("0", "1201", "abc"):
        response = requests.post(base, data={"payment_intent": session.payment_intent, "amount": amount}, timeout=5)
        assert response.status_code == 400, amount
    assert requests.post(base, data={"payment_intent": session.payment_intent, "reason": "bored"},
                         timeout=5).status_code == 400
    assert requests.post(f"{base}/du_missing/close", data={"status": "won"}, timeout=5).status_code == 404
