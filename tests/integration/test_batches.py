"""Purchase batches, credit purchases, invalidations, corrections, uploads and offline money."""
from __future__ import annotations

import io
import secrets
import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from resident_app.carbon.pool import (EXCESS_TONNES, PURCHASE_DIFFERS, SAME_PLACE, SERIALS_MISMATCH,
                                      TONNES_SHORT, TOTAL_MISMATCH, SerialRange)
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, AuditEntry, Batch, BatchStatus, Channel,
                                 Contribution, ContributionStatus, CreditType, IllegalTransition,
                                 OfflineReceipt, Registry, Role, User)
from resident_app.models.addons import new_slug, new_token
from resident_app.services import DomainError
from resident_app.services.batches import close_batch, confirm_batch, preview_batch
from resident_app.services.corrections import record_correction
from resident_app.services.days import tokyo_today
from resident_app.services.invalidations import InvalidationData, record_invalidation, update_invalidation
from resident_app.services.offline import record_offline_contribution
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.refunds import record_refund
from resident_app.services.register import batch_view, certificate_retirement, warning_message
from resident_app.services.uploads import store_upload, stored_file_path, upload_root
from resident_app.services.pool import (pool_figures, pool_totals_by_addon, pool_totals_by_kind,
                                        pool_totals_by_month, pool_totals_by_organiser)
from resident_app.services.programme import current_rate

from .factories import settle

T = 1_000_000
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def pool(ctx, tmp_path):
    ctx.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with force_locale("en"):  # messages are matched in English whatever the catalogue holds
        yield Pool()


class Pool:
    """Staff, an organiser with a bus fare add-on, and helpers that make paid contributions."""

    def __init__(self) -> None:
        self.staff = self.user("staff@city.example.jp", Role.STAFF, "環境政策課")
        self.organiser = self.user("bus@npo.example.jp", Role.ORGANISER, "みどり台バス")
        self.bus = AddOn(slug=new_slug(), owner_id=self.organiser.id, kind=AddOnKind.COMMUNITY_BUS,
                         title_ja="バス", title_en="Bus", unit_price_yen=100)
        db.session.add(self.bus)
        db.session.commit()
        self._notice = None

    @staticmethod
    def user(email: str, role: Role, organisation: str) -> User:
        user = User(email=email, role=role, status=AccountStatus.ACTIVE, organisation=organisation,
                    contact_name="担当", session_token=secrets.token_hex(16))
        user.set_password("correct-horse-battery")
        db.session.add(user)
        db.session.commit()
        return user

    def paid(self, amount_yen: int, *, paid_at: datetime | None = None, addon: AddOn | None = None) -> Contribution:
        rate = current_rate()
        addon = addon or self.bus
        row = Contribution(number=f"OC-T-{uuid.uuid4().hex[:12]}", certificate_token=new_token(), addon_id=addon.id,
                           channel=Channel.STRIPE, status=ContributionStatus.PENDING, quantity=1,
                           unit_price_yen=amount_yen, amount_yen=amount_yen, co2_g=amount_yen * T // rate.yen_per_t,
                           rate_id=rate.id, rate_yen_per_t=rate.yen_per_t, idempotency_key=f"t-{uuid.uuid4()}",
                           stripe_payment_intent_id=f"pi_{uuid.uuid4().hex[:16]}")
        db.session.add(row)
        return settle(row, paid_at=paid_at or datetime.now(timezone.utc) - timedelta(minutes=5))

    def notice(self):
        if self._notice is None:
            self._notice = store_upload(FileStorage(io.BytesIO(PDF), filename="無効化通知.pdf"), actor=self.staff)
        return self._notice

    def purchase(self, batch: Batch, tonnes: int, **overrides) -> list:
        data = PurchaseData(provider="みどり信金", credit_type=CreditType.J_CREDIT, project_name="下川町森林吸収",
                            project_id="JCL-0042", credit_place="北海道/下川町", tonnes=tonnes,
                            price_per_t_yen=10_000, total_yen=tonnes * 10_000, purchased_on=tokyo_today())
        for name, value in overrides.items():
            setattr(data, name, value)
        return record_purchase(batch, data, actor=self.staff).warnings

    def invalidate(self, batch: Batch, tonnes: int, *, first: int = 1, **overrides):
        data = InvalidationData(registry=Registry.J_CREDIT, invalidated_on=tokyo_today(),
                                serial_ranges=[(f"JP-123-{first:04d}", f"JP-123-{first + tonnes - 1:04d}")],
                                tonnes=tonnes, purpose="2026年度 コミュニティバス", offset_place="東京都/八王子市",
                                notice_file=self.notice())
        for name, value in overrides.items():
            setattr(data, name, value)
        return record_invalidation(batch, data, actor=self.staff)


def codes(warnings) -> list[str]:
    return [w.code for w in warnings]


def audits(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- the happy path -------------------------------------------------------------------------------

def test_pay_batch_purchase_invalidate_confirm_and_carry_the_surplus(pool):
    first, second = pool.paid(12_000), pool.paid(13_000)              # 1.2 t + 1.3 t, 5 minutes ago
    later = pool.paid(1_000, paid_at=now() - timedelta(minutes=2))    # after the cut-off below
    cutoff = now() - timedelta(minutes=3)
    assert preview_batch(cutoff).tonnes_required == 3
    batch = close_batch(cutoff, actor=pool.staff)
    assert (batch.status, batch.contribution_count, batch.paid_yen, batch.owed_g) == ("draft", 2, 25_000, 2_500_000)
    assert (batch.surplus_available_g, batch.surplus_used_g, batch.tonnes_required, batch.surplus_after_g) == \
        (0, 0, 3, 500_000)
    assert batch.number.startswith("PB-20") and audits("batch.close") == 1
    assert db.session.get(Contribution, later.id).batch_id is None
    assert certificate_retirement(db.session.get(Contribution, first.id)) is None   # awaiting invalidation

    assert pool.purchase(batch, 3) == []
    assert batch.status == BatchStatus.PURCHASED
    result = pool.invalidate(batch, 3)
    assert result.warnings == []
    assert pool_figures().retired_t == 0                               # nothing counts before confirmation
    confirm_batch(batch, actor=pool.staff)
    assert batch.status == BatchStatus.INVALIDATED and batch.confirmed_at is not None
    figures = pool_figures()
    assert (figures.retired_t, figures.balance_g) == (3, 500_000)

    retirement = certificate_retirement(db.session.get(Contribution, second.id))
    assert retirement is not None and not retirement.from_surplus
    assert retirement.batch_number == batch.number
    assert retirement.invalidated_on == tokyo_today() and retirement.registry == Registry.J_CREDIT
    assert retirement.serial_ranges == (SerialRange("JP-123-0001", "JP-123-0003"),)
    assert (retirement.project_name, retirement.credit_type, retirement.tonnes) == ("下川町森林吸収", "j_credit", 3)

    # The next batch uses the 0.5 t carried first: 0.8 + 0.1 t owed, less 0.5 t -> 0.4 t -> 1 tonne.
    pool.paid(8_000)
    batch2 = close_batch(now(), actor=pool.staff)
    assert (batch2.owed_g, batch2.surplus_available_g, batch2.surplus_used_g, batch2.tonnes_required,
            batch2.surplus_after_g) == (900_000, 500_000, 500_000, 1, 600_000)
    pool.purchase(batch2, 1)
    pool.invalidate(batch2, 1, first=4, purpose="2026年度 コミュニティバス 第2回")
    confirm_batch(batch2, actor=pool.staff)
    assert (pool_figures().retired_t, pool_figures().balance_g) == (4, 600_000)
    assert db.session.scalar(select(func.count(Contribution.id)).where(Contribution.batch_id.is_not(None))) == 4


def test_a_batch_the_surplus_covers_needs_no_purchase(pool):
    pool.paid(15_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 2)
    pool.invalidate(batch, 2)
    confirm_batch(batch, actor=pool.staff)
    assert pool_figures().balance_g == 500_000
    small = pool.paid(3_000)
    covered = close_batch(now(), actor=pool.staff)
    assert (covered.tonnes_required, covered.surplus_used_g, covered.surplus_after_g) == (0, 300_000, 200_000)
    confirm_batch(covered, actor=pool.staff)                           # draft -> invalidated directly
    assert pool_figures().balance_g == 200_000
    retirement = certificate_retirement(db.session.get(Contribution, small.id))
    assert retirement.from_surplus and retirement.registry is None and retirement.tonnes == 0


def test_the_transition_table_refuses_illegal_moves(pool):
    pool.paid(1_000)
    batch = close_batch(now(), actor=pool.staff)
    batch.status = BatchStatus.INVALIDATED
    with pytest.raises(IllegalTransition):
        batch.move_to(BatchStatus.PURCHASED)
    db.session.rollback()
    assert not BatchStatus.PURCHASED.can_become(BatchStatus.DRAFT)


# --- warnings -------------------------------------------------------------------------------------

def test_warnings_are_codes_with_params_and_must_be_acknowledged(pool):
    pool.paid(25_000)                                                  # 2.5 t owed -> 3 t
    batch = close_batch(now(), actor=pool.staff)
    assert codes(pool.purchase(batch, 4, total_yen=41_000)) == [TOTAL_MISMATCH, EXCESS_TONNES]   # 4 t for 3
    warnings = pool.invalidate(batch, 3, serial_ranges=[("JP-9-0001", "JP-9-0002")],
                               offset_place="北海道 下川町").warnings
    assert codes(warnings) == [TOTAL_MISMATCH, SERIALS_MISMATCH, SAME_PLACE, PURCHASE_DIFFERS]
    mismatch = warnings[1]
    assert mismatch.params == {"purpose": "2026年度 コミュニティバス", "serial_t": 2, "tonnes": 3}
    assert "2 t" in str(warning_message(mismatch))
    with pytest.raises(DomainError) as refused:
        confirm_batch(batch, actor=pool.staff, acknowledged=[TOTAL_MISMATCH])
    assert refused.value.field == "acknowledged" and SAME_PLACE in str(refused.value.message)
    assert batch.status == BatchStatus.PURCHASED
    done = confirm_batch(batch, actor=pool.staff, acknowledged=[w.code for w in warnings])
    assert codes(done.warnings) == codes(warnings)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.confirm"))
    assert set(entry.after["warnings_acknowledged"]) == set(codes(warnings))


def test_short_tonnes_warn_and_an_uncovered_batch_cannot_be_confirmed(pool):
    pool.paid(25_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 2)
    warnings = pool.invalidate(batch, 2).warnings
    assert codes(warnings) == [TONNES_SHORT]
    assert warnings[0].params == {"invalidated_t": 2, "required_t": 3, "short_g": 500_000}
    with pytest.raises(DomainError, match="short"):
        confirm_batch(batch, actor=pool.staff, acknowledged=[TONNES_SHORT])
    # Topping up with a second invalidation for another purpose makes it whole.
    more = pool.invalidate(batch, 1, first=3, purpose="2026年度 イベント")
    assert codes(more.warnings) == [PURCHASE_DIFFERS]
    confirm_batch(batch, actor=pool.staff, acknowledged=[PURCHASE_DIFFERS])
    assert pool_figures().retired_t == 3


# --- refusals -------------------------------------------------------------------------------------

def test_an_empty_batch_is_refused(pool):
    with pytest.raises(DomainError) as refused:
        close_batch(now(), actor=pool.staff)
    assert refused.value.field == "cutoff"
    pool.paid(1_000)
    close_batch(now(), actor=pool.staff)
    with pytest.raises(DomainError):                                   # everything is already batched
        close_batch(now(), actor=pool.staff)
    with pytest.raises(DomainError):
        close_batch(now() + timedelta(days=1), actor=pool.staff)
    assert db.session.scalar(select(func.count(Batch.id))) == 1


def test_only_staff_close_batches(pool):
    pool.paid(1_000)
    with pytest.raises(DomainError):
        close_batch(now(), actor=pool.organiser)


def test_nothing_can_be_edited_after_confirmation(pool):
    pool.paid(5_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 1)
    item = pool.invalidate(batch, 1).invalidation
    confirm_batch(batch, actor=pool.staff)
    for attempt in (lambda: pool.purchase(batch, 2),
                    lambda: pool.invalidate(batch, 1, first=50, purpose="other"),
                    lambda: update_invalidation(item, InvalidationData(
                        registry="j_credit_registry", invalidated_on=tokyo_today(),
                        serial_ranges=[("JP-1-1", "JP-1-1")], tonnes=1, purpose="x", offset_place="y"),
                        actor=pool.staff),
                    lambda: confirm_batch(batch, actor=pool.staff)):
        with pytest.raises(DomainError, match="confirmed"):
            attempt()
    assert batch_view(batch).invalidations[0].tonnes == 1


def test_edits_before_confirmation_are_allowed_and_audited(pool):
    pool.paid(5_000)
    batch = close_batch(now(), actor=pool.staff)
    with pytest.raises(DomainError, match="purchase"):
        pool.invalidate(batch, 1)                                      # purchase first
    pool.purchase(batch, 1)
    item = pool.invalidate(batch, 2).invalidation
    data = InvalidationData(registry=Registry.J_VER, invalidated_on=tokyo_today(),
                            serial_ranges=[SerialRange("JP-123-0001", "JP-123-0001")], tonnes=1,
                            purpose="2026年度 コミュニティバス", offset_place="東京都/八王子市",
                            notice_file=pool.notice())
    assert update_invalidation(item, data, actor=pool.staff).warnings == []
    assert item.credit_registry == Registry.J_VER and audits("invalidation.update") == 1


def test_one_invalidation_per_purpose(pool):
    pool.paid(15_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 2)
    pool.invalidate(batch, 1, purpose="2026年度 バス")
    with pytest.raises(DomainError) as refused:
        pool.invalidate(batch, 1, first=2, purpose=" 2026年度　バス ")     # full-width space, same purpose
    assert refused.value.field == "purpose"


def test_serials_cannot_be_invalidated_twice(pool):
    pool.paid(5_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 1)
    pool.invalidate(batch, 1)
    confirm_batch(batch, actor=pool.staff)
    pool.paid(5_000)
    batch2 = close_batch(now(), actor=pool.staff)
    pool.purchase(batch2, 1)
    with pytest.raises(DomainError) as refused:
        pool.invalidate(batch2, 1)                                     # JP-123-0001 again
    assert refused.value.field == "serial_ranges"


@pytest.mark.parametrize("ranges", [[("JP-1-0001", "JP-2-0003")], [("JP-1-0003", "JP-1-0001")], [("A", "B")], []])
def test_bad_serial_ranges_are_refused(pool, ranges):
    pool.paid(5_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 1)
    with pytest.raises(DomainError) as refused:
        pool.invalidate(batch, 1, serial_ranges=ranges)
    assert refused.value.field == "serial_ranges"


def test_confirmation_needs_the_registry_notice(pool):
    pool.paid(5_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 1)
    pool.invalidate(batch, 1, notice_file=None)
    with pytest.raises(DomainError) as refused:
        confirm_batch(batch, actor=pool.staff)
    assert refused.value.field == "notice_file"


# --- uploads --------------------------------------------------------------------------------------

def test_uploads_are_stored_by_hash_with_their_name(pool):
    stored = store_upload(FileStorage(io.BytesIO(PDF), filename="C:\\scan\\無効化通知.PDF"), actor=pool.staff)
    assert (stored.original_name, stored.content_type, stored.size_bytes) == ("無効化通知.PDF", "application/pdf", len(PDF))
    path = stored_file_path(stored)
    assert path.read_bytes() == PDF and path.parent.name == stored.sha256[:2]
    again = store_upload(FileStorage(io.BytesIO(PDF), filename="copy.pdf"), actor=pool.staff)
    assert again.storage_path == stored.storage_path and again.id != stored.id
    png = store_upload(FileStorage(io.BytesIO(PNG), filename="notice.png"), actor=pool.staff)
    assert png.content_type == "image/png"
    jpeg = store_upload(FileStorage(io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 20), filename="n.jpeg"),
                        actor=pool.staff)
    assert jpeg.content_type == "image/jpeg" and audits("file.upload") == 4


@pytest.mark.parametrize("content, name", [
    (b"<html><script>alert(1)</script>", "notice.pdf"),   # the extension lies
    (PDF, "notice.png"),                                   # the content is a PDF, the name says PNG
    (b"MZ\x90\x00", "notice.exe"),
    (b"GIF89a....", "notice.gif"),
    (b"", "empty.pdf"),
    (PDF, ""),
])
def test_bad_uploads_are_refused(pool, content, name):
    with pytest.raises(DomainError) as refused:
        store_upload(FileStorage(io.BytesIO(content), filename=name), actor=pool.staff)
    assert refused.value.field == "file"
    root = upload_root()
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_uploads_over_10_mb_are_refused(pool):
    big = PDF + b"0" * (10 * 1024 * 1024)
    with pytest.raises(DomainError, match="MB"):
        store_upload(FileStorage(io.BytesIO(big), filename="big.pdf"), actor=pool.staff)


# --- corrections ----------------------------------------------------------------------------------

def test_corrections_stay_visible_and_apply_on_top(pool):
    pool.paid(15_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 2)
    item = pool.invalidate(batch, 2).invalidation
    with pytest.raises(DomainError, match="not confirmed"):
        record_correction(item, field="tonnes", new_value=3, reason="typo", actor=pool.staff)
    confirm_batch(batch, actor=pool.staff)
    assert pool_figures().retired_t == 2
    with pytest.raises(DomainError) as refused:
        record_correction(item, field="tonnes", new_value=3, reason="  ", actor=pool.staff)
    assert refused.value.field == "reason"
    with pytest.raises(DomainError):
        record_correction(item, field="batch_id", new_value=3, reason="x", actor=pool.staff)
    with pytest.raises(DomainError) as refused:
        record_correction(item, field="tonnes", new_value=2, reason="same", actor=pool.staff)
    assert refused.value.field == "new_value"

    # Break 6: one more tonne retired needs the serial range that covers it, recorded with it.
    with pytest.raises(DomainError) as refused:
        record_correction(item, field="tonnes", new_value="3", reason="通知書では3 t", actor=pool.staff)
    assert refused.value.field == "serial_ranges" and pool_figures().retired_t == 2
    with pytest.raises(DomainError, match="count 2 t, not 3 t"):
        record_correction(item, field="tonnes", new_value="3", reason="通知書では3 t", actor=pool.staff,
                          serial_ranges=[("JP-123-0001", "JP-123-0002")])
    result = record_correction(item, field="tonnes", new_value="3", reason="通知書では3 t", actor=pool.staff,
                               serial_ranges=[("JP-123-0001", "JP-123-0003")])
    assert (result.correction.old_value, result.correction.new_value) == (2, 3)
    assert codes(result.warnings) == [EXCESS_TONNES, PURCHASE_DIFFERS]     # 3 t for 1.5 t owed
    bought = record_correction(batch.purchase, field="tonnes", new_value=3, reason="請求書どおり", actor=pool.staff)
    assert codes(bought.warnings) == [TOTAL_MISMATCH, EXCESS_TONNES]
    record_correction(batch.purchase, field="total_yen", new_value=30_000, reason="請求書どおり", actor=pool.staff)
    record_correction(item, field="invalidated_on", new_value=(tokyo_today() - timedelta(days=1)).isoformat(),
                      reason="日付の誤り", actor=pool.staff)

    view = batch_view(batch)
    assert codes(view.warnings) == [EXCESS_TONNES]                     # the extra tonne is surplus, and says so
    shown = view.invalidations[0]
    assert (shown.tonnes, shown.serial_t, shown.invalidated_on) == (3, 3, tokyo_today() - timedelta(days=1))
    assert shown.corrected == {"tonnes", "serial_ranges", "invalidated_on"}
    assert view.purchase.tonnes == 3 and view.purchase.corrected == {"tonnes", "total_yen"}
    assert [c.field for c in view.corrections] == ["serial_ranges", "tonnes", "tonnes", "total_yen",
                                                   "invalidated_on"]
    db.session.refresh(item)
    assert item.tonnes == 2                                            # the original record is untouched
    assert (pool_figures().retired_t, pool_figures().balance_g) == (3, 1_500_000)
    assert audits("correction.record") == 5
    retirement = certificate_retirement(db.session.scalar(select(Contribution)))
    assert retirement.tonnes == 3 and retirement.serial_ranges[0].end == "JP-123-0003"


@pytest.mark.parametrize("typed", ["²", "፩", "१", "9" * 40, "1e3", "two"])
def test_a_correction_typed_as_text_is_read_by_the_one_number_reader(pool, typed):
    # str.isdigit() accepts superscripts and other scripts' digits that int() then refuses: a 500
    # for any caller passing text. Now every text goes through parse_int and a refusal names the field.
    pool.paid(15_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 2)
    item = pool.invalidate(batch, 2).invalidation
    confirm_batch(batch, actor=pool.staff)
    with pytest.raises(DomainError) as refused:
        record_correction(item, field="tonnes", new_value=typed, reason="typo", actor=pool.staff)
    assert refused.value.field == "new_value"
    with pytest.raises(DomainError) as same:  # full-width digits are welcome: ２ is the 2 already shown
        record_correction(item, field="tonnes", new_value="２", reason="typo", actor=pool.staff)
    assert "same" in str(same.value.message)


def test_a_correction_cannot_uncover_retired_contributions(pool):
    pool.paid(15_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 3)
    item = pool.invalidate(batch, 3).invalidation
    confirm_batch(batch, actor=pool.staff, acknowledged=[EXCESS_TONNES])   # 3 t for 1.5 t: 1 t extra
    record_correction(item, field="tonnes", new_value=2, reason="1 t was never invalidated", actor=pool.staff)
    with pytest.raises(DomainError) as refused:
        record_correction(item, field="tonnes", new_value=1, reason="typo", actor=pool.staff)
    assert refused.value.field == "new_value"
    assert pool_figures().balance_g == 500_000


# --- money outside Stripe -------------------------------------------------------------------------

def test_a_fare_box_becomes_a_paid_contribution(pool):
    received = date(2026, 11, 1)
    row = record_offline_contribution(pool.bus, quantity=37, channel="cash", received_on=received,
                                      recorded_by=pool.staff, note="みどり台ルート 運賃箱",
                                      evidence=pool.notice())
    assert (row.status, row.channel, row.quantity, row.unit_price_yen, row.amount_yen, row.co2_g) == \
        ("paid", "cash", 37, 100, 3_700, 370_000)
    assert row.rate_yen_per_t == 10_000 and row.recorded_by_id == pool.staff.id
    assert row.number == f"OC-{row.created_at.year}-{row.id:06d}" and len(row.certificate_token) >= 32
    assert row.paid_at.astimezone(timezone(timedelta(hours=9))).date() == received
    receipt = db.session.scalar(select(OfflineReceipt).where(OfflineReceipt.contribution_id == row.id))
    assert receipt.received_on == received and receipt.evidence_file_id == pool.notice().id
    assert audits("contribution.offline") == 1
    assert pool_figures().paid_yen == 3_700
    batch = close_batch(date(2026, 11, 1), actor=pool.staff)          # a date cut-off includes that whole day
    assert (batch.owed_g, batch.tonnes_required) == (370_000, 1)


@pytest.mark.parametrize("overrides, field", [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -3}, "quantity"),
    ({"channel": "stripe"}, "channel"),
    ({"received_on": None}, "received_on"),
    ({"received_on": "future"}, "received_on"),
    ({"received_on": date(2026, 3, 1)}, "received_on"),           # before the first rate
])
def test_offline_contributions_are_checked(pool, overrides, field):
    kwargs = dict(quantity=37, channel=Channel.BANK_TRANSFER, received_on=date(2026, 11, 1), recorded_by=pool.staff)
    kwargs.update(overrides)
    if kwargs["received_on"] == "future":
        kwargs["received_on"] = tokyo_today() + timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        record_offline_contribution(pool.bus, **kwargs)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


# --- refunds --------------------------------------------------------------------------------------

def refund(row: Contribution):
    return record_refund({"payment_intent": row.stripe_payment_intent_id, "refunded": True,
                          "amount_refunded": row.amount_yen})


def test_a_refund_after_retirement_turns_its_grams_into_surplus(pool):
    kept, refunded = pool.paid(12_000), pool.paid(13_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 3)
    pool.invalidate(batch, 3)
    confirm_batch(batch, actor=pool.staff)
    assert pool_figures().balance_g == 500_000
    assert refund(refunded).result == "refunded"
    row = db.session.get(Contribution, refunded.id)
    assert (row.status, row.refunded_yen, row.batch_id) == ("refunded", 13_000, batch.id)
    assert row.refunded_at is not None
    figures = pool_figures()
    assert (figures.paid_yen, figures.retired_t, figures.balance_g) == (12_000, 3, 1_800_000)
    assert certificate_retirement(row) is None
    assert certificate_retirement(db.session.get(Contribution, kept.id)) is not None
    assert db.session.get(Batch, batch.id).owed_g == 2_500_000             # the confirmed record stays
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contribution.refunded"))
    assert entry.after["batch"] == "retired"
    assert refund(refunded).result == "ignored"                            # a second delivery changes nothing


def test_a_refund_in_an_open_batch_takes_it_out(pool):
    kept, refunded = pool.paid(12_000), pool.paid(13_000)
    batch = close_batch(now(), actor=pool.staff)
    pool.purchase(batch, 3)
    assert refund(refunded).result == "refunded"
    db.session.refresh(batch)
    assert db.session.get(Contribution, refunded.id).batch_id is None
    assert (batch.contribution_count, batch.owed_g, batch.tonnes_required) == (1, 1_200_000, 2)
    assert audits("batch.contribution_removed") == 1
    pool.invalidate(batch, 2)
    confirm_batch(batch, actor=pool.staff, acknowledged=[PURCHASE_DIFFERS])
    assert pool_figures().balance_g == 800_000
    with pytest.raises(DomainError):                                       # never batched again
        close_batch(now(), actor=pool.staff)


def test_a_refund_before_batching_is_never_batched(pool):
    pool.paid(5_000)
    gone = pool.paid(7_000)
    refund(gone)
    batch = close_batch(now(), actor=pool.staff)
    assert (batch.contribution_count, batch.owed_g) == (1, 500_000)


# --- concurrency ----------------------------------------------------------------------------------

def test_two_staff_closing_at_once_never_share_a_contribution(pool, ctx):
    for amount in (1_000, 2_000, 3_000, 4_000):
        pool.paid(amount)
    staff_id = pool.staff.id
    cutoff = now()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def close():
        with ctx.app_context():
            actor = db.session.get(User, staff_id)
            barrier.wait()
            try:
                outcomes.append(close_batch(cutoff, actor=actor).number)
            except DomainError:
                outcomes.append("refused")

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o == "refused" for o in outcomes) == [False, True]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Batch.id))) == 1
    assert db.session.scalar(select(func.count(Contribution.id)).where(Contribution.batch_id.is_(None))) == 0


# --- totals for the dashboard ---------------------------------------------------------------------

def test_totals_by_month_addon_kind_and_organiser(pool):
    event = AddOn(slug=new_slug(), owner_id=pool.staff.id, kind=AddOnKind.EVENT_TICKET, title_ja="祭",
                  title_en="Fest", unit_price_yen=200)
    db.session.add(event)
    db.session.commit()
    # 2026-10-31 23:30 in Tokyo is October; 00:30 on 1 November is November (15:30 UTC the day before).
    pool.paid(1_000, paid_at=datetime(2026, 10, 31, 14, 30, tzinfo=timezone.utc))
    pool.paid(2_000, paid_at=datetime(2026, 10, 31, 15, 30, tzinfo=timezone.utc))
    pool.paid(400, paid_at=datetime(2026, 11, 2, tzinfo=timezone.utc), addon=event)
    gone = pool.paid(9_000, paid_at=datetime(2026, 11, 3, tzinfo=timezone.utc))
    refund(gone)
    months = pool_totals_by_month()
    assert [(m.month, m.count, m.paid_yen, m.co2_g) for m in months] == [
        ("2026-10", 1, 1_000, 100_000), ("2026-11", 2, 2_400, 240_000)]
    assert [(a.slug, a.count, a.paid_yen) for a in pool_totals_by_addon()] == [
        (pool.bus.slug, 2, 3_000), (event.slug, 1, 400)]
    assert {k.kind: k.paid_yen for k in pool_totals_by_kind()} == {"community_bus": 3_000, "event_ticket": 400}
    assert [(o.organisation, o.paid_yen) for o in pool_totals_by_organiser()] == [("みどり台バス", 3_000),
                                                                                  ("環境政策課", 400)]
    assert [m.month for m in pool_totals_by_month(owner_id=pool.staff.id)] == ["2026-11"]
    assert pool_totals_by_month(start=datetime(2026, 11, 1, tzinfo=timezone.utc))[0].paid_yen == 400
