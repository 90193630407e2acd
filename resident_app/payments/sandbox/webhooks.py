"""Signed webhook delivery from a background thread, with bounded exponential-backoff retries.

Delivery never happens inside the request that caused the event: a single-threaded app server
that is itself waiting on the sandbox would otherwise deadlock.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .objects import EventRecord
from .store import SandboxStore

log = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks) resident-app-sandbox"


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` value that stripe.Webhook.construct_event accepts for payload."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast failed deliveries are retried (tests use tiny delays)."""

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 10.0

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after the given failed attempt (1-based): base, 2×base, 4×base … capped."""
        return min(self.base_delay * (2 ** (attempt - 1)), self.max_delay)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe treats a redirect from a webhook endpoint as a failed delivery; so do we."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Refuse to follow: urllib then raises HTTPError with the 3xx status."""
        return None


class WebhookDispatcher:
    """Delivers stored events to one endpoint from daemon threads, retrying on failure.

    `workers` threads deliver at once, as Stripe does (so one app worker's death can interrupt a
    delivery); `drop_percent` of new events are never sent, to prove reconciliation finds them."""

    def __init__(self, store: SandboxStore, url: str, secret: str, policy: RetryPolicy | None = None, *,
                 drop_percent: int = 0, workers: int = 1) -> None:
        self.store = store
        self.url = url
        self.secret = secret
        self.policy = policy or RetryPolicy()
        self.drop_percent = drop_percent
        self.workers = max(1, workers)
        self._random = random.Random()  # nosec B311 - chooses which test webhooks to drop, not a secret
        # The queue shares the store's lock, so event state and schedule always agree.
        self._cond = threading.Condition(store.lock)
        self._queue: list[tuple[float, int, str, int]] = []  # (due, seq, event id, schedule token)
        self._seq = 0
        self._threads: list[threading.Thread] = []
        self._closed = False
        # A proxy from the environment must not intercept deliveries to a local app.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
        store.on_event = self._on_new_event

    def _on_new_event(self, record: EventRecord) -> None:
        """A new event: schedule its first delivery, unless this one is to be dropped."""
        with self._cond:
            if self.drop_percent and self._random.random() * 100 < self.drop_percent:
                record.delivery_status = "dropped"
                log.info("Stripe sandbox: dropping %s %s on purpose (never sent)", record.type, record.id)
                return
        self.enqueue(record)

    def enqueue(self, record: EventRecord, delay: float = 0.0) -> None:
        """Schedule a delivery attempt for the event after `delay` seconds."""
        with self._cond:
            if self._closed:
                return
            record.schedule_token += 1
            due = time.monotonic() + delay
            record.next_attempt_at = time.time() + delay
            self._seq += 1
            heapq.heappush(self._queue, (due, self._seq, record.id, record.schedule_token))
            if not self._threads:
                # Started lazily so apps that never emit an event never own a thread.
                for number in range(self.workers):
                    thread = threading.Thread(target=self._run, name=f"stripe-sandbox-webhooks-{number}",
                                              daemon=True)
                    self._threads.append(thread)
                    thread.start()
            self._cond.notify()

    def resend(self, record: EventRecord) -> None:
        """Start a fresh round of attempts for an event, as the Dashboard's "Resend" does."""
        with self._cond:
            record.delivery_status = "pending"
            record.round_attempts = 0
            self.enqueue(record)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the delivery thread; undelivered events stay in the store."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._next_due()
                if job is None:
                    return
                record, payload = job
            status, error = self._post(payload)
            with self._cond:
                self._record_result(record, status, error)

    def _next_due(self) -> tuple[EventRecord, str] | None:
        """Wait (lock held) for the next live queue entry; None once closed."""
        while not self._closed:
            if not self._queue:
                self._cond.wait()
                continue
            due, _, event_id, token = self._queue[0]
            wait = due - time.monotonic()
            if wait > 0:
                self._cond.wait(wait)
                continue
            heapq.heappop(self._queue)
            record = self.store.events.get(event_id)
            # Entries for events wiped by reset() or superseded by a resend are skipped.
            if record is None or record.schedule_token != token:
                continue
            record.attempts += 1
            record.round_attempts += 1
            record.last_attempt_at = time.time()
            record.next_attempt_at = None
            return record, record.payload
        return None

    def _post(self, payload: str) -> tuple[int | None, str | None]:
        """POST the event with a fresh signature; returns (HTTP status, error text)."""
        body = payload.encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(payload, self.secret),
            "User-Agent": USER_AGENT,
        })
        try:
            with self._opener.open(request, timeout=self.policy.timeout) as response:
                response.read(64 * 1024)
                return response.status, None
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"

    def _record_result(self, record: EventRecord, status: int | None, error: str | None) -> None:
        """Update delivery state (lock held) and schedule the next retry if one is due."""
        if self.store.events.get(record.id) is not record:
            return  # reset() happened while the request was in flight
        record.last_status_code = status
        if status is not None and 200 <= status < 300:
            record.delivery_status = "delivered"
            record.delivered_at = time.time()
            record.last_error = None
            return
        record.last_error = error or f"HTTP {status}"
        if record.round_attempts >= self.policy.max_attempts:
            record.delivery_status = "failed"
            log.warning("Stripe sandbox: giving up on %s %s after %d attempts (%s)",
                        record.type, record.id, record.round_attempts, record.last_error)
            return
        record.delivery_status = "retrying"
        self.enqueue(record, self.policy.delay_after(record.round_attempts))
