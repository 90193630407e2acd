"""The pool's invariants under random sequences of payments, duplicate webhooks, refunds, offline
money, batches, invalidations and corrections (hypothesis, stateful).

Checked after every step: a contribution belongs to at most one batch, ever; the tonnes retired
cover every contribution marked retired (balance_g >= 0) and the balance equals the formula
worked out here independently; no payment is counted twice; the paid total is exact."""
from __future__ import annotations

import io
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from flask_babel import force_locale
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from resident_app.carbon.conversion import GRAMS_PER_TONNE, grams_for_yen
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, AuditEntry, Batch, BatchStatus, Channel,
                                 Contribution, ContributionStatus, CreditType, Invalidation, Registry, Role,
                                 User)
from resident_app.models.addons import new_slug, new_token
from resident_app.services import DomainError
from resident_app.services.batches import close_batch, confirm_batch
from resident_app.services.corrections import record_correction
from resident_app.services.days import tokyo_today
from resident_app.services.invalidations import InvalidationData, record_invalidation
from resident_app.services.offline import record_offline_contribution
from resident_app.services.payments import fulfil_checkout_session
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.refunds import record_refund
from resident_app.services.register import batch_view
from resident_app.services.uploads import store_upload
from resident_app.services.pool import pool_figures
from resident_app.services.programme import current_rate

from ..conftest import wipe_database

PDF = b"%PDF-1.4\n%%EOF\n"


class PoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        wipe_database()
        self.staff = User(email="staff@city.example.jp", role=Role.STAFF, status=AccountStatus.ACTIVE,
                          organisation="環境政策課", contact_name="", session_token=secrets.token_hex(16),
                          password_hash="x")
        db.session.add(self.staff)
        db.session.flush()
        self.addon = AddOn(slug=new_slug(), owner_id=self.staff.id, kind=AddOnKind.COMMUNITY_BUS,
                           title_ja="バス", title_en="Bus", unit_price_yen=100)
        db.session.add(self.addon)
        db.session.commit()
        self.notice = store_upload(FileStorage(io.BytesIO(PDF), filename="notice.pdf"), actor=self.staff)
        # The model, kept apart from the database and compared with it after every step.
        # Dicts and lists keep insertion order, so draws replay identically (ids are random uuids).
        self.sessions: dict[str, dict] = {}        # session id -> {"id", "intent", "amount"}
        self.paid_order: list[str] = []            # sessions that became paid, once each, in order
        self.refunded: set[str] = set()
        self.offline_yen: list[int] = []
        self.first_batch: dict[int, int] = {}      # contribution id -> the batch that took it first
        self.released: set[int] = set()            # taken out of an open batch by a refund
        self.tonnes: dict[int, int] = {}           # invalidation id -> tonnes shown (after corrections)
        self.confirmed: set[int] = set()
        self.open: list[int] = []                  # batches closed and not yet confirmed
        self.next_serial = 1

    @property
    def paid_ever(self) -> set[str]:
        return set(self.paid_order)

    # --- payments ---------------------------------------------------------------------------------

    @rule(amount=st.integers(min_value=50, max_value=300_000))
    def start_payment(self, amount):
        """A resident opens the checkout: a pending contribution with its session."""
        self._start(amount)

    def _start(self, amount: int) -> str:
        rate = current_rate()
        sid = f"cs_test_{uuid.uuid4().hex}"
        row = Contribution(number=f"OC-H-{uuid.uuid4().hex[:12]}", certificate_token=new_token(),
                           addon_id=self.addon.id, channel=Channel.STRIPE, status=ContributionStatus.PENDING,
                           quantity=1, unit_price_yen=amount, amount_yen=amount,
                           co2_g=grams_for_yen(amount, rate.yen_per_t), rate_id=rate.id,
                           rate_yen_per_t=rate.yen_per_t, idempotency_key=f"h-{uuid.uuid4()}",
                           stripe_session_id=sid, receipt_email="")
        db.session.add(row)
        db.session.commit()
        self.sessions[sid] = {"id": row.id, "intent": f"pi_{uuid.uuid4().hex[:20]}", "amount": amount}
        return sid

    def _session(self, sid: str, **overrides) -> dict:
        known = self.sessions[sid]
        return {"id": sid, "payment_status": "paid", "amount_total": known["amount"], "currency": "jpy",
                "payment_intent": known["intent"], **overrides}

    def _deliver(self, sid: str) -> None:
        outcome = fulfil_checkout_session(self._session(sid)).result
        if sid in self.paid_ever:
            assert outcome == "already", outcome
        else:
            assert outcome == "paid", outcome
            self.paid_order.append(sid)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def deliver_completion(self, data):
        """A checkout.session.completed delivery: the first one pays, every later one (duplicates,
        twins, the success page) finds it already paid."""
        self._deliver(data.draw(st.sampled_from(list(self.sessions))))

    @initialize(amounts=st.lists(st.integers(min_value=50, max_value=300_000), max_size=4))
    def some_paid_already(self, amounts):
        for amount in amounts:
            self._deliver(self._start(amount))

    @rule(amount=st.integers(min_value=50, max_value=300_000))
    def pay(self, amount):
        """Start a checkout and receive its completion at once."""
        self._deliver(self._start(amount))

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), wrong=st.sampled_from(["amount", "currency", "unpaid"]))
    def deliver_something_wrong(self, data, wrong):
        sid = data.draw(st.sampled_from(list(self.sessions)))
        overrides = {"amount": {"amount_total": self.sessions[sid]["amount"] + 1},
                     "currency": {"currency": "usd"}, "unpaid": {"payment_status": "unpaid"}}[wrong]
        outcome = fulfil_checkout_session(self._session(sid, **overrides)).result
        assert outcome in ("mismatch", "not_paid"), outcome

    @precondition(lambda self: self.paid_order)
    @rule(data=st.data(), where=st.sampled_from(["anywhere", "open batch", "retired"]))
    def refund(self, data, where):
        """A charge.refunded delivery (again, if already refunded). `where` aims at the interesting
        cases, which random choice alone reaches too rarely."""
        batch_of = dict(db.session.execute(select(Contribution.id, Contribution.batch_id)).all())
        wanted = {"anywhere": lambda b: True, "open batch": lambda b: b in self.open,
                  "retired": lambda b: b in self.confirmed}[where]
        choices = [s for s in self.paid_order if wanted(batch_of[self.sessions[s]["id"]])] or self.paid_order
        sid = data.draw(st.sampled_from(choices))
        known = self.sessions[sid]
        batch_before = db.session.scalar(select(Contribution.batch_id).where(Contribution.id == known["id"]))
        outcome = record_refund({"payment_intent": known["intent"], "refunded": True,
                                 "amount_refunded": known["amount"]}).result
        if sid in self.refunded:
            assert outcome == "ignored", outcome
            return
        assert outcome == "refunded", outcome
        self.refunded.add(sid)
        if batch_before is not None and batch_before not in self.confirmed:
            self.released.add(known["id"])
        event("refund " + ("before batching" if batch_before is None else
                           "after retirement" if batch_before in self.confirmed else "in an open batch"))

    @rule(quantity=st.integers(min_value=1, max_value=500), days_ago=st.integers(min_value=0, max_value=200),
          channel=st.sampled_from([Channel.CASH, Channel.BANK_TRANSFER]))
    def offline(self, quantity, days_ago, channel):
        row = record_offline_contribution(self.addon, quantity=quantity, channel=channel,
                                          received_on=tokyo_today() - timedelta(days=days_ago),
                                          recorded_by=self.staff)
        self.offline_yen.append(row.amount_yen)

    # --- batches ----------------------------------------------------------------------------------

    @rule(data=st.data())
    def close(self, data):
        moments = sorted(db.session.scalars(select(Contribution.paid_at).where(Contribution.paid_at.is_not(None))))
        cutoff = data.draw(st.sampled_from([datetime.now(timezone.utc), *moments]))
        try:
            self.open.append(close_batch(cutoff, actor=self.staff).id)
            event("batch closed")
        except DomainError:
            waiting = db.session.scalar(select(func.count(Contribution.id)).where(
                Contribution.batch_id.is_(None), Contribution.status == ContributionStatus.PAID,
                Contribution.paid_at <= cutoff))
            assert waiting == 0

    def _open(self, *statuses: BatchStatus) -> list[int]:
        return list(db.session.scalars(select(Batch.id).where(Batch.status.in_(statuses)).order_by(Batch.id)))

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def purchase(self, data, batch_id: int | None = None):
        candidates = [batch_id] if batch_id else self._open(BatchStatus.DRAFT)
        if not candidates:
            return
        batch = db.session.get(Batch, data.draw(st.sampled_from(candidates)))
        tonnes = max(1, batch.tonnes_required)
        record_purchase(batch, PurchaseData(provider="信金", credit_type=CreditType.J_CREDIT, project_name="森林",
                                            project_id="JCL-1", credit_place="北海道/下川町", tonnes=tonnes,
                                            price_per_t_yen=10_000, total_yen=tonnes * 10_000,
                                            purchased_on=tokyo_today()), actor=self.staff)

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def invalidate(self, data, batch_id: int | None = None):
        candidates = [batch_id] if batch_id else self._open(BatchStatus.PURCHASED)
        if not candidates:
            return
        batch = db.session.get(Batch, data.draw(st.sampled_from(candidates)))
        have = sum(self.tonnes[i.id] for i in batch.invalidations)
        tonnes = max(1, batch.tonnes_required - have)
        first = self.next_serial
        self.next_serial += tonnes
        result = record_invalidation(batch, InvalidationData(
            registry=Registry.J_CREDIT, invalidated_on=tokyo_today(),
            serial_ranges=[(f"JP-777-{first:06d}", f"JP-777-{first + tonnes - 1:06d}")], tonnes=tonnes,
            purpose=f"purpose {first}", offset_place="東京都/八王子市", notice_file=self.notice), actor=self.staff)
        self.tonnes[result.invalidation.id] = tonnes

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def confirm(self, data):
        """Confirm whatever a purchased batch holds now: refused while the tonnes fall short."""
        candidates = self._open(BatchStatus.PURCHASED)
        if not candidates:
            return
        batch = db.session.get(Batch, data.draw(st.sampled_from(candidates)))
        codes = [w.code for w in batch_view(batch).warnings]
        try:
            confirm_batch(batch, actor=self.staff, acknowledged=codes)
        except DomainError:
            db.session.expire_all()
            assert db.session.get(Batch, batch.id).status != BatchStatus.INVALIDATED
            event("confirmation refused")
            return
        self._confirmed(batch.id)
        event("batch confirmed" + (" from the surplus alone" if not batch.invalidations else ""))

    @precondition(lambda self: self.confirmed)
    @rule(data=st.data(), change=st.integers(min_value=-3, max_value=3).filter(bool))
    def correct_tonnes(self, data, change):
        ids = sorted(i for i in self.tonnes if db.session.get(Invalidation, i).batch_id in self.confirmed)
        if not ids:
            return
        target = db.session.get(Invalidation, data.draw(st.sampled_from(ids)))
        new = self.tonnes[target.id] + change
        try:
            record_correction(target, field="tonnes", new_value=new, reason="registry notice says so",
                              actor=self.staff)
        except DomainError:
            event("correction refused")
            return  # below 1 t, or it would uncover retired contributions: refused, nothing changed
        self.tonnes[target.id] = new
        event("correction recorded")

    def _confirmed(self, batch_id: int) -> None:
        self.confirmed.add(batch_id)
        self.open.remove(batch_id)

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def settle(self, data):
        """What staff do for a closed batch: buy the required whole tonnes, invalidate them, confirm.
        With tonnes = what the batch requires this must always succeed."""
        candidates = self._open(BatchStatus.DRAFT, BatchStatus.PURCHASED)
        if not candidates:
            return
        batch = db.session.get(Batch, data.draw(st.sampled_from(candidates)))
        if batch.status == BatchStatus.DRAFT and batch.tonnes_required == 0:
            confirm_batch(batch, actor=self.staff)
            event("batch confirmed from the surplus alone")
        else:
            if batch.status == BatchStatus.DRAFT:
                self.purchase(data, batch_id=batch.id)
            have = sum(self.tonnes[i.id] for i in batch.invalidations)
            if not batch.invalidations or have < batch.tonnes_required:
                self.invalidate(data, batch_id=batch.id)
            codes = [w.code for w in batch_view(batch).warnings]
            confirm_batch(batch, actor=self.staff, acknowledged=codes)
            event("batch settled")
        self._confirmed(batch.id)

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def the_pool_is_sound(self):
        figures = pool_figures()
        rows = db.session.execute(select(Contribution.id, Contribution.batch_id, Contribution.status,
                                         Contribution.channel, Contribution.amount_yen, Contribution.co2_g)).all()

        # Each contribution belongs to at most one batch, ever (a refund in an open batch releases
        # it, and then it is never batched again).
        for cid, batch_id, *_ in rows:
            if batch_id is None:
                assert cid not in self.first_batch or cid in self.released, f"contribution {cid} left its batch"
                continue
            assert cid not in self.released, f"contribution {cid} was batched again"
            assert self.first_batch.setdefault(cid, batch_id) == batch_id

        # Tonnes retired cover every contribution marked retired; the balance is the formula.
        retired_g = sum(co2 for _, batch_id, status, _, _, co2 in rows
                        if batch_id in self.confirmed and status == ContributionStatus.PAID)
        retired_t = sum(t for i, t in self.tonnes.items() if db.session.get(Invalidation, i).batch_id in self.confirmed)
        assert figures.retired_t == retired_t
        assert figures.balance_g == retired_t * GRAMS_PER_TONNE - retired_g
        assert figures.balance_g >= 0

        # No payment counted twice, whatever was delivered how often.
        paid = self.paid_ever - self.refunded
        stripe = [status for _, _, status, channel, _, _ in rows if channel == Channel.STRIPE]
        assert stripe.count(ContributionStatus.PAID) == len(paid)
        assert stripe.count(ContributionStatus.REFUNDED) == len(self.refunded)
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "contribution.paid")) == len(self.paid_ever)

        # The public paid total is exactly what the model says came in.
        assert figures.paid_yen == sum(self.sessions[s]["amount"] for s in paid) + sum(self.offline_yen)
        assert figures.contributions == len(paid) + len(self.offline_yen)

        # Open batches owe what they hold, and their rounding is consistent.
        for batch in db.session.scalars(select(Batch).where(Batch.status != BatchStatus.INVALIDATED)):
            owed = sum(co2 for _, batch_id, status, _, _, co2 in rows
                       if batch_id == batch.id and status == ContributionStatus.PAID)
            assert batch.owed_g == owed
            assert batch.surplus_used_g == min(batch.owed_g, batch.surplus_available_g)
            assert batch.surplus_available_g + batch.tonnes_required * GRAMS_PER_TONNE == \
                batch.owed_g + batch.surplus_after_g


def test_pool_invariants_hold_under_random_sequences(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context(), force_locale("en"):
        run_state_machine_as_test(PoolMachine, settings=settings(
            max_examples=25, stateful_step_count=30, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
