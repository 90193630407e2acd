"""Per-account lock-out for log-in, on top of the per-address limit.

10 wrong passwords for one e-mail address within 15 minutes pause log-in for that address for
15 minutes, whichever addresses the attempts came from. Counts live in the rate limiter's storage
(Redis in production), so every worker sees them; if that storage fails, this process counts on
its own and says so in the log. Unknown addresses are counted the same way, so a lock says
nothing about whether an account exists.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from ..extensions import limiter

log = logging.getLogger(__name__)

FAILURES = parse("10 per 15 minutes")
LOCK = parse("1 per 15 minutes")  # a fixed window: starts at the failure that locks

T = TypeVar("T")
_fallback = FixedWindowRateLimiter(MemoryStorage())


def _ids(kind: str, email: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]
    return current_app.config.get("RATELIMIT_KEY_PREFIX", ""), kind, digest


def _with_storage(action: Callable[[RateLimiter], T]) -> T:
    """Run against the shared storage; on failure, against this process's memory."""
    try:
        return action(FixedWindowRateLimiter(limiter.storage))
    except Exception:
        log.warning("log-in lock-out: rate limit storage unreachable, counting in this process",
                    exc_info=True)
        return action(_fallback)


def enabled() -> bool:
    return bool(limiter.enabled)


def locked_for(email: str) -> int:
    """Seconds until log-in reopens for this e-mail address (0: not locked)."""
    if not enabled() or not email:
        return 0

    def check(strategy: RateLimiter) -> int:
        if strategy.test(LOCK, *_ids("login-lock", email)):
            return 0
        reset = strategy.get_window_stats(LOCK, *_ids("login-lock", email)).reset_time
        return max(1, math.ceil(reset - time.time()))

    return _with_storage(check)


def record_failure(email: str) -> int:
    """Count a wrong password; returns the seconds of lock this failure started (0: none)."""
    if not enabled() or not email:
        return 0

    def hit(strategy: RateLimiter) -> int:
        strategy.hit(FAILURES, *_ids("login-failures", email))
        if strategy.test(FAILURES, *_ids("login-failures", email)):
            return 0  # fewer than 10 in the window so far
        strategy.clear(FAILURES, *_ids("login-failures", email))  # the lock takes over from here
        strategy.hit(LOCK, *_ids("login-lock", email))
        log.warning("log-in locked for 15 minutes after %d failures (account %s…)", FAILURES.amount,
                    _ids("x", email)[2][:8])
        return LOCK.get_expiry()

    return _with_storage(hit)


def clear_failures(email: str) -> None:
    """A correct password: earlier mistakes no longer count."""
    if enabled() and email:
        _with_storage(lambda strategy: strategy.clear(FAILURES, *_ids("login-failures", email)))
