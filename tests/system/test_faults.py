"""No payment is ever lost: scripted faults against real gunicorn workers on PostgreSQL and Redis,
with the sandbox process delivering signed webhooks (issue 9's four fault tests)."""
from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import text

from bench.resident import Resident, session_id
from bench.stack import wait_until
from resident_app.payments.sandbox import signature_header

SLUG = "demo-bus"  # ¥100 community-bus fare from `flask seed --demo`
COMPLETED = "checkout.session.completed"


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()


def in_parallel(function, items, workers: int = 16) -> list:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def start_checkouts(stack, count: int, address: str) -> list[tuple[Resident, str]]:
    """`count` residents, each with their own session, checked out: (resident, pay page URL)."""
    def start(_):
        resident = Resident(stack.app_url, address=address)
        return resident, resident.start(SLUG)
    return in_parallel(start, range(count))


def completed_events(stack, sessions: set[str]) -> dict[str, dict]:
    """The sandbox's checkout.session.completed events for these sessions, by session id."""
    events = stack.sandbox_call(f"/_sandbox/events?type={COMPLETED}")
    return {e["event"]["data"]["object"]["id"]: e for e in events
            if e["event"]["data"]["object"]["id"] in sessions}


def settled(stack, sessions: set[str]) -> dict[str, dict] | None:
    """The events once none is waiting for another delivery attempt."""
    events = completed_events(stack, sessions)
    if len(events) == len(sessions) and all(
            e["delivery_status"] in ("delivered", "dropped", "failed") for e in events.values()):
        return events
    return None


def ledger_for(site_db, sessions: set[str]) -> dict[str, list[tuple[str, int, int]]]:
    """Per session: its contributions as (status, paid audit rows, stripe_events rows)."""
    with site_db.connect() as connection:
        rows = connection.execute(text(
            "SELECT c.stripe_session_id, c.status, "
            " (SELECT count(*) FROM audit_log a WHERE a.object_type = 'contribution' "
            "    AND a.object_id = CAST(c.id AS VARCHAR) AND a.action = 'contribution.paid') "
            "FROM contributions c WHERE c.stripe_session_id = ANY(:ids)"), {"ids": list(sessions)}).all()
    found: dict[str, list[tuple[str, int]]] = {s: [] for s in sessions}
    for sid, status, audits in rows:
        found[sid].append((status, audits))
    return found


def assert_each_paid_exactly_once(site_db, sessions: set[str]) -> None:
    ledger = ledger_for(site_db, sessions)
    wrong = {sid: rows for sid, rows in ledger.items() if rows != [("paid", 1)]}
    assert not wrong, f"{len(wrong)} of {len(sessions)} sessions not exactly one paid contribution: {wrong}"


def reconcile(stack) -> str:
    return stack.flask("payments", "reconcile", "--since", today()).stdout


def test_a_burst_of_200_completions_while_a_worker_is_killed_loses_nothing(stack, site_db):
    residents = start_checkouts(stack, 200, address="203.0.113.10")
    sessions = {session_id(url) for _, url in residents}
    assert len(sessions) == 200
    paid = threading.Semaphore(0)
    interrupted: list[str] = []

    def complete(item):
        index, (resident, pay_url) = item
        success_url = resident.pay(pay_url)
        paid.release()
        if index % 2:  # half the residents come back to the thanks page, half close the browser
            try:
                resident.thanks(success_url)
            except requests.ConnectionError:
                interrupted.append(session_id(pay_url))  # their worker was the one killed

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        burst = pool.map(complete, enumerate(residents))
        for _ in range(40):
            paid.acquire()
        # Mid-burst, the worker that is handling a webhook delivery right now (any worker if the
        # moment passes): the sandbox sees its connection drop and must deliver again.
        deadline = time.monotonic() + 10
        victim = None
        while victim is None and time.monotonic() < deadline:
            victim = stack.worker_serving_sandbox()
        caught_webhook = victim is not None
        victim = victim or stack.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        list(burst)

    wait_until(lambda: victim not in stack.worker_pids() and len(stack.worker_pids()) == 4, 60,
               "gunicorn to replace the killed worker")
    events = wait_until(lambda: settled(stack, sessions), 120, "webhook deliveries to settle")
    retried = sum(1 for e in events.values() if e["attempts"] > 1)
    output = reconcile(stack)
    assert "unknown here" in output
    assert_each_paid_exactly_once(site_db, sessions)
    print(f"\nfault 1: 200 sessions, killed worker {'was' if caught_webhook else 'was not'} mid-webhook, "
          f"{retried} webhooks delivered again after a failed attempt, "
          f"{len(interrupted)} thanks pages cut by the kill; reconcile: {output.splitlines()[0]}")


def test_database_stopped_during_a_webhook_answers_5xx_and_the_retry_succeeds(stack, site_db):
    [(resident, pay_url)] = start_checkouts(stack, 1, address="203.0.113.11")
    sid = session_id(pay_url)
    stack.relay.cut()  # the app's database connections die and new ones are refused
    try:
        resident.pay(pay_url)  # the sandbox now sends checkout.session.completed
        failed = wait_until(lambda: (completed_events(stack, {sid}).get(sid) or {}).get("attempts", 0) >= 2
                            and completed_events(stack, {sid})[sid], 30, "two failed deliveries")
    finally:
        stack.relay.resume()
    assert failed["delivery_status"] == "retrying"
    assert 500 <= failed["last_status_code"] < 600
    delivered = wait_until(lambda: (e := completed_events(stack, {sid})[sid])["delivery_status"] == "delivered"
                           and e, 30, "the retry to succeed")
    assert delivered["last_status_code"] == 200
    assert_each_paid_exactly_once(site_db, {sid})


def test_the_same_event_at_the_same_instant_to_two_workers_counts_once(stack, site_db):
    stack.set_webhook_drop(100)  # the sandbox keeps the events; this test delivers them itself
    try:
        residents = start_checkouts(stack, 20, address="203.0.113.12")
        in_parallel(lambda item: item[0].pay(item[1]), residents)
    finally:
        stack.set_webhook_drop(0)
    sessions = {session_id(url) for _, url in residents}
    events = completed_events(stack, sessions)
    assert len(events) == 20 and {e["delivery_status"] for e in events.values()} == {"dropped"}

    def deliver_twice(event: dict) -> list[dict]:
        barrier = threading.Barrier(2)
        payload = json.dumps(event["event"])

        def post(_):
            signature = signature_header(payload, stack.webhook_secret)
            barrier.wait()
            response = requests.post(f"{stack.app_url}/webhooks/stripe", data=payload.encode(), timeout=30,
                                     headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
            return {"status": response.status_code, **response.json()}
        return in_parallel(post, range(2), workers=2)

    answers = in_parallel(deliver_twice, list(events.values()), workers=4)
    assert all(a["status"] == 200 for pair in answers for a in pair), answers
    assert_each_paid_exactly_once(site_db, sessions)
    with site_db.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM stripe_events WHERE id = ANY(:ids)"),
                                    {"ids": [e["id"] for e in events.values()]}).scalar()
    assert stored == 20
    outcomes = sorted("+".join(sorted(a["outcome"] for a in pair)) for pair in answers)
    print(f"\nfault 3: 20 events each sent twice at once; answers per pair: "
          f"{ {o: outcomes.count(o) for o in set(outcomes)} }")


def test_reconcile_finds_every_webhook_the_sandbox_dropped(stack, site_db):
    stack.set_webhook_drop(20)
    try:
        residents = start_checkouts(stack, 50, address="203.0.113.13")
        in_parallel(lambda item: item[0].pay(item[1]), residents)  # nobody comes back to the site
    finally:
        stack.set_webhook_drop(0)
    sessions = {session_id(url) for _, url in residents}
    events = wait_until(lambda: settled(stack, sessions), 60, "webhook deliveries to settle")
    dropped = {sid for sid, e in events.items() if e["delivery_status"] == "dropped"}
    assert dropped and {e["delivery_status"] for e in events.values()} <= {"dropped", "delivered"}
    ledger = ledger_for(site_db, sessions)
    assert {sid for sid, rows in ledger.items() if rows == [("pending", 0)]} == dropped

    output = reconcile(stack)
    fulfilled = {line.split()[1] for line in output.splitlines() if line.startswith("fulfilled ")}
    assert fulfilled == dropped
    assert_each_paid_exactly_once(site_db, sessions)
    again = reconcile(stack)
    assert " 0 fulfilled now" in again and "fulfilled cs_" not in again
    print(f"\nfault 4: 50 sessions, {len(dropped)} webhooks dropped, reconcile fulfilled {len(fulfilled)}")
