"""Refunds, full and partial, wherever the contribution sits: not batched, in an open batch, retired."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOnKind, AuditEntry, Batch, Contribution, LedgerEntry, Role
from resident_app.services.batches import close_batch
from resident_app.services.pool import pool_figures
from resident_app.services.pool_check import run_checks
from resident_app.services.refunds import record_refund

from .pool_data import addon, paid, settle_batch, user


@pytest.fixture
def bus(ctx, tmp_path):
    ctx.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with force_locale("en"):
        staff = user("staff@city.example.jp", Role.STAFF, "環境政策課")
        yield staff, addon(user("bus@npo.example.jp", Role.ORGANISER, "バス"), AddOnKind.COMMUNITY_BUS, "バス")


def refund(row: Contribution, total: int, *, full: bool = False) -> str:
    return record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": full,
                          "amount_refunded": total}).result


def ago(minutes: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def entries(row: Contribution) -> list[tuple[str, int, int, int]]:
    return [(e.kind, e.yen, e.co2_g, e.retired_g) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.contribution_id == row.id).order_by(LedgerEntry.id))]


def test_partial_refunds_add_up_and_older_events_change_nothing(bus):
    staff, fare = bus
    row = paid(fare, 3_333, paid_at=ago(5))                               # 333,300 g
    assert refund(row, 1_000) == "partially_refunded"
    assert refund(row, 999) == "ignored"                                  # older: a smaller running total
    assert refund(row, 2_000) == "partially_refunded"
    db.session.refresh(row)
    assert (row.net_yen, row.net_g) == (1_333, 133_300)                   # floor(333,300 × 1,333 / 3,333)
    assert entries(row) == [("payment", 3_333, 333_300, 0), ("partial_refund", -1_000, -100_000, 0),
                            ("partial_refund", -1_000, -100_000, 0)]
    assert refund(row, 3_333, full=True) == "refunded"
    assert entries(row)[-1] == ("refund", -1_333, -133_300, 0)
    assert sum(e[1] for e in entries(row)) == 0 and sum(e[2] for e in entries(row)) == 0
    assert all(line.ok for line in run_checks())


def test_a_partial_refund_in_an_open_batch_lowers_what_it_owes(bus):
    staff, fare = bus
    row, other = paid(fare, 10_000, paid_at=ago(10)), paid(fare, 5_000, paid_at=ago(10))
    batch = close_batch(ago(5), actor=staff)
    assert (batch.owed_g, batch.tonnes_required) == (1_500_000, 2)
    assert refund(row, 6_000) == "partially_refunded"
    batch = db.session.get(Batch, batch.id)
    db.session.refresh(batch)
    assert (batch.contribution_count, batch.paid_yen, batch.owed_g, batch.tonnes_required) == (2, 9_000, 900_000, 1)
    assert db.session.get(Contribution, row.id).batch_id == batch.id      # it stays in the batch
    settle_batch(batch, staff)
    figures = pool_figures()
    assert (figures.paid_yen, figures.co2_g, figures.retired_t, figures.balance_g) == (9_000, 900_000, 1, 100_000)
    assert other.id and all(line.ok for line in run_checks())


def test_a_partial_refund_after_retirement_turns_its_share_into_surplus(bus):
    staff, fare = bus
    row = paid(fare, 25_000, paid_at=ago(10))
    settle_batch(close_batch(ago(5), actor=staff), staff)                 # 3 t for 2.5 t
    assert pool_figures().balance_g == 500_000
    assert refund(row, 10_000) == "partially_refunded"
    assert entries(row)[-2:] == [("partial_refund", -10_000, -1_000_000, 0), ("surplus_carried", 0, 0, -1_000_000)]
    figures = pool_figures()
    assert (figures.paid_yen, figures.co2_g, figures.retired_t, figures.balance_g) == (15_000, 1_500_000, 3, 1_500_000)
    flagged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contribution.flag"))
    assert flagged.after["kind"] == "partial_refund"
    assert all(line.ok for line in run_checks())
