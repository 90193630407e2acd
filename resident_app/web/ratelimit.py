"""Rate limits that protect the site without turning a crowd away, and the page that says when to
come back.

A festival's phones share one public address (the venue's Wi-Fi, a carrier's NAT), so a checkout is
limited per browser session and per add-on, with only a high ceiling per address; saving a
calculator result (a row each, kept until deleted) likewise per browser, with a ceiling per address. Log-in and
sign-up stay strict per address, plus the per-account lock-out in auth/lockout.py. Counts live in
RATELIMIT_STORAGE_URI (Redis, shared by every worker); if Redis fails, Flask-Limiter counts in
memory and the request is served.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import datetime, timezone

from flask import current_app, render_template, request, session, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter

log = logging.getLogger(__name__)

CHECKOUT_PER_SESSION = "10 per minute;30 per hour"  # one phone paying again and again
CHECKOUT_PER_ADDON = "1200 per minute"              # a flood on one add-on, whatever its source
CALCULATOR_SAVE_PER_BROWSER = "10 per minute;100 per day"  # far more than anyone saves by hand
DEFAULT_RETRY_SECONDS = 60


def browser_key() -> str:
    """One browser: its session's CSRF secret (every checkout form posts from a session that has
    one), hashed; a request without a session counts against its address."""
    secret = session.get("csrf_token")
    if not secret:
        return f"address:{get_remote_address()}"
    return "browser:" + hashlib.sha256(str(secret).encode()).hexdigest()[:24]


def checkout_per_session() -> str:
    return CHECKOUT_PER_SESSION


def checkout_per_addon() -> str:
    return CHECKOUT_PER_ADDON


def addon_key() -> str:
    """One add-on, whoever pays for it."""
    return "addon:" + str((request.view_args or {}).get("slug", ""))[:32]


def checkout_per_address() -> str:
    """The ceiling for one address, sized for a crowd behind one NAT (CHECKOUT_LIMIT_PER_ADDRESS)."""
    return current_app.config["CHECKOUT_LIMIT_PER_ADDRESS"]


def calculator_save_per_browser() -> str:
    return CALCULATOR_SAVE_PER_BROWSER


def calculator_save_per_address() -> str:
    """The ceiling for one address, sized for a class behind one NAT (CALCULATOR_SAVE_LIMIT_PER_ADDRESS)."""
    return current_app.config["CALCULATOR_SAVE_LIMIT_PER_ADDRESS"]


def retry_after(error: TooManyRequests) -> int:
    """Seconds until the breached limit lets this client in again."""
    if error.retry_after is not None:  # set by the log-in lock-out
        seconds = error.retry_after
        if isinstance(seconds, datetime):
            return max(1, math.ceil((seconds - datetime.now(timezone.utc)).total_seconds()))
        return max(1, int(seconds))
    try:
        current = limiter.current_limit
        if current is not None:
            return max(1, int(current.reset_at - time.time()))  # as Flask-Limiter's Retry-After
    except Exception:  # the storage went away between the check and now: a minute is a fair guess
        log.warning("could not read the rate limit's reset time", exc_info=True)
    return DEFAULT_RETRY_SECONDS


def _way_back() -> str:
    """Where "Try again" goes: the form the person came from, or this page."""
    endpoint = request.endpoint or ""
    if endpoint == "checkout.checkout":
        return url_for("checkout.addon", slug=(request.view_args or {}).get("slug", ""))
    if endpoint == "public.calculator_save":
        return url_for("public.calculator")
    if request.method == "GET":
        return request.full_path.rstrip("?")
    if endpoint.startswith("auth."):
        return request.path
    return url_for("public.home")


def too_many_requests(error: TooManyRequests):
    """429 in the person's language: what happened, when to try again, and a way back."""
    seconds = retry_after(error)
    at = datetime.now(timezone.utc).timestamp() + seconds
    when = format_time(datetime.fromtimestamp(at, timezone.utc), format="short")
    if seconds < 90:
        wait = _("Please try again in about %(seconds)d seconds (at %(time)s).", seconds=seconds, time=when)
    else:
        wait = _("Please try again in about %(minutes)d minutes (at %(time)s).",
                 minutes=math.ceil(seconds / 60), time=when)
    locked = getattr(error, "account_locked", False)
    if request.path.startswith("/api/"):
        from flask import jsonify

        response = jsonify({"error": {"status": 429, "message": wait, "retry_after": seconds}})
    else:
        response = current_app.make_response(render_template(
            "errors/too_many.html", wait=wait, seconds=seconds, locked=locked, back=_way_back(),
            checkout=request.endpoint == "checkout.checkout", saving=request.endpoint == "public.calculator_save"))
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response
