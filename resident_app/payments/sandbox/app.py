"""The sandbox WSGI app: Stripe's /v1 endpoints the project uses, a hosted pay page, debug endpoints."""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from .disputes import register_dispute_routes
from .errors import ApiError, invalid
from .objects import API_VERSION, CheckoutSession, EventRecord, IdempotencyRecord, new_id
from .params import as_expand, as_int, decode_params, fingerprint
from .store import SandboxStore
from .validation import parse_refund_create, parse_session_create
from .webhooks import RetryPolicy, WebhookDispatcher

log = logging.getLogger(__name__)

EXTENSION_KEY = "stripe_sandbox"
# The pay page has no scripts and no external assets; only its own inline <style>.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
            "frame-ancestors 'none'")


def new_api_key() -> str:
    """A fresh secret key for one sandbox run: the only key its API will answer."""
    return "sk_test_sandbox_" + secrets.token_hex(16)


class Sandbox:
    """Everything one sandbox app owns: its state, its webhook dispatcher and its settings."""

    def __init__(self, webhook_url: str | None, webhook_secret: str, public_base_url: str | None,
                 policy: RetryPolicy, clock: Callable[[], float], api_key: str,
                 drop_webhooks_percent: int = 0, webhook_workers: int = 1) -> None:
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.api_key = api_key
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.store = SandboxStore(webhooks_enabled=webhook_url is not None, clock=clock)
        self.dispatcher = (WebhookDispatcher(self.store, webhook_url, webhook_secret, policy,
                                             drop_percent=drop_webhooks_percent, workers=webhook_workers)
                           if webhook_url is not None else None)

    def reset(self) -> None:
        """Forget all sessions, payments, events and idempotency keys."""
        self.store.reset()

    def events(self, event_type: str | None = None) -> list[EventRecord]:
        """Stored events, oldest first, optionally of one type."""
        with self.store.lock:
            return [e for e in self.store.events.values() if event_type is None or e.type == event_type]

    def close(self) -> None:
        """Stop webhook delivery (the store stays readable)."""
        if self.dispatcher is not None:
            self.dispatcher.close()


def get_sandbox(app: Flask | None = None) -> Sandbox:
    """The Sandbox behind a sandbox app (the current one by default)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def create_sandbox_app(
    webhook_url: str | None,
    webhook_secret: str,
    public_base_url: str | None = None,
    *,
    webhook_max_attempts: int = 8,
    webhook_retry_base: float = 1.0,
    webhook_retry_cap: float = 60.0,
    webhook_timeout: float = 10.0,
    webhook_workers: int = 1,
    drop_webhooks_percent: int = 0,
    api_key: str | None = None,
    debug_endpoints: bool = False,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the sandbox WSGI app; events go to webhook_url signed with webhook_secret (None: stored only).

    The API answers only `api_key` (a fresh one when None: read it from get_sandbox(app).api_key).
    `debug_endpoints` adds the unauthenticated /_sandbox/* helpers, for development and tests only.
    `drop_webhooks_percent` of new events are never sent (to test reconciliation)."""
    if not 0 <= drop_webhooks_percent <= 100:
        raise ValueError("drop_webhooks_percent must be from 0 to 100")
    app = Flask(__name__, template_folder="templates", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    policy = RetryPolicy(max_attempts=webhook_max_attempts, base_delay=webhook_retry_base,
                         max_delay=webhook_retry_cap, timeout=webhook_timeout)
    app.extensions[EXTENSION_KEY] = Sandbox(webhook_url, webhook_secret, public_base_url, policy, clock,
                                            api_key or new_api_key(), drop_webhooks_percent, webhook_workers)
    _register_api(app)
    if debug_endpoints:
        _register_debug(app)
    _register_pay_page(app)
    register_dispute_routes(app, lambda: get_sandbox().store, _json)
    return app


# --- Shared helpers ---------------------------------------------------------------------------


def _json(obj: Any, status: int = 200) -> Response:
    # Stripe pretty-prints its JSON; the SDK does not care, people reading logs do.
    return Response(json.dumps(obj, ensure_ascii=False, indent=2), status=status, mimetype="application/json")


def _is_api() -> bool:
    return request.path.startswith("/v1/")


def _pay_page_base() -> str:
    sandbox = get_sandbox()
    return sandbox.public_base_url or request.host_url.rstrip("/")


def _request_pairs() -> list[tuple[str, str]]:
    """All parameters of the request as decoded form pairs (Stripe accepts query and body alike)."""
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += list(request.form.items(multi=True))
    return pairs


def _redact(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:] if len(key) > 12 else "****"


def _authenticate() -> str:
    """The caller's secret key; 401 in Stripe's shape unless it is the key this sandbox was started with."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    key = ""
    if scheme.lower() == "bearer":
        key = value.strip()
    elif scheme.lower() == "basic":
        # curl -u sk_test_...: also works against Stripe.
        try:
            key = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    if not key:
        raise ApiError(401, "You did not provide an API key. You need to provide your API key in the "
                            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                            "YOUR_SECRET_KEY').")
    if not key.startswith("sk_test_"):
        raise ApiError(401, f"Invalid API Key provided: {_redact(key)}. The Stripe sandbox accepts only "
                            "test-mode secret keys (sk_test_...).")
    if not hmac.compare_digest(key.encode(), get_sandbox().api_key.encode()):
        raise ApiError(401, f"Invalid API Key provided: {_redact(key)}. This sandbox answers only the key "
                            "it was started with.")
    return key


def _idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Apply Stripe's idempotency rules to a POST endpoint.

    The whole request runs under the store lock, so a retry that races its original sees either
    nothing or the finished response. Only successful responses are saved: Stripe does not save
    results of requests that failed validation.
    """

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Response:
        store = get_sandbox().store
        key = request.headers.get("Idempotency-Key")
        if key is not None and len(key) > 255:
            raise invalid("Idempotency-Key must be at most 255 characters long.", param="Idempotency-Key")
        with store.lock:
            if key:
                saved = store.idempotent_replay(g.api_key, key, request.method, request.path, g.fingerprint)
                if saved is not None:
                    response = Response(saved.body, status=saved.status, mimetype="application/json")
                    response.headers["Idempotent-Replayed"] = "true"
                    response.headers["Original-Request"] = saved.request_id
                    return response
            response = view(**kwargs)
            if key and 200 <= response.status_code < 300:
                store.save_idempotent(g.api_key, key, IdempotencyRecord(
                    method=request.method, path=request.path, fingerprint=g.fingerprint,
                    status=response.status_code, body=response.get_data(), request_id=g.request_id,
                    created=store.clock()))
            return response

    return wrapper


def _request_info() -> tuple[str | None, str | None]:
    return g.request_id, request.headers.get("Idempotency-Key")


def _expand_session(session: CheckoutSession, expand: list[str]) -> dict[str, Any]:
    """The session object with the expansions the sandbox supports (others are ignored)."""
    store = get_sandbox().store
    obj = session.to_stripe()
    if "line_items" in expand:
        obj["line_items"] = _list_object([i.to_stripe() for i in session.line_items],
                                         f"/v1/checkout/sessions/{session.id}/line_items", has_more=False)
    if "payment_intent" in expand and session.payment_intent_id:
        obj["payment_intent"] = store.payment_intents[session.payment_intent_id].to_stripe()
    return obj


def _within(value: int, bounds: dict[str, int]) -> bool:
    """Whether a timestamp passes Stripe's range filter (gt, gte, lt, lte)."""
    return all({"gt": value > limit, "gte": value >= limit, "lt": value < limit, "lte": value <= limit}[op]
               for op, limit in bounds.items())


def _list_object(data: list[dict[str, Any]], url: str, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """Stripe cursor pagination over already-ordered objects (limit, starting_after, ending_before)."""
    limit = as_int(params["limit"], "limit", minimum=1, maximum=100) if params.get("limit") else 10
    ids = [item["id"] for item in items]
    if params.get("starting_after"):
        cursor = params["starting_after"]
        if cursor not in ids:
            raise invalid(f"No such object: '{cursor}'", param="starting_after", code="resource_missing")
        items = items[ids.index(cursor) + 1:]
    elif params.get("ending_before"):
        cursor = params["ending_before"]
        if cursor not in ids:
            raise invalid(f"No such object: '{cursor}'", param="ending_before", code="resource_missing")
        items = items[:ids.index(cursor)][-limit:]
    return _list_object(items[:limit], url, has_more=len(items) > limit)


# --- /v1: the Stripe API -------------------------------------------------------------------------


def _register_api(app: Flask) -> None:
    """Stripe-compatible endpoints, authenticated with a test secret key."""

    @app.before_request
    def _api_prologue() -> None:
        if not _is_api():
            return
        g.request_id = new_id("req_", 14)
        g.api_key = _authenticate()
        pairs = _request_pairs()
        g.fingerprint = fingerprint(pairs)
        g.params = decode_params(pairs)
        get_sandbox().store.expire_due_sessions()

    @app.after_request
    def _api_headers(response: Response) -> Response:
        if _is_api():
            response.headers.setdefault("Request-Id", g.get("request_id") or new_id("req_", 14))
            response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", API_VERSION)
            response.headers["Cache-Control"] = "no-cache, no-store"
        return response

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return _json(error.to_dict(), error.status)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if not _is_api():
            return error.get_response()
        if error.code in (404, 405):
            message = (f"Unrecognized request URL ({request.method}: {request.path}). The Stripe sandbox "
                       "implements only the endpoints the resident app uses.")
            return _json(ApiError(404, message).to_dict(), 404)
        return _json(ApiError(error.code or 400, error.description or "Bad request").to_dict(), error.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("Stripe sandbox: unexpected error")
        body = ApiError(500, f"Sandbox internal error: {type(error).__name__}: {error}", type="api_error")
        return _json(body.to_dict(), 500)

    @app.post("/v1/checkout/sessions")
    @_idempotent
    def create_checkout_session() -> Response:
        store = get_sandbox().store
        spec = parse_session_create(g.params, store.now())
        session = store.create_session(spec, _pay_page_base())
        return _json(_expand_session(session, as_expand(g.params)))

    @app.get("/v1/checkout/sessions")
    def list_checkout_sessions() -> Response:
        store = get_sandbox().store
        with store.lock:
            sessions = sorted(store.sessions.values(), key=lambda s: s.created, reverse=True)
            created = g.params.get("created")
            if isinstance(created, dict):  # created[gte]=..., as Stripe's list filters take it
                bounds = {op: as_int(created[op], f"created[{op}]") for op in ("gt", "gte", "lt", "lte")
                          if created.get(op) not in (None, "")}
                sessions = [s for s in sessions if _within(s.created, bounds)]
            for name in ("payment_intent", "status"):
                if g.params.get(name):
                    attr = "payment_intent_id" if name == "payment_intent" else name
                    sessions = [s for s in sessions if getattr(s, attr) == g.params[name]]
            items = [s.to_stripe() for s in sessions]
        return _json(_paginate(items, g.params, "/v1/checkout/sessions"))

    @app.get("/v1/checkout/sessions/<session_id>")
    def retrieve_checkout_session(session_id: str) -> Response:
        store = get_sandbox().store
        with store.lock:
            session = store.get_session(session_id)
            return _json(_expand_session(session, as_expand(g.params)))

    @app.get("/v1/checkout/sessions/<session_id>/line_items")
    def list_line_items(session_id: str) -> Response:
        store = get_sandbox().store
        with store.lock:
            session = store.get_session(session_id)
            items = [item.to_stripe() for item in session.line_items]
        return _json(_paginate(items, g.params, f"/v1/checkout/sessions/{session_id}/line_items"))

    @app.post("/v1/checkout/sessions/<session_id>/expire")
    @_idempotent
    def expire_checkout_session(session_id: str) -> Response:
        session = get_sandbox().store.expire_session(session_id, _request_info())
        return _json(_expand_session(session, as_expand(g.params)))

    @app.post("/v1/refunds")
    @_idempotent
    def create_refund() -> Response:
        refund = get_sandbox().store.create_refund(parse_refund_create(g.params), _request_info())
        return _json(refund.to_stripe())

    @app.get("/v1/refunds/<object_id>")
    def retrieve_refund(object_id: str) -> Response:
        return _json(get_sandbox().store.get_object("refund", object_id).to_stripe())

    @app.get("/v1/payment_intents/<object_id>")
    def retrieve_payment_intent(object_id: str) -> Response:
        return _json(get_sandbox().store.get_object("payment_intent", object_id).to_stripe())

    @app.get("/v1/charges/<object_id>")
    def retrieve_charge(object_id: str) -> Response:
        return _json(get_sandbox().store.get_object("charge", object_id).to_stripe())

    @app.get("/v1/events/<event_id>")
    def retrieve_event(event_id: str) -> Response:
        return _json(get_sandbox().store.get_event(event_id).event)


# --- /_sandbox: debugging and test hooks (no Stripe equivalent) -----------------------------------


def _register_debug(app: Flask) -> None:
    """Unauthenticated helpers for developers and tests; the sandbox must only listen locally."""

    @app.get("/_sandbox/health")
    def health() -> Response:
        return _json({"ok": True, "webhook_url": get_sandbox().webhook_url})

    @app.get("/_sandbox/events")
    def list_events() -> Response:
        event_type = request.args.get("type") or None
        with get_sandbox().store.lock:
            return _json([e.to_debug() for e in get_sandbox().events(event_type)])

    @app.post("/_sandbox/events/<event_id>/resend")
    def resend_event(event_id: str) -> Response:
        sandbox = get_sandbox()
        with sandbox.store.lock:
            record = sandbox.store.get_event(event_id)
            if sandbox.dispatcher is None:
                raise ApiError(409, "No webhook_url is configured, so events cannot be delivered.")
            sandbox.dispatcher.resend(record)
            return _json(record.to_debug(), 202)

    @app.post("/_sandbox/sessions/<session_id>/async_succeed")
    def async_succeed(session_id: str) -> Response:
        return _json(get_sandbox().store.settle_async(session_id, succeeded=True).to_stripe())

    @app.post("/_sandbox/sessions/<session_id>/async_fail")
    def async_fail(session_id: str) -> Response:
        return _json(get_sandbox().store.settle_async(session_id, succeeded=False).to_stripe())

    @app.post("/_sandbox/settings")
    def change_settings() -> Response:
        """Change run-time settings: drop_webhooks_percent (0-100) of new events are never sent."""
        sandbox = get_sandbox()
        raw = request.form.get("drop_webhooks_percent", request.args.get("drop_webhooks_percent"))
        if raw is not None:
            percent = as_int(raw, "drop_webhooks_percent", minimum=0, maximum=100)
            if sandbox.dispatcher is None:
                raise ApiError(409, "No webhook_url is configured, so no events are sent or dropped.")
            sandbox.dispatcher.drop_percent = percent
        return _json({"drop_webhooks_percent": sandbox.dispatcher.drop_percent if sandbox.dispatcher else 0})

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        get_sandbox().reset()
        return Response(status=204)


# --- /pay: the hosted payment page ---------------------------------------------------------------


def _page(session: CheckoutSession | None, status: int = 200, notice: str | None = None) -> Response:
    html = render_template("sandbox/pay.html", session=session, notice=notice)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _success_url(session: CheckoutSession) -> str:
    # Stripe substitutes this literal template variable, nothing else.
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


def _register_pay_page(app: Flask) -> None:
    """The page a customer is redirected to instead of checkout.stripe.com."""

    @app.get("/pay/<session_id>")
    def pay_page(session_id: str) -> Response:
        store = get_sandbox().store
        with store.lock:
            session = store.sessions.get(session_id)
            if session is None:
                return _page(None, 404, notice="not_found")
            store.expire_due_sessions()
            return _page(session)

    @app.post("/pay/<session_id>")
    def pay_submit(session_id: str) -> Response:
        store = get_sandbox().store
        with store.lock:
            session = store.sessions.get(session_id)
            if session is None:
                return _page(None, 404, notice="not_found")
            token = request.form.get("form_token", "")
            if not hmac.compare_digest(token.encode(), session.form_token.encode()):
                return _page(session, 400, notice="bad_token")
            store.expire_due_sessions()
            action = request.form.get("action", "pay")
            if action in ("async_succeed", "async_fail"):
                if session.async_state != "pending":
                    return _page(session, 409, notice="not_pending")
                store.settle_async(session_id, succeeded=action == "async_succeed")
                return redirect(session.pay_url, code=303)
            if action not in ("pay", "konbini"):
                return _page(session, 400, notice="bad_action")
            if session.status != "open":
                return _page(session, 409, notice="not_open")
            if action == "konbini" and not session.konbini_allowed:
                return _page(session, 400, notice="bad_action")
            store.complete_session(session_id, "konbini" if action == "konbini" else "card")
            return redirect(_success_url(session), code=303)

    @app.get("/pay/<session_id>/cancel")
    def pay_cancel(session_id: str) -> Response:
        store = get_sandbox().store
        with store.lock:
            session = store.sessions.get(session_id)
            if session is None:
                return _page(None, 404, notice="not_found")
            if session.status != "open" or not session.cancel_url:
                return _page(session, 409, notice="no_cancel")
            # The session stays open, as at Stripe: the customer may come back and pay.
            return redirect(session.cancel_url, code=303)
