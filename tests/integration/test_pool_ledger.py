"""The pool ledger: the seven breaks found by hand against the first release, each a regression
test; national-scale sums; the open data recomputing every total; `flask pool check`; the rate a
card payment keeps; and the migration that builds the ledger for an existing database.

These run on SQLite and, in CI's second pass (DATABASE_URL set), on PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import os
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy import func, select, update

from resident_app import create_app
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, Batch, BatchStatus, Channel, Contribution, Invalidation,
                                 LedgerEntry, LedgerKind, PoolAwaiting, PoolState, Role, User)
from resident_app.services import DomainError
from resident_app.services.batches import close_batch, confirm_batch
from resident_app.services.corrections import record_correction
from resident_app.services.days import tokyo_today
from resident_app.services.ledger import Entry, lock_pool, post
from resident_app.services.offline import record_offline_contribution
from resident_app.services.pool import awaiting_figures, awaiting_recount, pool_figures
from resident_app.services.pool_check import run_checks
from resident_app.services.programme import set_rate
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.refunds import record_refund
from resident_app.services.register import batch_view

from ..conftest import ROOT, config_for, csrf_token
from .factories import contribution, deliver, events_for, login, pay, pool, session_id, start, token_from
from .pool_data import addon, buy_and_invalidate, paid, settle_batch, user

T = 1_000_000
EN = {"Accept-Language": "en"}


@pytest.fixture
def ctx_en(ctx, tmp_path):
    ctx.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with force_locale("en"):
        yield ctx


def staff_and_bus():
    staff = user("staff@city.example.jp", Role.STAFF, "環境政策課")
    organiser = user("bus@npo.example.jp", Role.ORGANISER, "みどり台バス")
    return staff, addon(organiser, AddOnKind.COMMUNITY_BUS, "みどり台バス")


def minutes_ago(n: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=n)


def check_ok() -> list[str]:
    lines = run_checks()
    assert all(line.ok for line in lines), "\n".join(map(str, lines))
    return [str(line) for line in lines]


# --- break 1: two confirmations at once spent the same surplus -----------------------------------

def test_break_1_two_confirmations_at_once_cannot_spend_the_same_surplus(ctx_en):
    """A correction raises an earlier batch by 1 t while two batches of 630 kg each wait; both are
    confirmed from two threads at the same moment. Only one may use the freed tonne."""
    staff, bus = staff_and_bus()
    paid(bus, 10_000, paid_at=minutes_ago(30))                               # 1 t exactly
    first = db.session.get(Batch, settle_batch(close_batch(minutes_ago(25), actor=staff), staff))
    paid(bus, 6_300, paid_at=minutes_ago(20))
    second = close_batch(minutes_ago(19), actor=staff)
    paid(bus, 6_300, paid_at=minutes_ago(15))
    third = close_batch(minutes_ago(14), actor=staff)
    assert (second.tonnes_required, third.tonnes_required) == (1, 1)        # nothing carried yet
    item = first.invalidations[0]
    prefix = item.serial_ranges[0]["start"][:-8]
    record_correction(item, field="tonnes", new_value=2, reason="通知書では 2 t",
                      serial_ranges=[(f"{prefix}00000001", f"{prefix}00000002")], actor=staff)
    assert pool_figures().balance_g == T
    ids, staff_id = (second.id, third.id), staff.id
    db.session.commit()

    app, outcomes, barrier = ctx_en, {}, threading.Barrier(2)

    def confirm_in_thread(batch_id: int) -> None:
        with app.app_context(), force_locale("en"):
            batch = db.session.get(Batch, batch_id)
            codes = [w.code for w in batch_view(batch).warnings]
            barrier.wait(timeout=10)
            try:
                confirm_batch(batch, actor=db.session.get(User, staff_id), acknowledged=codes)
                outcomes[batch_id] = "confirmed"
            except DomainError as error:
                outcomes[batch_id] = str(error)
            db.session.remove()

    threads = [threading.Thread(target=confirm_in_thread, args=(batch_id,)) for batch_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    assert sorted(outcomes) == sorted(ids)
    assert list(outcomes.values()).count("confirmed") == 1, outcomes       # the other must buy credits
    figures = pool_figures()
    assert (figures.retired_t, figures.balance_g) == (2, 370_000)
    check_ok()


def test_break_1_the_pool_lock_makes_the_second_writer_wait(ctx_en):
    """While one transaction holds the pool lock, another that takes it decides on the first's
    committed result, never on what was there before (PostgreSQL row lock, SQLite write lock)."""
    app, seen, locked = ctx_en, {}, threading.Event()

    def first() -> None:
        with app.app_context():
            lock_pool()
            locked.set()
            threading.Event().wait(0.3)  # the second writer arrives while this one still decides
            post([Entry(LedgerKind.CORRECTION)])
            db.session.commit()
            db.session.remove()

    def second() -> None:
        with app.app_context():
            locked.wait(timeout=10)
            lock_pool()
            seen["entries"] = db.session.scalar(select(PoolState.entries))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == {"entries": 1}


# --- break 2: 32-bit columns ---------------------------------------------------------------------

def test_break_2_national_scale_yen_grams_and_tonnes_are_stored_and_summed(ctx_en):
    """¥10,000,000,000 and 10^13 g in one cash entry, 10^7 t bought and invalidated, then summed:
    32-bit columns overflowed at ¥2,147,483,647 and 2,147 t."""
    staff = user("staff@city.example.jp", Role.STAFF, "環境政策課")
    fare = addon(staff, AddOnKind.OTHER, "全国", price=10_000)
    set_rate(1_000, actor="test", reason="national test", effective_from=datetime.now(timezone.utc) - timedelta(days=3))
    big = record_offline_contribution(fare, quantity=1_000_000, channel=Channel.CASH, recorded_by=staff,
                                      received_on=tokyo_today() - timedelta(days=1))
    assert (big.amount_yen, big.co2_g) == (10_000_000_000, 10**13)
    second = record_offline_contribution(fare, quantity=1_000_000, channel=Channel.BANK_TRANSFER, recorded_by=staff,
                                         received_on=tokyo_today() - timedelta(days=1))
    figures = pool_figures()
    assert (figures.paid_yen, figures.co2_g) == (20_000_000_000, 2 * 10**13)
    assert db.session.scalar(select(func.sum(Contribution.amount_yen))) == 20_000_000_000
    batch = close_batch(minutes_ago(1), actor=staff)
    assert (batch.owed_g, batch.tonnes_required) == (2 * 10**13, 2 * 10**7)
    buy_and_invalidate(batch, staff, 2 * 10**7)                           # serials ...00000001 to ...20000000
    confirm_batch(batch, actor=staff)
    figures = pool_figures()
    assert (figures.retired_t, figures.balance_g) == (2 * 10**7, 0)
    assert db.session.scalar(select(func.sum(LedgerEntry.co2_g))) == 2 * 10**13
    assert second.co2_g == 10**13
    check_ok()


def test_break_2_validation_bounds_refuse_what_the_columns_could_not_hold(ctx_en):
    staff, bus = staff_and_bus()
    paid(bus, 1_000, paid_at=minutes_ago(5))
    batch = close_batch(minutes_ago(1), actor=staff)
    with pytest.raises(DomainError) as refused:
        record_purchase(batch, PurchaseData(provider="x", credit_type="j_credit", project_name="x", project_id="x",
                                            credit_place="x", tonnes=1, price_per_t_yen=1,
                                            total_yen=10_000_000_000_001, purchased_on=tokyo_today()), actor=staff)
    assert refused.value.errors["total_yen"].startswith("Enter a whole number from 1 to 10,000,000,000,000")
    result = record_purchase(batch, PurchaseData(provider="x", credit_type="j_credit", project_name="x",
                                                 project_id="x", credit_place="x", tonnes=1, price_per_t_yen=10_000,
                                                 total_yen=3_000_000_000, purchased_on=tokyo_today()), actor=staff)
    assert result.purchase.total_yen == 3_000_000_000                    # stored, with a warning to check
    with pytest.raises(DomainError) as refused:
        record_offline_contribution(bus, quantity=1_000_001, channel="cash", received_on=tokyo_today(),
                                    recorded_by=staff)
    assert "quantity" in refused.value.errors


# --- break 3: a partial refund stayed in the public money ----------------------------------------

def test_break_3_a_partial_refund_nets_out_and_waits_for_review(ctx_en):
    staff, bus = staff_and_bus()
    row = paid(bus, 1_000, paid_at=minutes_ago(5))                       # ¥1,000 = 100 kg
    assert record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": False,
                          "amount_refunded": 400}).result == "partially_refunded"
    db.session.refresh(row)
    assert (row.status, row.refunded_yen, row.refunded_g, row.net_yen, row.net_g) == ("paid", 400, 40_000, 600, 60_000)
    assert row.flag_kind == "partial_refund"
    figures = pool_figures()
    assert (figures.contributions, figures.paid_yen, figures.co2_g) == (1, 600, 60_000)
    # The same event again, or an older one, changes nothing; the rest of the refund completes it.
    assert record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": False,
                          "amount_refunded": 400}).result == "ignored"
    assert record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": True,
                          "amount_refunded": 1_000}).result == "refunded"
    figures = pool_figures()
    assert (figures.contributions, figures.paid_yen, figures.co2_g) == (0, 0, 0)
    check_ok()


# --- break 4: disputes were ignored (end to end in test_disputes.py) ------------------------------

def test_break_4_a_lost_chargeback_leaves_the_pool(client, demo, stripe_sandbox):
    import requests

    pay_url = start(client, quantity="2")
    pay(pay_url)
    [completed] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    deliver(client, completed)
    intent = completed["data"]["object"]["payment_intent"]
    dispute = requests.post(f"{stripe_sandbox.base_url}/_sandbox/disputes", data={"payment_intent": intent},
                            timeout=5).json()
    requests.post(f"{stripe_sandbox.base_url}/_sandbox/disputes/{dispute['id']}/close", data={"status": "lost"},
                  timeout=5)
    for kind in ("charge.dispute.created", "charge.dispute.closed"):
        [event] = [r.event for r in stripe_sandbox.sandbox.events(kind)
                   if r.event["data"]["object"]["id"] == dispute["id"]]
        assert deliver(client, event).get_json()["outcome"] in ("dispute_opened", "dispute_lost")
    assert pool(client)["paid_yen"] == 0
    html = client.get(f"/c/{contribution(demo, session_id(pay_url)).certificate_token}", headers=EN)
    assert "Returned to the payer after a dispute" in html.get_data(as_text=True)


# --- break 5: suspended organisers and the unit cap -----------------------------------------------

@pytest.mark.parametrize("status", [AccountStatus.SUSPENDED, AccountStatus.PENDING])
def test_break_5_an_organiser_who_is_not_active_sells_nothing(client, demo, status):
    with demo.app_context():
        organiser = db.session.scalar(select(User).where(User.email == "organiser@example.jp"))
        organiser.status = status
        db.session.commit()
    html = client.get("/a/demo-bus", headers=EN).get_data(as_text=True)
    assert "not available at the moment" in html
    response = client.post("/a/demo-bus/checkout", data={"quantity": "1", "csrf_token": csrf_token(client, "/a/demo-bus")})
    assert response.status_code == 422
    assert all(a["slug"] not in ("demo-bus", "demo-event") for a in client.get("/api/v1/addons").get_json())


def test_break_5_the_unit_cap_is_enforced_when_the_money_arrives(client, demo, stripe_sandbox):
    """Two residents start checkout for the last unit before either pays. Both payments are real
    money, so both count; the one that went past the cap is flagged for staff to refund."""
    with demo.app_context():
        db.session.scalar(select(AddOn).where(AddOn.slug == "demo-event")).max_units = 1
        db.session.commit()
    first, second = start(client, slug="demo-event"), start(client, slug="demo-event")
    for pay_url in (first, second):
        pay(pay_url)
        [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
        assert deliver(client, event).get_json()["outcome"] == "paid"
    assert pool(client)["contributions"] == 2
    kept, over = contribution(demo, session_id(first)), contribution(demo, session_id(second))
    assert (kept.flag_kind, over.flag_kind) == ("", "over_cap")
    assert "cap of 1 units" in over.flag_reason
    assert "The planned number has been reached" in client.get("/a/demo-event", headers=EN).get_data(as_text=True)


# --- break 6: batch figures that no longer added up ------------------------------------------------

def test_break_6_refunds_overbuying_and_corrections_all_explain_themselves_in_the_open_data(client, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context(), force_locale("en"):
        staff, bus = staff_and_bus()
        refunded = paid(bus, 5_000, paid_at=minutes_ago(30))             # 500 kg
        paid(bus, 5_000, paid_at=minutes_ago(30))
        batch = close_batch(minutes_ago(25), actor=staff)                 # 1 t owed exactly
        # Over-buying: 3 t where 1 t is needed is a warning to tick, and the extra is surplus.
        buy_and_invalidate(batch, staff, 3)
        codes = [w.code for w in batch_view(batch).warnings]
        assert codes == ["excess_tonnes"]
        with pytest.raises(DomainError, match="excess_tonnes"):
            confirm_batch(batch, actor=staff, acknowledged=[])
        confirm_batch(batch, actor=staff, acknowledged=codes)
        # A refund after retirement, and a correction 3 t -> 4 t that needs its serial range.
        record_refund({"payment_intent": refunded.stripe_payment_intent_id, "refunded": True, "amount_refunded": 5_000})
        item = db.session.scalar(select(Invalidation))
        with pytest.raises(DomainError) as refused:
            record_correction(item, field="tonnes", new_value=4, reason="通知書", actor=staff)
        assert refused.value.field == "serial_ranges"
        prefix = item.serial_ranges[0]["start"][:-8]
        record_correction(item, field="tonnes", new_value=4, reason="通知書", actor=staff,
                          serial_ranges=[(f"{prefix}00000001", f"{prefix}00000004")])
        check_ok()
    data = client.get("/transparency.json").get_json()
    figures = data["pool"]
    assert (figures["paid_yen"], figures["co2_g"], figures["retired_t"], figures["balance_g"]) == \
        (5_000, 500_000, 4, 3_500_000)
    [published] = data["batches"]
    assert (published["owed_g"], published["released_g"], published["invalidated_t"]) == (1_000_000, 500_000, 4)
    assert published["invalidated_t"] * T - published["owed_g"] + published["released_g"] == \
        published["surplus_added_g"] == figures["balance_g"]
    ledger = list(csv.DictReader(io.StringIO(client.get("/transparency/ledger.csv").data.decode("utf-8-sig"))))
    kinds = [row["kind"] for row in ledger]
    for kind in ("payment", "batch_closed", "credits_bought", "credits_invalidated", "batch_retired", "refund",
                 "surplus_carried", "correction"):
        assert kind in kinds, kind
    assert sum(int(r["tonnes"]) for r in ledger) == 4
    assert sum(int(r["tonnes"]) for r in ledger) * T - sum(int(r["retired_g"]) for r in ledger) == 3_500_000


# --- break 7: an empty batch, and cash counted late ----------------------------------------------

def test_break_7_a_batch_with_no_contribution_cannot_be_confirmed(ctx_en):
    staff, bus = staff_and_bus()
    only = paid(bus, 3_000, paid_at=minutes_ago(5))
    batch = close_batch(minutes_ago(1), actor=staff)
    assert batch.tonnes_required == 1
    record_refund({"payment_intent": only.stripe_payment_intent_id, "refunded": True, "amount_refunded": 3_000})
    db.session.refresh(batch)
    assert (batch.contribution_count, batch.owed_g, batch.tonnes_required) == (0, 0, 0)
    with pytest.raises(DomainError, match="holds no contribution"):
        confirm_batch(batch, actor=staff)
    assert db.session.get(Batch, batch.id).status == BatchStatus.DRAFT
    assert pool_figures().retired_t == 0
    check_ok()


def test_break_7_cash_counted_late_joins_the_next_batch_and_its_page_says_so(app, client, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        staff, bus = staff_and_bus()
        paid(bus, 2_000, paid_at=datetime.now(timezone.utc) - timedelta(days=5))
        earlier = close_batch(tokyo_today() - timedelta(days=2), actor=staff)
        earlier_number, bus_id = earlier.number, bus.id
    client.set_cookie("lang", "en")
    assert login(client, "staff@city.example.jp").status_code == 303
    received = (tokyo_today() - timedelta(days=4)).isoformat()               # before the cut-off
    response = client.post("/staff/contributions/offline", data={
        "csrf_token": token_from(client, "/staff/contributions/offline"), "addon_id": str(bus_id),
        "quantity": "12", "channel": "cash", "received_on": received, "note": "", "display_name": ""},
        content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"before the cut-off of batch {earlier_number}" in html
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == "staff@city.example.jp"))
        later = close_batch(tokyo_today() - timedelta(days=1), actor=staff)
        assert (later.contribution_count, later.paid_yen) == (1, 1_200)
        later_id = later.id
    page = client.get(f"/staff/batches/{later_id}").get_data(as_text=True)
    assert 'id="late-money"' in page and f"before the cut-off of batch {earlier_number}" in page


# --- the rate a card payment keeps ------------------------------------------------------------------

def test_a_card_payment_keeps_the_grams_quoted_when_checkout_started(client, demo, stripe_sandbox):
    pay_url = start(client, quantity="3")                                  # ¥300 at ¥10,000/t: 30 kg
    with demo.app_context():
        set_rate(20_000, actor="staff@example.jp", reason="credit prices rose")
    pay(pay_url)
    [event] = events_for(stripe_sandbox, session_id(pay_url), "checkout.session.completed")
    deliver(client, event)
    row = contribution(demo, session_id(pay_url))
    assert (row.amount_yen, row.co2_g, row.rate_yen_per_t) == (300, 30_000, 10_000)
    assert pool(client)["co2_g"] == 30_000 and pool(client)["rate_yen_per_t"] == 20_000
    later = start(client, quantity="3")                                    # a new checkout: the new rate
    assert contribution(demo, session_id(later)).co2_g == 15_000
    certificate = client.get(f"/c/{row.certificate_token}", headers=EN).get_data(as_text=True)
    assert "¥10,000 per tonne" in certificate and "The rate in force when the payment was started" in certificate
    methodology = client.get("/methodology", headers=EN).get_data(as_text=True)
    assert 'id="rate-rule"' in methodology and "keep the CO2 shown when checkout started" in methodology


# --- open data and the check ------------------------------------------------------------------------

def test_the_ledger_download_recomputes_every_published_total(client, app, tmp_path):
    from .pool_data import build_pool

    built = build_pool(app, tmp_path)
    with app.app_context(), force_locale("en"):
        staff = db.session.scalar(select(User).where(User.email == built.staff_email))
        row = db.session.get(Contribution, built.open_contribution_id)
        record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": False, "amount_refunded": 250})
    api = client.get("/api/v1/pool").get_json()
    report = client.get("/transparency.json").get_json()
    response = client.get("/transparency/ledger.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert list(rows[0]) == ["seq", "recorded_at", "occurred_at", "kind", "yen", "co2_g", "retired_g", "tonnes",
                             "credits_yen", "contribution", "programme", "batch", "invalidation", "correction"]
    total = lambda column: sum(int(r[column]) for r in rows)                # noqa: E731 (a spreadsheet's SUM)
    count = lambda *kinds: sum(1 for r in rows if r["kind"] in kinds)       # noqa: E731 (COUNTIF)
    assert total("yen") == api["paid_yen"] == 25_750
    assert total("co2_g") == api["co2_g"] == 2_575_000
    assert total("tonnes") == api["retired_t"] == 3
    assert total("tonnes") * T - total("retired_g") == api["balance_g"] == 500_000
    assert count("payment", "cash", "transfer") - count("refund", "dispute_lost") == api["contributions"] == 4
    assert total("credits_yen") == report["credits_spent_yen"] == 30_000
    assert int(rows[-1]["seq"]) == report["ledger"]["head"] and report["ledger"]["csv"].endswith("/transparency/ledger.csv")
    for month in report["months"]:
        in_month = [r for r in rows if r["occurred_at"].startswith(month["month"])]
        assert sum(int(r["yen"]) for r in in_month) == month["paid_yen"]
    for programme in report["programmes"]:
        assert sum(int(r["yen"]) for r in rows if r["programme"] == programme["programme"]) == programme["paid_yen"]
    body = response.data.decode("utf-8-sig")
    assert "resident@example.jp" not in body and "山田 花子" not in body and "HYPERLINK" not in body
    data = json.loads(client.get("/transparency/ledger.json").get_data(as_text=True))
    assert data["head"] == report["ledger"]["head"] and len(data["entries"]) == len(rows)
    assert sum(e["yen"] for e in data["entries"]) == api["paid_yen"]


def test_flask_pool_check_prints_a_line_per_invariant_and_fails_on_a_break(runner, app, tmp_path):
    from .pool_data import build_pool

    build_pool(app, tmp_path)
    result = runner.invoke(args=["pool", "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 10 and all(line.startswith("ok") for line in lines[:9])
    assert lines[-1] == "9 of 9 invariants hold."
    assert "3 t × 1,000,000 = 2,500,000 g retired + 500,000 g balance" in result.output
    with app.app_context():  # a running total that no longer matches the ledger
        db.session.execute(update(PoolState).values(paid_yen=PoolState.paid_yen + 1))
        db.session.commit()
    broken = runner.invoke(args=["pool", "check"])
    assert broken.exit_code == 1
    assert "FAIL  running totals = ledger recount: paid_yen 26,001 ≠ 26,000" in broken.output
    assert "FAIL  open data reproduces every total" in broken.output
    with app.app_context():  # what awaits the next batch, changed behind the triggers' back
        db.session.execute(update(PoolAwaiting).values(yen=PoolAwaiting.yen - 1))
        db.session.commit()
    broken = runner.invoke(args=["pool", "check"])
    assert broken.exit_code == 1 and "FAIL  awaiting the next batch = contributions recount: kept " in broken.output


def test_triggers_keep_what_awaits_the_next_batch_whatever_writes_the_contributions(ctx_en):
    """Payment, partial refund, dispute, batch, full refund and delete, some of them as bare SQL
    that no service runs: the dashboard's row is a recount after each."""
    staff, bus = staff_and_bus()
    first = paid(bus, 3_000, paid_at=minutes_ago(30))
    second = paid(bus, 2_000, paid_at=minutes_ago(20))
    db.session.commit()

    def kept() -> tuple[int, int, int]:
        db.session.flush()
        figures = awaiting_figures()
        assert figures == awaiting_recount()
        return figures.count, figures.paid_yen, figures.co2_g

    assert kept() == (2, 5_000, first.co2_g + second.co2_g)
    db.session.execute(update(Contribution).where(Contribution.id == first.id).values(refunded_yen=1_000, refunded_g=7))
    assert kept() == (2, 4_000, first.co2_g - 7 + second.co2_g)
    db.session.execute(update(Contribution).where(Contribution.id == second.id).values(dispute_status="open"))
    assert kept() == (1, 2_000, first.co2_g - 7)
    db.session.execute(update(Contribution).where(Contribution.id == second.id).values(dispute_status="won"))
    db.session.commit()
    batch = close_batch(minutes_ago(10), actor=staff)
    assert kept() == (0, 0, 0) and batch.contribution_count == 2
    db.session.execute(update(Contribution).values(batch_id=None, receipt_email=""))
    assert kept() == (2, 4_000, first.co2_g - 7 + second.co2_g)
    db.session.execute(update(Contribution).where(Contribution.id == first.id).values(status="refunded"))
    assert kept() == (1, 2_000, second.co2_g)
    # A row inserted and deleted with bare SQL (no ledger entry refers to it).
    columns = [c for c in Contribution.__table__.columns if c.name not in ("id", "number", "certificate_token",
                                                                           "idempotency_key", "stripe_payment_intent_id")]
    values = dict(zip([c.name for c in columns], db.session.execute(
        select(*columns).where(Contribution.id == second.id)).one()))
    db.session.execute(sa.insert(Contribution).values(
        **values | {"number": "OC-T-BARE", "certificate_token": "bare", "idempotency_key": "bare", "batch_id": None}))
    assert kept() == (2, 4_000, 2 * second.co2_g)
    db.session.execute(sa.delete(Contribution).where(Contribution.number == "OC-T-BARE"))
    assert kept() == (1, 2_000, second.co2_g)
    db.session.rollback()


def test_the_database_refuses_to_change_a_ledger_entry(ctx_en):
    staff, bus = staff_and_bus()
    paid(bus, 1_000, paid_at=minutes_ago(1))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(update(LedgerEntry).values(yen=LedgerEntry.yen + 1))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.sum(LedgerEntry.yen))) == 1_000


# --- the migration -----------------------------------------------------------------------------------

def _fresh_database() -> tuple[str, object]:
    """An empty database of the kind under test: a SQLite file, or a new PostgreSQL database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        return None, None
    url = sa.engine.make_url(base)
    name = f"{url.database}_migrate"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def test_the_migration_builds_the_ledger_of_an_existing_pool(tmp_path):
    """A database at 0003 with paid, refunded and partly refunded contributions, a confirmed batch
    whose tonnes were corrected and an open batch: after the upgrade the public figures are what
    they were, with the partial refund netted out, and every invariant holds."""
    from flask_migrate import upgrade

    url, admin = _fresh_database()
    url = url or f"sqlite:///{tmp_path / 'existing.sqlite3'}"
    app = create_app(config_for(url))
    directory = str(ROOT / "resident_app" / "migrations")
    try:
        with app.app_context():
            upgrade(directory=directory, revision="0003_pool")
            _old_pool(db.engine)
            upgrade(directory=directory)
            with force_locale("en"):
                figures = pool_figures()
                assert (figures.contributions, figures.paid_yen, figures.co2_g) == (3, 21_000, 2_100_000)
                assert (figures.retired_t, figures.balance_g) == (4, 2_800_000)
                assert db.session.scalar(select(func.count(LedgerEntry.id))) == 14
                check_ok()
                with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                    db.session.execute(update(LedgerEntry).values(tonnes=0))
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}"'))
            admin.dispose()


def _old_pool(engine) -> None:
    """Rows as the first release wrote them (status paid or refunded, no ledger)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = datetime.now(timezone.utc)

    class Rows:  # every row of an INSERT names the same columns
        def __init__(self, connection):
            self.connection = connection

        def execute(self, insert, rows):
            keys = {k for row in rows for k in row}
            self.connection.execute(insert, [{k: row.get(k) for k in keys} for row in rows])

    with engine.begin() as connection:
        c = Rows(connection)
        c.execute(t["users"].insert(), [{"id": 1, "email": "s@x.jp", "password_hash": "x", "role": "staff",
                                         "status": "active", "organisation": "x", "contact_name": "",
                                         "session_token": "t", "created_at": now}])
        c.execute(t["conversion_rates"].insert(), [{"id": 1, "yen_per_t": 10_000, "effective_from": now - timedelta(days=9),
                                                    "set_by": "s", "reason": "", "created_at": now}])
        c.execute(t["addons"].insert(), [{"id": 1, "slug": "bus", "owner_id": 1, "kind": "community_bus",
                                          "title_ja": "バス", "title_en": "Bus", "description_ja": "",
                                          "description_en": "", "unit_price_yen": 100, "variable_amount": False,
                                          "place": "", "emissions_note_ja": "", "emissions_note_en": "",
                                          "is_active": True, "is_public": True, "created_at": now}])
        c.execute(t["batches"].insert(), [
            {"id": 1, "number": "PB-1", "status": "invalidated", "cutoff_at": now - timedelta(days=5),
             "contribution_count": 2, "paid_yen": 25_000, "owed_g": 2_500_000, "surplus_available_g": 0,
             "surplus_used_g": 0, "tonnes_required": 3, "surplus_after_g": 500_000, "note": "",
             "created_at": now - timedelta(days=5), "updated_at": now, "confirmed_at": now - timedelta(days=4)},
            {"id": 2, "number": "PB-2", "status": "draft", "cutoff_at": now - timedelta(days=2),
             "contribution_count": 1, "paid_yen": 1_000, "owed_g": 100_000, "surplus_available_g": 500_000,
             "surplus_used_g": 100_000, "tonnes_required": 0, "surplus_after_g": 400_000, "note": "",
             "created_at": now - timedelta(days=2), "updated_at": now}])
        base = {"addon_id": 1, "channel": "stripe", "quantity": 1, "rate_id": 1, "rate_yen_per_t": 10_000,
                "display_name": "", "receipt_email": "", "locale": "ja", "flag_reason": "", "note": "",
                "created_at": now - timedelta(days=6)}
        c.execute(t["contributions"].insert(), [
            {**base, "id": 1, "number": "OC-1", "certificate_token": "a", "idempotency_key": "a", "status": "paid",
             "unit_price_yen": 12_000, "amount_yen": 12_000, "co2_g": 1_200_000, "refunded_yen": 0,
             "paid_at": now - timedelta(days=6), "batch_id": 1},
            {**base, "id": 2, "number": "OC-2", "certificate_token": "b", "idempotency_key": "b", "status": "refunded",
             "unit_price_yen": 13_000, "amount_yen": 13_000, "co2_g": 1_300_000, "refunded_yen": 13_000,
             "paid_at": now - timedelta(days=6), "refunded_at": now - timedelta(days=3), "batch_id": 1},
            {**base, "id": 3, "number": "OC-3", "certificate_token": "c", "idempotency_key": "c", "status": "paid",
             "unit_price_yen": 1_000, "amount_yen": 1_000, "co2_g": 100_000, "refunded_yen": 0,
             "paid_at": now - timedelta(days=3), "batch_id": 2},
            {**base, "id": 4, "number": "OC-4", "certificate_token": "d", "idempotency_key": "d", "status": "paid",
             "unit_price_yen": 10_000, "amount_yen": 10_000, "co2_g": 1_000_000, "refunded_yen": 2_000,
             "flag_reason": "Partial refund of 2000 yen: staff to review", "paid_at": now - timedelta(days=1)},
            {**base, "id": 5, "number": "OC-5", "certificate_token": "e", "idempotency_key": "e", "status": "pending",
             "unit_price_yen": 500, "amount_yen": 500, "co2_g": 50_000, "refunded_yen": 0}])
        c.execute(t["credit_purchases"].insert(), [{
            "id": 1, "batch_id": 1, "provider": "x", "credit_type": "j_credit", "project_name": "x", "project_id": "x",
            "credit_place": "北海道", "tonnes": 3, "price_per_t_yen": 10_000, "total_yen": 30_000,
            "purchased_on": date.today() - timedelta(days=4), "created_at": now, "updated_at": now}])
        c.execute(t["invalidations"].insert(), [{
            "id": 1, "batch_id": 1, "credit_registry": "j_credit_registry", "invalidated_on": date.today() - timedelta(days=4),
            "serial_ranges": [{"start": "JP-1-0001", "end": "JP-1-0003"}], "tonnes": 3, "purpose": "p",
            "offset_place": "東京都", "created_at": now, "updated_at": now}])
        c.execute(t["invalidation_corrections"].insert(), [
            {"id": 1, "batch_id": 1, "invalidation_id": 1, "field": "tonnes", "old_value": 3, "new_value": 4,
             "reason": "r", "created_at": now - timedelta(days=3, hours=12)},
            {"id": 2, "batch_id": 1, "invalidation_id": 1, "field": "serial_ranges",
             "old_value": [{"start": "JP-1-0001", "end": "JP-1-0003"}],
             "new_value": [{"start": "JP-1-0001", "end": "JP-1-0004"}], "reason": "r",
             "created_at": now - timedelta(days=3, hours=11)}])
