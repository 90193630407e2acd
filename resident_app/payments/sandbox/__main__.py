"""Run the Stripe sandbox on its own: python -m resident_app.payments.sandbox --port 12111."""
from __future__ import annotations

import argparse
import logging

from werkzeug.serving import run_simple

from .app import create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Local Stripe-compatible sandbox (test mode only).")
    parser.add_argument("--host", default="127.0.0.1", help="keep it local: the debug endpoints have no auth")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None, help="where events are POSTed (omit to only store them)")
    parser.add_argument("--webhook-secret", default="whsec_sandbox")
    parser.add_argument("--public-base-url", default=None, help="base URL browsers use to reach the pay page")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = create_sandbox_app(args.webhook_url, args.webhook_secret, args.public_base_url)
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
