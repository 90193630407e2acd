"""A local Stripe-compatible sandbox used when no STRIPE_SECRET_KEY is configured.

The app keeps using the real `stripe` SDK; only the base address and keys differ:

    server, url = serve_in_thread(webhook_url="http://127.0.0.1:5000/webhooks/stripe",
                                  webhook_secret="whsec_sandbox")
    client = stripe.StripeClient(server.api_key, base_addresses={"api": url}, max_network_retries=2)
    ...
    server.stop()

The API answers only the key the sandbox was started with (generated unless given). In a thread
(development, tests) the /_sandbox/* helpers are on; as its own process (`python -m
resident_app.payments.sandbox`, which `make serve` starts for several workers) they are off unless
asked for.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Sandbox, create_sandbox_app, get_sandbox, new_api_key
from .objects import API_VERSION
from .webhooks import signature_header

__all__ = [
    "API_VERSION",
    "Sandbox",
    "SandboxServer",
    "create_sandbox_app",
    "get_sandbox",
    "new_api_key",
    "serve_in_thread",
    "signature_header",
    "stop",
]


log = logging.getLogger(__name__)


class _QuietRequestHandler(WSGIRequestHandler):
    """Access lines go to this package's logger at DEBUG, not werkzeug's (which the app's dev server uses)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log one request line at DEBUG."""
        log.debug("%s %s -> %s", self.command, self.path, code)


class SandboxServer:
    """A sandbox app served by werkzeug in a daemon thread."""

    def __init__(self, wsgi_server: BaseWSGIServer, app: Flask, poll_interval: float) -> None:
        self.wsgi_server = wsgi_server
        self.app = app
        self.sandbox: Sandbox = get_sandbox(app)
        self.api_key = self.sandbox.api_key
        self.port: int = wsgi_server.server_port
        host = wsgi_server.host
        # A wildcard bind is reached through loopback; IPv6 literals need brackets in URLs.
        # A comparison with what the server bound, not a bind (bandit B104).
        if host in ("0.0.0.0", "::", ""):  # nosec B104
            host = "127.0.0.1"
        self.base_url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        self.thread = threading.Thread(target=wsgi_server.serve_forever, kwargs={"poll_interval": poll_interval},
                                       name=f"stripe-sandbox-{self.port}", daemon=True)
        self._stopped = False

    def start(self) -> None:
        """Start serving in the background thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and stop webhook delivery (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.wsgi_server.shutdown()
        self.wsgi_server.server_close()
        self.thread.join(5)
        self.sandbox.close()

    # werkzeug's server spells it shutdown(); accept both.
    shutdown = stop

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, *, poll_interval: float = 0.1,
                    **create_kwargs: Any) -> tuple[SandboxServer, str]:
    """Serve create_sandbox_app(**create_kwargs) on host:port (0 = any free port); returns (server, base_url).

    A sandbox in a thread belongs to development or a test: its /_sandbox/* helpers are on."""
    create_kwargs.setdefault("webhook_url", None)
    create_kwargs.setdefault("webhook_secret", "whsec_sandbox")
    create_kwargs.setdefault("debug_endpoints", True)
    app = create_sandbox_app(**create_kwargs)
    # Without public_base_url, pay-page URLs use the Host the API caller used, i.e. this address.
    wsgi_server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    server = SandboxServer(wsgi_server, app, poll_interval)
    server.start()
    return server, server.base_url


def stop(server: SandboxServer) -> None:
    """Stop a server started by serve_in_thread."""
    server.stop()
