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
    assert "9 of 9 invariants hold" in check.output
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


# --- the running totals by month and add-on (pool_rollups) -------------------------------------------

def test_the_breakdowns_read_from_running_totals_equal_a_full_recount(app, runner, tmp_path):
    from resident_app.services.ledger import tokyo_month
    from resident_app.services.open_ledger import (ledger_by_month, ledger_by_programme, read_rollup, recount_rollup,
                                                   rollup_by_month, rollup_by_programme)
    from resident_app.services.pool import (dashboard_totals, pool_figures, pool_totals_by_addon, pool_totals_by_kind,
                                            pool_totals_by_month, pool_totals_by_organiser)
    from resident_app.services.transparency import transparency_report

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert runner.invoke(args=["bench", "seed", "--contributions", "300", "--refunds", "8"]).exit_code == 0
    with app.app_context():
        state, rollup = read_rollup()
        head = int(state.last_entry_id)
        assert rollup.head == head and rollup == recount_rollup(head)
        assert rollup_by_month(rollup) == ledger_by_month(head) and len(ledger_by_month(head)) >= 8
        assert rollup_by_programme(rollup) == ledger_by_programme(head)
        report = transparency_report()
        assert {m.month: (m.contributions, m.paid_yen, m.co2_g, m.invalidated_t) for m in report.months} == {
            month: (s.contributions, s.yen, s.co2_g, s.tonnes) for month, s in ledger_by_month(head).items()}
        totals = dashboard_totals()
        assert totals.figures == pool_figures()
        assert totals.months == pool_totals_by_month() and totals.addons == pool_totals_by_addon()
        assert totals.kinds == pool_totals_by_kind() and totals.organisers == pool_totals_by_organiser()
        assert len(totals.addons) >= 6 and sum(m.count for m in totals.months) == pool_figures().contributions
        assert tokyo_month(None) == ""


def test_money_counted_on_a_months_last_evening_stays_in_that_month(app, runner, tmp_path):
    """SQLite's date arithmetic rounds 23:59:59.999999 up to the next second: the SQL recount must
    agree with the running totals on which month that is (the month the money was received)."""
    from datetime import timedelta

    from resident_app.models import AddOn, AddOnKind
    from resident_app.services.days import tokyo_today
    from resident_app.services.offline import record_offline_contribution
    from resident_app.services.open_ledger import ledger_by_month, read_rollup, rollup_by_month
    from resident_app.services.pool import pool_totals_by_month

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert runner.invoke(args=["bench", "seed", "--contributions", "20", "--refunds", "0"]).exit_code == 0
    with app.app_context():
        from resident_app.bench_seed import STAFF_EMAIL
        from resident_app.services.accounts import find_user

        staff = find_user(STAFF_EMAIL)
        bus = db.session.scalar(select(AddOn).where(AddOn.kind == AddOnKind.COMMUNITY_BUS))
        last_day = tokyo_today().replace(day=1) - timedelta(days=1)
        record_offline_contribution(bus, quantity=7, channel=Channel.CASH, received_on=last_day, recorded_by=staff)
        month = last_day.strftime("%Y-%m")
        state, rollup = read_rollup()
        assert rollup_by_month(rollup)[month] == ledger_by_month(int(state.last_entry_id))[month]
        assert month in {m.month for m in pool_totals_by_month()}
        check = runner.invoke(args=["pool", "check"])
        assert check.exit_code == 0, check.output


def test_pool_check_names_a_running_total_by_month_that_drifted(app, runner, tmp_path):
    from sqlalchemy import update

    from resident_app.models import PoolRollup

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert runner.invoke(args=["bench", "seed", "--contributions", "30", "--refunds", "2"]).exit_code == 0
    with app.app_context():
        month = db.session.scalar(select(PoolRollup.month).where(PoolRollup.addon_id != 0).limit(1))
        db.session.execute(update(PoolRollup).where(PoolRollup.month == month, PoolRollup.addon_id != 0)
                           .values(yen=PoolRollup.yen + 100))
        db.session.commit()
    check = runner.invoke(args=["pool", "check"])
    assert check.exit_code == 1
    assert "FAIL  totals by month and add-on = ledger recount" in check.output and month in check.output
