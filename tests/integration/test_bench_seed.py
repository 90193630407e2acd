"""`flask bench seed`: a large pool made through the app's write path, so that every derived table
agrees (`flask pool check` passes) and the speed benchmark measures a realistic database."""
from __future__ import annotations

from sqlalchemy import distinct, func, select

from resident_app.extensions import db
from resident_app.models import Batch, BatchStatus, Channel, Contribution, ContributionStatus, LedgerEntry, LedgerKind
from resident_app.services.open_ledger import _tokyo_month


def test_bench_seed_fills_the_pool_so_that_pool_check_passes(app, runner, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    seeded = runner.invoke(args=["bench", "seed", "--contributions", "400", "--refunds", "6"])
    assert seeded.exit_code == 0, seeded.output
    assert "400 paid contributions" in seeded.output
    check = runner.invoke(args=["pool", "check"])
    assert check.exit_code == 0, check.output
    assert "7 of 7 invariants hold" in check.output
    with app.app_context():
        statuses = dict(db.session.execute(select(Contribution.status, func.count())
                                           .group_by(Contribution.status)).all())
        assert statuses[ContributionStatus.PAID] + statuses[ContributionStatus.REFUNDED] == 403  # with 3 cash
        assert statuses[ContributionStatus.REFUNDED] == 3
        assert db.session.scalar(select(func.count()).where(Contribution.refunded_yen > 0,
                                                            Contribution.status == ContributionStatus.PAID)) == 3
        assert db.session.scalar(select(func.count()).where(Contribution.channel == Channel.CASH)) > 3
        assert db.session.scalar(select(func.count(distinct(Contribution.addon_id)))) >= 6
        assert db.session.scalar(select(func.count(distinct(_tokyo_month(Contribution.paid_at))))) >= 8
        batches = dict(db.session.execute(select(Batch.status, func.count()).group_by(Batch.status)).all())
        assert batches[BatchStatus.INVALIDATED] == 2 and sum(batches.values()) == 3
        # A refund after retirement gave its grams back to the surplus: the whole write path ran.
        kinds = set(db.session.scalars(select(LedgerEntry.kind).distinct()))
        assert {LedgerKind.PAYMENT, LedgerKind.CASH, LedgerKind.REFUND, LedgerKind.PARTIAL_REFUND,
                LedgerKind.SURPLUS_CARRIED, LedgerKind.CREDITS_INVALIDATED, LedgerKind.BATCH_RETIRED} <= kinds


def test_bench_seed_adds_to_a_seeded_pool_and_check_still_passes(app, runner, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert runner.invoke(args=["bench", "seed", "--contributions", "50", "--refunds", "2"]).exit_code == 0
    again = runner.invoke(args=["bench", "seed", "--contributions", "60", "--refunds", "2"])
    assert again.exit_code == 0, again.output
    check = runner.invoke(args=["pool", "check"])
    assert check.exit_code == 0, check.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Contribution.id))) == 50 + 60 + 6


def test_bench_seed_refuses_a_site_that_takes_real_payments(app, runner):
    app.config["STRIPE_SECRET_KEY"] = "sk_live_" + "x" * 20
    result = runner.invoke(args=["bench", "seed", "--contributions", "10"])
    assert result.exit_code != 0
    assert "real payments" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Contribution.id))) == 0
