"""Disputes (chargebacks) end to end: a resident pays through the local Stripe sandbox, the sandbox
opens and decides a dispute and emits the signed events, the webhook handles them."""
from __future__ import annotations

from datetime import datetime, timezone

import requests
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import Batch, LedgerEntry, User
from resident_app.services.batches import close_batch, preview_batch

from .factories import contribution, deliver, events_for, pay, pool, session_id, start
from .pool_data import settle_batch

EN = {"Accept-Language": "en"}


def paid_through_stripe(client, stripe_sandbox, **form) -> tuple[str, str]:
    """Pay a bus fare on the sandbox's page and deliver the completion; (session id, payment intent)."""
    pay_url = start(client, **form)
    pay(pay_url)
    sid = session_id(pay_url)
    [event] = events_for(stripe_sandbox, sid, "checkout.session.completed")
    assert deliver(client, event).get_json()["outcome"] == "paid"
    return sid, event["data"]["object"]["payment_intent"]


def sandbox_post(stripe_sandbox, path: str, **form) -> dict:
    response = requests.post(f"{stripe_sandbox.base_url}{path}", data=form, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def dispute_events(stripe_sandbox, dispute_id: str, kind: str) -> list[dict]:
    return [r.event for r in stripe_sandbox.sandbox.events(kind) if r.event["data"]["object"]["id"] == dispute_id]


def certificate(client, demo, sid: str) -> str:
    token = contribution(demo, sid).certificate_token
    return client.get(f"/c/{token}", headers=EN).get_data(as_text=True)


def test_a_lost_dispute_is_held_out_of_batches_then_leaves_the_pool(client, demo, stripe_sandbox):
    sid, intent = paid_through_stripe(client, stripe_sandbox, quantity="3")          # ¥300, 30 kg
    other, _ = paid_through_stripe(client, stripe_sandbox)                          # ¥100, 10 kg
    assert pool(client)["paid_yen"] == 400

    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=intent, reason="fraudulent")
    assert (dispute["object"], dispute["status"], dispute["amount"]) == ("dispute", "needs_response", 300)
    [created] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.created")
    [withdrawn] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.funds_withdrawn")
    assert deliver(client, created).get_json()["outcome"] == "dispute_opened"
    assert deliver(client, withdrawn).get_json()["outcome"] == "ignored"     # 2xx: Stripe stops sending it
    assert deliver(client, created).get_json()["outcome"] == "duplicate"

    # Opened: still counted (the bank has not decided), held out of the next batch, shown as such.
    assert pool(client)["paid_yen"] == 400
    with demo.app_context():
        staff = db.session.scalar(select(User).where(User.role == "staff"))
        assert preview_batch(datetime.now(timezone.utc)).contribution_count == 1
        batch = close_batch(datetime.now(timezone.utc), actor=staff)
        assert batch.contribution_count == 1 and batch.paid_yen == 100
    assert contribution(demo, sid).batch_id is None
    assert contribution(demo, other).batch_id == batch.id
    assert "Under dispute" in certificate(client, demo, sid)

    # Lost: exactly a refund of what was left.
    closed = sandbox_post(stripe_sandbox, f"/_sandbox/disputes/{dispute['id']}/close", status="lost")
    assert closed["status"] == "lost"
    [event] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.closed")
    assert event["data"]["object"]["status"] == "lost"
    assert deliver(client, event).get_json()["outcome"] == "dispute_lost"
    row = contribution(demo, sid)
    assert (row.status, row.dispute_status, row.refunded_yen, row.refunded_g) == ("refunded", "lost", 300, 30_000)
    figures = pool(client)
    assert (figures["contributions"], figures["paid_yen"], figures["co2_g"]) == (1, 100, 10_000)
    assert "Returned to the payer after a dispute" in certificate(client, demo, sid)
    with demo.app_context():
        kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.contribution_id == row.id)
                                   .order_by(LedgerEntry.id)).all()
    assert kinds == ["payment", "dispute_opened", "dispute_lost"]


def test_a_won_dispute_is_an_ordinary_payment_again(client, demo, stripe_sandbox):
    sid, intent = paid_through_stripe(client, stripe_sandbox)
    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=intent)
    [created] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.created")
    assert deliver(client, created).get_json()["outcome"] == "dispute_opened"
    sandbox_post(stripe_sandbox, f"/_sandbox/disputes/{dispute['id']}/close", status="won")
    [reinstated] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.funds_reinstated")
    [closed] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.closed")
    assert deliver(client, reinstated).get_json()["outcome"] == "ignored"
    assert deliver(client, closed).get_json()["outcome"] == "dispute_won"
    row = contribution(demo, sid)
    assert (row.status, row.dispute_status) == ("paid", "won")
    assert pool(client)["paid_yen"] == 100
    with demo.app_context():
        assert preview_batch(datetime.now(timezone.utc)).contribution_count == 1   # batchable again
    assert "Under dispute" not in certificate(client, demo, sid)


def test_a_dispute_in_an_open_batch_releases_it_and_a_retired_one_becomes_surplus(client, demo, stripe_sandbox):
    first, first_intent = paid_through_stripe(client, stripe_sandbox, quantity="5")     # 50 kg
    with demo.app_context():
        staff = db.session.scalar(select(User).where(User.role == "staff"))
        retired = settle_batch(close_batch(datetime.now(timezone.utc), actor=staff), staff)   # 1 t for 50 kg
    second, second_intent = paid_through_stripe(client, stripe_sandbox, quantity="2")   # 20 kg
    with demo.app_context():
        staff = db.session.scalar(select(User).where(User.role == "staff"))
        open_batch = close_batch(datetime.now(timezone.utc), actor=staff).id
    assert pool(client)["balance_g"] == 950_000

    # In an open batch: the batch lets it go and owes less.
    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=second_intent)
    [created] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.created")
    assert deliver(client, created).get_json()["outcome"] == "dispute_opened"
    with demo.app_context():
        assert (db.session.get(Batch, open_batch).contribution_count, db.session.get(Batch, open_batch).owed_g) == (0, 0)

    # Retired: it stays retired while disputed; lost, its grams join the surplus.
    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=first_intent)
    [created] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.created")
    assert deliver(client, created).get_json()["outcome"] == "dispute_opened"
    assert contribution(demo, first).batch_id == retired
    assert "Under dispute" in certificate(client, demo, first) and "Retired in batch" in certificate(client, demo, first)
    sandbox_post(stripe_sandbox, f"/_sandbox/disputes/{dispute['id']}/close", status="lost")
    [closed] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.closed")
    assert deliver(client, closed).get_json()["outcome"] == "dispute_lost"
    figures = pool(client)
    assert (figures["retired_t"], figures["balance_g"]) == (1, 1_000_000)
    data = client.get("/transparency.json").get_json()
    [published] = [b for b in data["batches"] if b["owed_g"] == 50_000]
    assert (published["released_g"], published["surplus_added_g"]) == (50_000, 1_000_000)


def test_a_close_that_overtakes_its_created_event_still_counts_once(client, demo, stripe_sandbox):
    sid, intent = paid_through_stripe(client, stripe_sandbox)
    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=intent)
    sandbox_post(stripe_sandbox, f"/_sandbox/disputes/{dispute['id']}/close", status="lost")
    [created] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.created")
    [closed] = dispute_events(stripe_sandbox, dispute["id"], "charge.dispute.closed")
    assert deliver(client, closed).get_json()["outcome"] == "dispute_lost"
    assert deliver(client, created).get_json()["outcome"] == "ignored"
    assert pool(client)["paid_yen"] == 0


def test_a_lost_dispute_for_part_of_the_amount_gives_back_that_part(client, demo, stripe_sandbox):
    sid, intent = paid_through_stripe(client, stripe_sandbox, quantity="3")          # ¥300, 30 kg
    dispute = sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=intent, amount="100")
    sandbox_post(stripe_sandbox, f"/_sandbox/disputes/{dispute['id']}/close", status="lost")
    for kind in ("charge.dispute.created", "charge.dispute.closed"):
        [event] = dispute_events(stripe_sandbox, dispute["id"], kind)
        deliver(client, event)
    row = contribution(demo, sid)
    assert (row.status, row.net_yen, row.net_g, row.dispute_status) == ("paid", 200, 20_000, "lost")
    assert (pool(client)["contributions"], pool(client)["paid_yen"]) == (1, 200)


def test_the_sandbox_refuses_a_second_dispute_and_unknown_charges(stripe_sandbox, client, demo):
    _sid, intent = paid_through_stripe(client, stripe_sandbox)
    sandbox_post(stripe_sandbox, "/_sandbox/disputes", payment_intent=intent)
    again = requests.post(f"{stripe_sandbox.base_url}/_sandbox/disputes", data={"payment_intent": intent}, timeout=5)
    assert again.status_code == 400 and again.json()["error"]["code"] == "charge_disputed"
    missing = requests.post(f"{stripe_sandbox.base_url}/_sandbox/disputes", data={"charge": "ch_nope"}, timeout=5)
    assert missing.status_code == 400


def test_a_dispute_for_a_payment_we_never_took_changes_nothing(client, demo):
    event = {"id": "evt_dispute_unknown", "type": "charge.dispute.created", "data": {"object": {
        "id": "du_x", "object": "dispute", "payment_intent": None, "charge": "ch_x", "status": "needs_response"}}}
    assert deliver(client, event).get_json()["outcome"] == "unknown"
    other = {"id": "evt_dispute_updated", "type": "charge.dispute.updated", "data": {"object": {"id": "du_x"}}}
    assert deliver(client, other).status_code == 200
