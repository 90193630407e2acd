"""Run the Stripe sandbox as its own process: python -m resident_app.payments.sandbox --port 12111.

Several app workers share one sandbox this way (`make serve` with ALLOW_PAYMENT_SANDBOX=1 starts
it from gunicorn.conf.py; the fault and load tests start it themselves). The API key and the
webhook signing secret come from the environment (STRIPE_SANDBOX_API_KEY, STRIPE_WEBHOOK_SECRET),
not from the command line where `ps` would show them; missing ones are generated and printed.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys

from werkzeug.serving import make_server

from . import _QuietRequestHandler
from .app import create_sandbox_app, new_api_key
from .webhooks import RetryPolicy


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    defaults = RetryPolicy()
    parser = argparse.ArgumentParser(description="Local Stripe-compatible sandbox (test mode only).")
    parser.add_argument("--host", default="127.0.0.1", help="keep it local")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None, help="where events are POSTed (omit to only store them)")
    parser.add_argument("--public-base-url", default=None, help="base URL browsers use to reach the pay page")
    parser.add_argument("--debug-endpoints", action="store_true",
                        help="add the unauthenticated /_sandbox/* helpers (development and tests only)")
    parser.add_argument("--drop-webhooks", type=int, metavar="PERCENT",
                        default=int(os.environ.get("STRIPE_SANDBOX_DROP_WEBHOOKS", "0") or 0),
                        help="never send this share of new events (to test reconciliation)")
    parser.add_argument("--webhook-workers", type=int, default=4, help="deliveries in flight at once")
    parser.add_argument("--webhook-max-attempts", type=int, default=defaults.max_attempts)
    parser.add_argument("--webhook-retry-base", type=float, default=defaults.base_delay, help="seconds")
    parser.add_argument("--webhook-retry-cap", type=float, default=defaults.max_delay, help="seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s [sandbox] %(levelname)s %(message)s")
    api_key = os.environ.get("STRIPE_SANDBOX_API_KEY") or new_api_key()
    webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_sandbox_" + secrets.token_hex(16)
    for name, value in (("STRIPE_SANDBOX_API_KEY", api_key), ("STRIPE_WEBHOOK_SECRET", webhook_secret)):
        if not os.environ.get(name):
            print(f"{name}={value}  (generated: give the app the same)", flush=True)
    app = create_sandbox_app(
        args.webhook_url, webhook_secret, args.public_base_url, api_key=api_key,
        debug_endpoints=args.debug_endpoints, drop_webhooks_percent=args.drop_webhooks,
        webhook_workers=args.webhook_workers, webhook_max_attempts=args.webhook_max_attempts,
        webhook_retry_base=args.webhook_retry_base, webhook_retry_cap=args.webhook_retry_cap)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=_QuietRequestHandler)
    logging.getLogger(__name__).info("Stripe sandbox on http://%s:%d (test payments only)", args.host,
                                     server.server_port)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
