"""A small pool built through the pool services (close, purchase, invalidate, confirm), for the
export, transparency and certificate tests. Returns ids and numbers, never ORM objects."""
from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from resident_app.bench_seed import buy_and_invalidate
from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, Channel, Contribution, ContributionStatus,
                                 CreditType, Registry, Role, User)
from resident_app.models.addons import new_slug, new_token
from resident_app.services.batches import close_batch, confirm_batch
from resident_app.services.days import tokyo_today
from resident_app.services.invalidations import InvalidationData, record_invalidation
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.uploads import store_upload
from resident_app.services.programme import current_rate

from .factories import PASSWORD, settle

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
T = 1_000_000


@dataclass(frozen=True)
class BuiltPool:
    staff_email: str
    organiser_email: str
    organiser_id: int
    bus_id: int
    event_id: int
    household_id: int
    batch_number: str
    invalidation_id: int
    open_contribution_id: int


def user(email: str, role: Role, organisation: str, status: AccountStatus = AccountStatus.ACTIVE) -> User:
    account = User(email=email, role=role, status=status, organisation=organisation, contact_name="担当",
                   session_token=secrets.token_hex(16))
    account.set_password(PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account


def addon(owner: User, kind: AddOnKind, title: str, price: int = 100) -> AddOn:
    item = AddOn(slug=new_slug(), owner_id=owner.id, kind=kind, title_ja=title, title_en=title, unit_price_yen=price)
    db.session.add(item)
    db.session.commit()
    return item


def paid(item: AddOn, amount_yen: int, *, paid_at: datetime, quantity: int = 1, display_name: str = "",
         status: ContributionStatus = ContributionStatus.PAID) -> Contribution:
    rate = current_rate()
    row = Contribution(number=f"OC-T-{uuid.uuid4().hex[:12]}", certificate_token=new_token(), addon_id=item.id,
                       channel=Channel.STRIPE, status=ContributionStatus.PENDING, quantity=quantity,
                       unit_price_yen=amount_yen // quantity, amount_yen=amount_yen,
                       co2_g=amount_yen * T // rate.yen_per_t, rate_id=rate.id, rate_yen_per_t=rate.yen_per_t,
                       idempotency_key=f"t-{uuid.uuid4()}", display_name=display_name,
                       receipt_email="resident@example.jp", stripe_payment_intent_id=f"pi_{uuid.uuid4().hex[:16]}")
    db.session.add(row)
    return settle(row, status, paid_at=paid_at)


def build_pool(app, tmp_path) -> BuiltPool:
    """Staff, an organiser with a bus fare and an event, a staff household offset; contributions in
    two months; one confirmed batch of 3 t (J-Credit, serials JP-123-0001..0003) and one later
    contribution still waiting."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context(), force_locale("en"):
        staff = user("staff@city.example.jp", Role.STAFF, "環境政策課")
        organiser = user("bus@npo.example.jp", Role.ORGANISER, "みどり台バス")
        bus = addon(organiser, AddOnKind.COMMUNITY_BUS, "みどり台バス")
        event = addon(organiser, AddOnKind.EVENT_TICKET, "環境フェスタ", price=200)
        household = addon(staff, AddOnKind.HOUSEHOLD, "家庭のオフセット", price=500)
        now = datetime.now(timezone.utc)
        earlier = now - timedelta(days=40)
        paid(bus, 12_000, paid_at=earlier, quantity=120, display_name="=HYPERLINK(\"http://evil\")")
        paid(event, 8_000, paid_at=now - timedelta(minutes=20), quantity=40, display_name="山田 花子")
        paid(household, 5_000, paid_at=now - timedelta(minutes=15))
        paid(bus, 300, paid_at=now - timedelta(minutes=12), status=ContributionStatus.REFUNDED)
        batch = close_batch(now - timedelta(minutes=10), actor=staff)      # 2.5 t owed -> 3 t
        record_purchase(batch, PurchaseData(
            provider="みどり信金", credit_type=CreditType.J_CREDIT, project_name="下川町森林吸収", project_id="JCL-0042",
            credit_place="北海道/下川町", tonnes=3, price_per_t_yen=10_000, total_yen=30_000,
            purchased_on=tokyo_today()), actor=staff)
        notice = store_upload(FileStorage(io.BytesIO(PDF), filename="無効化通知.pdf"), actor=staff)
        item = record_invalidation(batch, InvalidationData(
            registry=Registry.J_CREDIT, invalidated_on=tokyo_today(),
            serial_ranges=[("JP-123-0001", "JP-123-0003")], tonnes=3, purpose="2026年度 共同購入",
            offset_place="東京都/八王子市", notice_file=notice), actor=staff).invalidation
        confirm_batch(batch, actor=staff)
        waiting = paid(bus, 1_000, paid_at=now - timedelta(minutes=5), quantity=10)
        return BuiltPool(staff.email, organiser.email, organiser.id, bus.id, event.id, household.id, batch.number,
                         item.id, waiting.id)


def settle_batch(batch, staff: User, *, tonnes: int | None = None) -> int:
    """What staff do for a closed batch: buy its tonnes (or `tonnes`), invalidate them under fresh
    serial numbers, confirm with every warning ticked. Returns the batch id."""
    from resident_app.services.register import batch_view

    needed = batch.tonnes_required if tonnes is None else tonnes
    if needed:
        buy_and_invalidate(batch, staff, needed)
    confirm_batch(batch, actor=staff, acknowledged=[w.code for w in batch_view(batch).warnings])
    return batch.id
