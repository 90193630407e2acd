"""The sandbox as a development tool: helpers only when asked for, dropped webhooks on purpose,
concurrent deliveries, the created filter reconciliation lists by, and its own process."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from resident_app.payments.sandbox import serve_in_thread
from resident_app.payments.sandbox.app import create_sandbox_app, get_sandbox


def test_helpers_exist_only_when_asked_for():
    quiet = create_sandbox_app(None, "whsec_x").test_client()
    assert quiet.get("/_sandbox/events").status_code == 404
    assert quiet.post("/_sandbox/reset").status_code == 404
    helpful = create_sandbox_app(None, "whsec_x", debug_endpoints=True).test_client()
    assert helpful.get("/_sandbox/events").status_code == 200


def test_a_share_of_webhooks_is_dropped_and_the_rest_delivered(make_client, session_params, submit_pay_page,
                                                               receiver, fast_retries, wait_until):
    server, url = serve_in_thread(webhook_url=receiver.url, webhook_secret="whsec_x", **fast_retries)
    try:
        assert requests.post(f"{url}/_sandbox/settings", data={"drop_webhooks_percent": "50"},
                             timeout=5).json() == {"drop_webhooks_percent": 50}
        client = make_client(url)
        for _ in range(40):
            submit_pay_page(client.v1.checkout.sessions.create(session_params()).url)
        records = server.sandbox.events("checkout.session.completed")
        dropped = [r for r in records if r.delivery_status == "dropped"]
        assert len(records) == 40 and 5 <= len(dropped) <= 35
        wait_until(lambda: all(r.delivery_status in ("delivered", "dropped") for r in records))
        assert len(receiver.deliveries) == 40 - len(dropped)
        assert all(r.attempts == 0 for r in dropped)
        refused = requests.post(f"{url}/_sandbox/settings", data={"drop_webhooks_percent": "101"}, timeout=5)
        assert refused.status_code == 400
    finally:
        server.stop()


def test_deliveries_run_side_by_side(make_client, session_params, submit_pay_page, fast_retries):
    active, most = [0], [0]
    lock = threading.Lock()

    @Request.application
    def slow_endpoint(request: Request) -> Response:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return Response("ok")

    endpoint = make_server("127.0.0.1", 0, slow_endpoint, threaded=True)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    server, url = serve_in_thread(webhook_url=f"http://127.0.0.1:{endpoint.server_port}/", webhook_secret="whsec_x",
                                  webhook_workers=4, **fast_retries)
    try:
        client = make_client(url)
        for _ in range(8):
            submit_pay_page(client.v1.checkout.sessions.create(session_params()).url)
        deadline = time.monotonic() + 10
        while any(r.delivery_status != "delivered" for r in server.sandbox.events()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert most[0] >= 2  # one worker would have delivered them one at a time
    finally:
        server.stop()
        endpoint.shutdown()


def test_sessions_are_listed_by_creation_time(make_client, session_params, fast_retries):
    now = [1_800_000_000.0]
    server, url = serve_in_thread(webhook_url=None, webhook_secret="whsec_x", clock=lambda: now[0], **fast_retries)
    try:
        client = make_client(url)
        early = client.v1.checkout.sessions.create(session_params())
        now[0] += 3600
        late = client.v1.checkout.sessions.create(session_params())
        since = client.v1.checkout.sessions.list({"created": {"gte": 1_800_000_000 + 60}})
        assert [s.id for s in since.data] == [late.id]
        assert {s.id for s in client.v1.checkout.sessions.list({"created": {"lt": 1_800_000_001}}).data} == {early.id}
    finally:
        server.stop()


def test_as_its_own_process_it_answers_only_its_key_and_keeps_helpers_off(tmp_path):
    from bench.stack import free_port, http_status, wait_until

    port = free_port()
    env = {**os.environ, "STRIPE_SANDBOX_API_KEY": "sk_test_process_key_0123456789abcdef"}
    env.pop("STRIPE_WEBHOOK_SECRET", None)
    process = subprocess.Popen([sys.executable, "-m", "resident_app.payments.sandbox", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_status(f"{url}/v1/checkout/sessions") == 401, 20, "the sandbox process")
        mine = stripe.StripeClient(env["STRIPE_SANDBOX_API_KEY"], base_addresses={"api": url})
        assert mine.v1.checkout.sessions.list().data == []
        with pytest.raises(stripe.AuthenticationError):
            stripe.StripeClient("sk_test_someone_else", base_addresses={"api": url}).v1.checkout.sessions.list()
        assert http_status(f"{url}/_sandbox/events") == 404
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "STRIPE_WEBHOOK_SECRET=whsec_sandbox_" in output  # generated, and said so
    assert "sk_test_process_key" not in output  # a key it was given is never printed


def test_a_bad_drop_share_is_refused():
    with pytest.raises(ValueError):
        create_sandbox_app(None, "whsec_x", drop_webhooks_percent=120)
    assert get_sandbox(create_sandbox_app(None, "whsec_x")).api_key.startswith("sk_test_sandbox_")
