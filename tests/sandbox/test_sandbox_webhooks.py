"""Webhook delivery: signatures, retries with backoff, giving up, resend, and no deadlock."""
from __future__ import annotations

import threading
import time

import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from resident_app.payments.sandbox import serve_in_thread, signature_header


def test_signature_header_matches_stripe_verification(webhook_secret):
    payload = '{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}'
    header = signature_header(payload, webhook_secret)
    assert stripe.Webhook.construct_event(payload, header, webhook_secret).id == "evt_1"
    expected = stripe.WebhookSignature.generate_signature_header(payload, webhook_secret, timestamp=1234)
    assert signature_header(payload, webhook_secret, timestamp=1234) == expected


def test_redelivery_after_two_failures(client, session_params, submit_pay_page, receiver, sandbox,
                                       webhook_secret, wait_until):
    receiver.statuses = [500, 500]
    session = client.v1.checkout.sessions.create(session_params())
    submit_pay_page(session.url)

    deliveries = receiver.wait_for(3)
    events = [stripe.Webhook.construct_event(body, headers["Stripe-Signature"], webhook_secret)
              for headers, body in deliveries]
    assert {e.id for e in events} == {events[0].id}  # the same event, re-signed each time
    assert all(e.type == "checkout.session.completed" for e in events)

    record = sandbox.sandbox.events()[0]
    wait_until(lambda: record.delivery_status == "delivered")
    listed = requests.get(f"{sandbox.base_url}/_sandbox/events", timeout=5).json()
    assert [(e["id"], e["delivery_status"], e["attempts"], e["last_status_code"]) for e in listed] == [
        (events[0].id, "delivered", 3, 200)]
    assert listed[0]["event"]["data"]["object"]["id"] == session.id


def test_gives_up_after_max_attempts_then_resend(client, session_params, receiver, sandbox, wait_until):
    receiver.statuses = [503] * 4  # webhook_max_attempts is 4 in these tests
    session = client.v1.checkout.sessions.create(session_params())
    client.v1.checkout.sessions.expire(session.id)

    record = sandbox.sandbox.events()[0]
    wait_until(lambda: record.delivery_status == "failed")
    assert record.attempts == 4 and record.last_status_code == 503
    time.sleep(0.1)
    assert len(receiver.deliveries) == 4  # bounded: no fifth attempt

    resent = requests.post(f"{sandbox.base_url}/_sandbox/events/{record.id}/resend", timeout=5)
    assert resent.status_code == 202
    wait_until(lambda: record.delivery_status == "delivered")
    assert record.attempts == 5 and len(receiver.deliveries) == 5


def test_unreachable_endpoint_is_retried(make_client, session_params, fast_retries, wait_until):
    # Nothing listens on this port (bound then closed), so every attempt is a connection error.
    probe = make_server("127.0.0.1", 0, lambda environ, start_response: [])
    dead_url = f"http://127.0.0.1:{probe.server_port}/webhook"
    probe.server_close()
    server, url = serve_in_thread(webhook_url=dead_url, webhook_secret="whsec_x", **fast_retries)
    try:
        session = make_client(url).v1.checkout.sessions.create(session_params())
        make_client(url).v1.checkout.sessions.expire(session.id)
        record = server.sandbox.events()[0]
        wait_until(lambda: record.delivery_status == "failed")
        assert record.attempts == 4 and record.last_status_code is None and record.last_error
    finally:
        server.stop()


def test_without_webhook_url_events_are_only_stored(make_client, session_params, fast_retries):
    server, url = serve_in_thread(webhook_url=None, webhook_secret="whsec_x", **fast_retries)
    try:
        client = make_client(url)
        session = client.v1.checkout.sessions.create(session_params())
        client.v1.checkout.sessions.expire(session.id)
        listed = requests.get(f"{url}/_sandbox/events", timeout=5).json()
        assert [(e["type"], e["delivery_status"], e["attempts"]) for e in listed] == [
            ("checkout.session.expired", "not_configured", 0)]
        assert listed[0]["event"]["pending_webhooks"] == 0
        assert client.v1.events.retrieve(listed[0]["id"]).type == "checkout.session.expired"
        resend = requests.post(f"{url}/_sandbox/events/{listed[0]['id']}/resend", timeout=5)
        assert resend.status_code == 409
    finally:
        server.stop()


def test_single_threaded_app_does_not_deadlock(make_client, session_params, webhook_secret, fast_retries):
    """The app calls the sandbox from inside a request; the resulting webhook must wait its turn."""
    received: list[str] = []
    done = threading.Event()
    state: dict[str, object] = {}

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/act":
            started = time.monotonic()
            state["client"].v1.checkout.sessions.expire(state["session_id"])  # emits an event
            state["expire_seconds"] = time.monotonic() - started
            return Response("done")
        event = stripe.Webhook.construct_event(request.get_data(as_text=True),
                                               request.headers["Stripe-Signature"], webhook_secret)
        received.append(event.type)
        done.set()
        return Response("ok")

    app_server = make_server("127.0.0.1", 0, app, threaded=False)  # one request at a time
    app_thread = threading.Thread(target=app_server.serve_forever, kwargs={"poll_interval": 0.01},
                                  daemon=True)
    app_thread.start()
    app_url = f"http://127.0.0.1:{app_server.server_port}"
    sandbox, url = serve_in_thread(webhook_url=f"{app_url}/webhook", webhook_secret=webhook_secret,
                                   **fast_retries)
    try:
        state["client"] = make_client(url)
        state["session_id"] = state["client"].v1.checkout.sessions.create(session_params()).id
        assert requests.get(f"{app_url}/act", timeout=5).text == "done"
        assert state["expire_seconds"] < 1.0
        assert done.wait(5) and received == ["checkout.session.expired"]
    finally:
        sandbox.stop()
        app_server.shutdown()
        app_server.server_close()
