"""The pool's invariants under random sequences of payments, duplicate webhooks, full and partial
refunds, disputes opened, won and lost, cash and bank transfers, batches, invalidations,
corrections and two confirmations at once from two threads (hypothesis, stateful).

Checked after every step against a model kept apart from the database: the money and grams the
pool keeps, net of refunds; no payment counted twice; a contribution in a confirmed batch stays
there, and one leaves an open batch only by a refund or a dispute; the tonnes retired cover every
contribution retired (the balance is never negative). At the end of every run `flask pool check`
must find every invariant holding, the open data reproducing every total included."""
from __future__ import annotations

import io
import secrets
import threading
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import force_locale
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from resident_app.carbon.conversion import GRAMS_PER_TONNE, grams_for_yen, kept_grams
from resident_app.carbon.pool import ranges_tonnes_or_none
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, AuditEntry, Batch, BatchStatus, Channel,
                                 Contribution, ContributionStatus, CreditType, DisputeStatus, Invalidation,
                                 Registry, Role, User)
from resident_app.models.addons import new_slug, new_token
from resident_app.services import DomainError
from resident_app.services.batches import close_batch, confirm_batch
from resident_app.services.corrections import record_correction
from resident_app.services.days import tokyo_today
from resident_app.services.disputes import close_dispute, open_dispute
from resident_app.services.invalidations import InvalidationData, record_invalidation
from resident_app.services.offline import record_offline_contribution
from resident_app.services.payments import fulfil_checkout_session
from resident_app.services.pool import awaiting_figures, awaiting_recount, pool_figures
from resident_app.services.programme import current_rate
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.refunds import record_refund
from resident_app.services.register import batch_view, invalidation_view
from resident_app.services.uploads import store_upload

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
        self.staff_id = self.staff.id  # threads load their own copy: ORM objects belong to one session
        self.notice = store_upload(FileStorage(io.BytesIO(PDF), filename="notice.pdf"), actor=self.staff)
        # The model, kept apart from the database and compared with it after every step.
        # Dicts and lists keep insertion order, so draws replay identically (ids are random uuids).
        self.sessions: dict[str, dict] = {}        # session id -> {"id", "intent", "amount", "co2"}
        self.paid_order: list[str] = []            # sessions that became paid, once each, in order
        self.kept: dict[int, tuple[int, int]] = {}  # counted contribution id -> (yen, grams) it keeps
        self.refunded_yen: dict[str, int] = {}     # session -> the charge's refunded total so far
        self.disputed: dict[str, str] = {}         # session -> open dispute id
        self.offline = 0
        self.batch_of: dict[int, tuple] = {}       # contribution id -> (batch seen last step, was it confirmed)
        self.released: set[int] = set()            # let go by an open batch this step (refund or dispute)
        self.tonnes: dict[int, int] = {}           # invalidation id -> tonnes shown (after corrections)
        self.confirmed: set[int] = set()
        self.open: list[int] = []                  # batches closed and not yet confirmed
        self.next_serial = 1

    @property
    def paid_ever(self) -> set[str]:
        return set(self.paid_order)

    def _serials(self, tonnes: int) -> list[tuple[str, str]]:
        first = self.next_serial
        self.next_serial += tonnes
        return [(f"JP-777-{first:06d}", f"JP-777-{first + tonnes - 1:06d}")]

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
        self.sessions[sid] = {"id": row.id, "intent": f"pi_{uuid.uuid4().hex[:20]}", "amount": amount,
                              "co2": row.co2_g}
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
            self.kept[self.sessions[sid]["id"]] = (self.sessions[sid]["amount"], self.sessions[sid]["co2"])

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

    def _pick_paid(self, data, where: str) -> str:
        """A paid Stripe session, aimed at where it sits (random choice alone reaches those too rarely)."""
        batch_of = dict(db.session.execute(select(Contribution.id, Contribution.batch_id)).all())
        wanted = {"anywhere": lambda b: True, "open batch": lambda b: b in self.open,
                  "retired": lambda b: b in self.confirmed}[where]
        choices = [s for s in self.paid_order if wanted(batch_of[self.sessions[s]["id"]])] or self.paid_order
        return data.draw(st.sampled_from(choices))

    def _where(self, sid: str) -> str:
        batch_id = db.session.scalar(select(Contribution.batch_id).where(Contribution.id == self.sessions[sid]["id"]))
        return "unbatched" if batch_id is None else "retired" if batch_id in self.confirmed else "open batch"

    @precondition(lambda self: self.paid_order)
    @rule(data=st.data(), where=st.sampled_from(["anywhere", "open batch", "retired"]))
    def refund(self, data, where):
        """A charge.refunded in full (again, if already refunded)."""
        sid = self._pick_paid(data, where)
        known, cid = self.sessions[sid], self.sessions[sid]["id"]
        place = self._where(sid)
        outcome = record_refund({"payment_intent": known["intent"], "refunded": True,
                                 "amount_refunded": known["amount"]}).result
        if cid not in self.kept:
            assert outcome == "ignored", outcome
            return
        assert outcome == "refunded", outcome
        del self.kept[cid]
        self.refunded_yen[sid] = known["amount"]
        self.disputed.pop(sid, None)
        if place == "open batch":
            self.released.add(cid)
        event(f"refund ({place})")

    @precondition(lambda self: self.paid_order)
    @rule(data=st.data(), where=st.sampled_from(["anywhere", "open batch", "retired"]),
          share=st.integers(min_value=1, max_value=99))
    def partial_refund(self, data, where, share):
        """A charge.refunded for part of the amount: the charge's refunded total grows by `share` %
        of what is left; an older event (a smaller total) changes nothing."""
        sid = self._pick_paid(data, where)
        known, cid = self.sessions[sid], self.sessions[sid]["id"]
        before = self.refunded_yen.get(sid, 0)
        total = min(known["amount"] - 1, before + max(1, (known["amount"] - before) * share // 100))
        outcome = record_refund({"payment_intent": known["intent"], "refunded": False,
                                 "amount_refunded": total}).result
        if cid not in self.kept or total <= before:
            assert outcome == "ignored", outcome
            return
        assert outcome == "partially_refunded", outcome
        self.refunded_yen[sid] = total
        kept_yen = known["amount"] - total
        self.kept[cid] = (kept_yen, kept_grams(known["co2"], known["amount"], kept_yen))
        event(f"partial refund ({self._where(sid)})")

    @precondition(lambda self: self.paid_order)
    @rule(data=st.data(), where=st.sampled_from(["anywhere", "open batch", "retired"]))
    def open_a_dispute(self, data, where):
        """charge.dispute.created: held out of batches, still counted."""
        sid = self._pick_paid(data, where)
        known, cid = self.sessions[sid], self.sessions[sid]["id"]
        place = self._where(sid)
        dispute_id = f"du_{uuid.uuid4().hex[:16]}"
        outcome = open_dispute({"id": dispute_id, "payment_intent": known["intent"], "status": "needs_response"}).result
        if cid not in self.kept or sid in self.disputed:
            assert outcome == "ignored", outcome
            return
        assert outcome == "dispute_opened", outcome
        self.disputed[sid] = dispute_id
        if place == "open batch":
            self.released.add(cid)
        event(f"dispute opened ({place})")

    @precondition(lambda self: self.disputed)
    @rule(data=st.data(), won=st.booleans())
    def close_a_dispute(self, data, won):
        """charge.dispute.closed, won or lost (sometimes delivered twice)."""
        sid = data.draw(st.sampled_from(list(self.disputed)))
        known, cid = self.sessions[sid], self.sessions[sid]["id"]
        dispute = {"id": self.disputed.pop(sid), "payment_intent": known["intent"], "status": "won" if won else "lost"}
        outcome = close_dispute(dispute).result
        assert outcome == ("dispute_won" if won else "dispute_lost"), outcome
        assert close_dispute(dispute).result == "ignored"
        if not won:
            del self.kept[cid]
            self.refunded_yen[sid] = known["amount"]
        event("dispute " + ("won" if won else "lost"))

    @rule(quantity=st.integers(min_value=1, max_value=500), days_ago=st.integers(min_value=0, max_value=200),
          channel=st.sampled_from([Channel.CASH, Channel.BANK_TRANSFER]))
    def offline(self, quantity, days_ago, channel):
        """A fare box or a bank transfer, possibly for a day before a batch's cut-off (counted late)."""
        row = record_offline_contribution(self.addon, quantity=quantity, channel=channel,
                                          received_on=tokyo_today() - timedelta(days=days_ago),
                                          recorded_by=self.staff)
        self.kept[row.id] = (row.amount_yen, row.co2_g)
        self.offline += 1

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
                Contribution.dispute_status != DisputeStatus.OPEN, Contribution.paid_at <= cutoff))
            assert waiting == 0

    def _open(self, *statuses: BatchStatus) -> list[int]:
        return list(db.session.scalars(select(Batch.id).where(Batch.status.in_(statuses)).order_by(Batch.id)))

    @precondition(lambda self: self.open)
    @rule(data=st.data(), extra=st.sampled_from([0, 0, 0, 1]))
    def purchase(self, data, extra=0, batch_id: int | None = None):
        """Buy the tonnes required (sometimes one more: a warning to tick, the extra is surplus)."""
        candidates = [batch_id] if batch_id else self._open(BatchStatus.DRAFT)
        if not candidates:
            return
        batch = db.session.get(Batch, data.draw(st.sampled_from(candidates)))
        tonnes = max(1, batch.tonnes_required) + extra
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
        result = record_invalidation(batch, InvalidationData(
            registry=Registry.J_CREDIT, invalidated_on=tokyo_today(), serial_ranges=self._serials(tonnes),
            tonnes=tonnes, purpose=f"purpose {first}", offset_place="東京都/八王子市", notice_file=self.notice),
            actor=self.staff)
        self.tonnes[result.invalidation.id] = tonnes

    def _try_confirm(self, batch_id: int) -> bool:
        """Confirm with every warning acknowledged; True if it was confirmed, False if refused."""
        batch = db.session.get(Batch, batch_id)
        codes = [w.code for w in batch_view(batch).warnings]
        try:
            confirm_batch(batch, actor=db.session.get(User, self.staff_id), acknowledged=codes)
        except DomainError:
            return False
        return True

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def confirm(self, data):
        """Confirm whatever an open batch holds now: refused while the tonnes fall short, while it
        still needs credits bought, or once it holds no contribution at all."""
        batch_id = data.draw(st.sampled_from(self._open(BatchStatus.DRAFT, BatchStatus.PURCHASED)))
        if self._try_confirm(batch_id):
            self._confirmed(batch_id)
            event("batch confirmed")
        else:
            db.session.expire_all()
            assert db.session.get(Batch, batch_id).status != BatchStatus.INVALIDATED
            event("confirmation refused")

    @precondition(lambda self: len(self.open) >= 2)
    @rule(data=st.data(), ready=st.booleans())
    def confirm_two_at_once(self, data, ready):
        """Two members of staff confirm two batches at the same moment, from two threads with their
        own connections: whichever goes second decides on the balance the first one left."""
        first, second = data.draw(st.lists(st.sampled_from(self.open), min_size=2, max_size=2, unique=True))
        if ready:  # credits bought and invalidated for what each needs now
            for batch_id in (first, second):
                self._prepare(data, db.session.get(Batch, batch_id))
        db.session.commit()
        app, results, barrier = current_app._get_current_object(), {}, threading.Barrier(2)

        def confirm_in_thread(batch_id: int) -> None:
            with app.app_context(), force_locale("en"):
                barrier.wait(timeout=10)
                results[batch_id] = self._try_confirm(batch_id)
                db.session.remove()

        threads = [threading.Thread(target=confirm_in_thread, args=(b,)) for b in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        db.session.expire_all()
        for batch_id, done in results.items():
            assert done == (db.session.get(Batch, batch_id).status == BatchStatus.INVALIDATED)
            if done:
                self._confirmed(batch_id)
        event(f"two confirmations at once: {sum(results.values())} confirmed")

    @precondition(lambda self: self.confirmed)
    @rule(data=st.data(), change=st.integers(min_value=-3, max_value=3).filter(bool), with_serials=st.booleans())
    def correct_tonnes(self, data, change, with_serials):
        """A correction of an invalidation's tonnes. Raising needs the serial ranges that cover the
        new tonnes; lowering must leave what is retired covered."""
        ids = sorted(i for i in self.tonnes if db.session.get(Invalidation, i).batch_id in self.confirmed)
        if not ids:
            return
        target = db.session.get(Invalidation, data.draw(st.sampled_from(ids)))
        new = self.tonnes[target.id] + change
        serials = self._serials(new) if with_serials and new > 0 else None
        covered = ranges_tonnes_or_none(invalidation_view(target).serial_ranges) == new
        try:
            record_correction(target, field="tonnes", new_value=new, reason="registry notice says so",
                              actor=self.staff, serial_ranges=serials)
        except DomainError:
            assert new < 1 or change < 0 or not (serials or covered), "a raise with covering serials was refused"
            event("correction refused")
            return
        assert change < 0 or serials or covered, "a raise without serials was accepted"
        self.tonnes[target.id] = new
        event("correction recorded")

    def _prepare(self, data, batch: Batch) -> None:
        """Buy and invalidate what the batch needs now, unless the surplus covers it whole."""
        if batch.contribution_count and not (batch.status == BatchStatus.DRAFT and batch.tonnes_required == 0):
            if batch.status == BatchStatus.DRAFT:
                self.purchase(data, batch_id=batch.id)
            have = sum(self.tonnes[i.id] for i in batch.invalidations)
            if not batch.invalidations or have < batch.tonnes_required:
                self.invalidate(data, batch_id=batch.id)

    def _confirmed(self, batch_id: int) -> None:
        self.confirmed.add(batch_id)
        self.open.remove(batch_id)

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def settle(self, data):
        """What staff do for a closed batch: buy the required whole tonnes, invalidate them, confirm.
        This always succeeds unless the batch holds nothing any more (refunded or disputed away)."""
        batch = db.session.get(Batch, data.draw(st.sampled_from(self._open(BatchStatus.DRAFT, BatchStatus.PURCHASED))))
        if batch.contribution_count == 0:
            assert not self._try_confirm(batch.id)
            event("an empty batch cannot be confirmed")
            return
        self._prepare(data, batch)
        assert self._try_confirm(batch.id)
        event("batch settled")
        self._confirmed(batch.id)

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def the_pool_is_sound(self):
        figures = pool_figures()
        rows = db.session.execute(select(Contribution.id, Contribution.batch_id, Contribution.status,
                                         Contribution.channel, Contribution.net_g,
                                         Contribution.dispute_status)).all()

        # A contribution in a confirmed batch stays there; one leaves an open batch only by a refund
        # or a dispute (a disputed one that was won may join a later batch); open batches hold only
        # paid contributions that are not under dispute.
        for cid, batch_id, status, _, _, dispute in rows:
            before = self.batch_of.get(cid)
            if before is not None and before[0] is not None and before[0] != batch_id:
                assert not before[1], f"contribution {cid} left a confirmed batch"
                assert batch_id is None and cid in self.released, f"contribution {cid} left its batch"
                self.released.discard(cid)
            if batch_id is not None and batch_id not in self.confirmed:
                assert status == ContributionStatus.PAID and dispute != DisputeStatus.OPEN
            self.batch_of[cid] = (batch_id, batch_id in self.confirmed)

        # The money and grams the pool keeps are exactly what the model says.
        assert figures.paid_yen == sum(yen for yen, _ in self.kept.values())
        assert figures.co2_g == sum(g for _, g in self.kept.values())
        assert figures.contributions == len(self.kept)

        # Tonnes retired cover every contribution retired; the balance is the formula.
        retired_g = sum(g for _, batch_id, status, _, g, _ in rows
                        if batch_id in self.confirmed and status == ContributionStatus.PAID)
        retired_t = sum(t for i, t in self.tonnes.items() if db.session.get(Invalidation, i).batch_id in self.confirmed)
        assert figures.retired_t == retired_t
        assert figures.balance_g == retired_t * GRAMS_PER_TONNE - retired_g
        assert figures.balance_g >= 0

        # What awaits the next batch (kept by the contributions' triggers) is a recount of them.
        assert awaiting_figures() == awaiting_recount()
        assert awaiting_figures().count == sum(1 for _, batch_id, status, _, _, dispute in rows
                                               if batch_id is None and status == ContributionStatus.PAID
                                               and dispute != DisputeStatus.OPEN)

        # No payment counted twice, whatever was delivered how often.
        stripe = [cid for cid, _, status, channel, _, _ in rows
                  if channel == Channel.STRIPE and status == ContributionStatus.PAID]
        assert sorted(stripe) == sorted(self.sessions[s]["id"] for s in self.paid_order
                                        if self.sessions[s]["id"] in self.kept)
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "contribution.paid")) == len(self.paid_ever)

        # Open batches owe what they hold, and their rounding is consistent.
        for batch in db.session.scalars(select(Batch).where(Batch.status != BatchStatus.INVALIDATED)):
            owed = sum(g for _, batch_id, status, _, g, _ in rows
                       if batch_id == batch.id and status == ContributionStatus.PAID)
            assert batch.owed_g == owed
            assert batch.surplus_used_g == min(batch.owed_g, batch.surplus_available_g)
            assert batch.surplus_available_g + batch.tonnes_required * GRAMS_PER_TONNE == \
                batch.owed_g + batch.surplus_after_g

    def teardown(self):
        """After every run: `flask pool check` recomputes every invariant from the ledger and the
        tables, the open data's sums included."""
        db.session.commit()
        result = current_app.test_cli_runner().invoke(args=["pool", "check"])
        assert result.exit_code == 0, result.output


def test_pool_invariants_hold_under_random_sequences(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context(), force_locale("en"):
        run_state_machine_as_test(PoolMachine, settings=settings(
            max_examples=25, stateful_step_count=30, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
