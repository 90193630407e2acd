"""`flask bench seed --contributions N`: a pool the size of a city's after years, for the speed
benchmark (bench/speed.py), on a database prepared only with `flask db upgrade` and `flask seed`.

It fills the database through the app's own write path, so every derived table agrees and
`flask pool check` passes: organisers and add-ons through the account and add-on services;
contributions inserted pending in bulk, then made paid by the one mark_paid (one UPDATE and one
ledger INSERT per chunk, as bulk loading was designed to); batches closed, bought, invalidated and
confirmed through the batch services; refunds (full and partial, before batching, in an open batch
and after retirement) through the refund service; cash through the offline service. What it skips
is the per-payment audit row the webhook writes (an audit trail of fake payments would only be
noise) and Stripe itself: one audit row records the seeding."""
from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, insert, select, text
from werkzeug.datastructures import FileStorage

from .cli_params import WHOLE_NUMBER
from .extensions import db
from .models import (AddOn, AddOnKind, Batch, Channel, Contribution, ContributionStatus, CreditType, Registry,
                     Role, User)
from .models.addons import new_token
from .services.accounts import create_user, find_user
from .services.addons import AddOnData, create_addon
from .services.audit import add_audit
from .services.batches import close_batch, confirm_batch
from .services.days import tokyo_today
from .services.errors import DomainError
from .services.invalidations import InvalidationData, record_invalidation
from .services.offline import record_offline_contribution
from .services.payments import certificate_number, mark_paid
from .services.programme import current_rate
from .services.purchases import PurchaseData, record_purchase
from .services.refunds import refund_in_transaction
from .services.register import batch_view
from .services.uploads import store_upload

ACTOR = "bench"
STAFF_EMAIL = "bench-staff@example.invalid"
NOTICE_PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# (organisation, [(kind, Japanese title, English title, unit price)]): what the contributions spread over.
ORGANISERS = (
    ("みどり台コミュニティバス (bench)", [(AddOnKind.COMMUNITY_BUS, "みどり台ルート 乗車賃オフセット",
                                        "Midoridai route fare offset", 100),
                                       (AddOnKind.COMMUNITY_BUS, "さくら循環バス 乗車賃オフセット",
                                        "Sakura loop bus fare offset", 100)]),
    ("環境フェスタ実行委員会 (bench)", [(AddOnKind.EVENT_TICKET, "環境フェスタ 入場券オフセット",
                                       "Eco festa ticket offset", 200),
                                      (AddOnKind.EVENT_TICKET, "清掃マラソン 参加費オフセット",
                                       "Clean-up run entry offset", 300)]),
    ("みどり台エコツアー (bench)", [(AddOnKind.ECO_TOUR, "里山エコツアー オフセット", "Satoyama eco-tour offset", 500),
                                   (AddOnKind.OTHER, "商店街 お買い物オフセット", "Shopping street offset", 100)]),
)
MONTHS = 8                      # contributions spread over the months before this one
CHUNK = 10_000                  # contributions per INSERT and per mark_paid


@dataclass
class SeedResult:
    contributions: int = 0
    cash: int = 0
    refunds: int = 0
    partial_refunds: int = 0
    batches_confirmed: int = 0
    batches_open: int = 0
    seconds: float = 0.0


def _staff() -> User:
    staff = find_user(STAFF_EMAIL)
    if staff is None:
        staff = create_user(email=STAFF_EMAIL, password=secrets.token_urlsafe(24), role=Role.STAFF, actor=ACTOR,
                            organisation="環境政策課 (bench)")
    return staff


def _addons() -> list[AddOn]:
    """The bench's organisers and their add-ons (made once), with the programme's household offset."""
    addons = []
    for number, (organisation, items) in enumerate(ORGANISERS, start=1):
        email = f"bench-organiser-{number}@example.invalid"
        owner = find_user(email) or create_user(email=email, password=secrets.token_urlsafe(24),
                                                role=Role.ORGANISER, actor=ACTOR, organisation=organisation,
                                                contact_name="担当")
        owned = db.session.scalars(select(AddOn).where(AddOn.owner_id == owner.id).order_by(AddOn.id)).all()
        if not owned:
            owned = [create_addon(AddOnData(kind=kind, title_ja=ja, title_en=en, unit_price_yen=price), actor=owner)
                     for kind, ja, en, price in items]
        addons += owned
    household = db.session.scalar(select(AddOn).where(AddOn.kind == AddOnKind.HOUSEHOLD).order_by(AddOn.id))
    return addons + ([household] if household is not None else [])


def _month_starts(today: date) -> list[datetime]:
    """The first instant (UTC) of each of the MONTHS months before this one, oldest first."""
    starts = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        starts.append(datetime(year, month, 1, tzinfo=timezone.utc))
    return starts[::-1]


def _insert_paid(addons: list[AddOn], count: int, start: datetime, end: datetime, first_n: int) -> None:
    """`count` contributions paid between start and end: inserted pending, in chunks, then paid by
    mark_paid (one moment per chunk, chunks spread evenly over the period)."""
    rate = current_rate(at=start)
    chunk = max(1, min(CHUNK, -(-count // 6)))
    step = (end - start) / max(1, -(-count // chunk))
    next_id = int(db.session.scalar(select(func.coalesce(func.max(Contribution.id), 0)))) + 1
    for index, offset in enumerate(range(0, count, chunk)):
        paid_at = start + step * index + timedelta(minutes=1)
        rows = []
        for n in range(first_n + offset, first_n + min(offset + chunk, count)):
            addon = addons[n % len(addons)]
            quantity = 1 + (n % 7 == 0) + (n % 31 == 0) * 3
            amount = (addon.unit_price_yen if not addon.variable_amount else 500 + 100 * (n % 20)) * quantity
            stripe = n % 25 != 0  # a bus's fare box or an organiser's transfer now and then
            rows.append(dict(
                id=next_id, number=f"OC-{paid_at.year}-{next_id:06d}", certificate_token=new_token(),
                addon_id=addon.id, channel=Channel.STRIPE if stripe else Channel.CASH,
                status=ContributionStatus.PENDING, quantity=quantity,
                unit_price_yen=amount // quantity, amount_yen=amount, co2_g=amount * 1_000_000 // rate.yen_per_t,
                rate_id=rate.id, rate_yen_per_t=rate.yen_per_t,
                display_name=f"参加者 {n}" if n % 3 == 0 else "", receipt_email="", locale="ja" if n % 5 else "en",
                idempotency_key=f"bench-{uuid.uuid4().hex}",
                stripe_payment_intent_id=f"pi_bench_{next_id}" if stripe else None,
                flag_kind="", flag_reason="", note="", refunded_yen=0, refunded_g=0,
                created_at=paid_at - timedelta(minutes=1)))
            next_id += 1
        ids = [row["id"] for row in rows]
        db.session.execute(insert(Contribution), rows)
        mark_paid(ids, paid_at=paid_at, actor=ACTOR)
        db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":  # ids were given explicitly
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('contributions', 'id'), "
                                "(SELECT max(id) FROM contributions))"))
        db.session.commit()


def buy_and_invalidate(batch: Batch, staff: User, needed: int) -> None:
    """Record a purchase of `needed` tonnes and their invalidation under fresh serial numbers
    (the tests build their pools with it too)."""
    record_purchase(batch, PurchaseData(
        provider="みどり信金", credit_type=CreditType.J_CREDIT, project_name="下川町森林吸収",
        project_id="JCL-0042", credit_place="北海道/下川町", tonnes=needed, price_per_t_yen=10_000,
        total_yen=needed * 10_000, purchased_on=tokyo_today()), actor=staff)
    prefix = f"JP-{uuid.uuid4().hex[:6].upper()}-"
    notice = store_upload(FileStorage(io.BytesIO(NOTICE_PDF), filename="notice.pdf"), actor=staff)
    record_invalidation(batch, InvalidationData(
        registry=Registry.J_CREDIT, invalidated_on=tokyo_today(),
        serial_ranges=[(f"{prefix}{1:08d}", f"{prefix}{needed:08d}")], tonnes=needed,
        purpose=f"共同購入 {batch.number}", offset_place="東京都/八王子市", notice_file=notice), actor=staff)


def _settle(batch: Batch, staff: User) -> None:
    """Buy the batch's tonnes, invalidate them under fresh serial numbers, confirm it."""
    if batch.tonnes_required:
        buy_and_invalidate(batch, staff, batch.tonnes_required)
    confirm_batch(batch, actor=staff, acknowledged=[w.code for w in batch_view(batch).warnings])


def _refund_some(result: SeedResult, how_many: int) -> None:
    """Full and partial refunds spread over the pool: unbatched, in the open batch and retired."""
    paid = (Contribution.status == ContributionStatus.PAID, Contribution.channel == Channel.STRIPE)
    total = int(db.session.scalar(select(func.count(Contribution.id)).where(*paid)) or 0)
    stride = max(1, total // max(1, how_many))
    ids = db.session.scalars(select(Contribution.id).where(*paid).order_by(Contribution.id)
                             .offset(stride // 2)).all()[::stride][:how_many]
    for index, contribution_id in enumerate(ids):
        contribution = db.session.get(Contribution, contribution_id)
        partial = index % 2 == 1 and contribution.amount_yen >= 2
        refunded = contribution.amount_yen // 2 if partial else contribution.amount_yen
        if refund_in_transaction(contribution, refunded, actor=ACTOR) is not None:
            if partial:
                result.partial_refunds += 1
            else:
                result.refunds += 1
        db.session.commit()


def seed_pool(contributions: int, *, refunds: int | None = None) -> SeedResult:
    """Add `contributions` paid contributions over the last MONTHS months, with two confirmed
    batches and an open one, refunds and cash. Commits as it goes."""
    started = datetime.now(timezone.utc)
    result = SeedResult()
    staff = _staff()
    addons = _addons()
    starts = _month_starts(tokyo_today())
    now = datetime.now(timezone.utc)
    bounds = [*starts[1:], now - timedelta(hours=1)]
    batch_after = {2: True, 5: True, 6: False}  # month index -> batch closed (confirmed?) after it
    done = int(db.session.scalar(select(func.count(Contribution.id))) or 0)
    share, extra = divmod(contributions, MONTHS)
    for month, (start, end) in enumerate(zip(starts, bounds)):
        count = share + (1 if month < extra else 0)
        if count:
            _insert_paid(addons, count, start, end, done)
            done += count
            result.contributions += count
        if month in batch_after:
            try:
                batch = close_batch(end - timedelta(minutes=1), actor=staff, note="bench")
            except DomainError:  # nothing left to batch (tiny N): no batch this time
                db.session.rollback()
                continue
            if batch_after[month]:
                _settle(batch, staff)
                result.batches_confirmed += 1
            else:
                result.batches_open += 1
    cash_addon = next(a for a in addons if a.kind == AddOnKind.COMMUNITY_BUS)
    for days in (1, 2, 3):
        record_offline_contribution(cash_addon, quantity=10 * days, channel=Channel.CASH,
                                    received_on=tokyo_today() - timedelta(days=days), recorded_by=staff,
                                    note="fare box (bench)")
        result.cash += 1
    _refund_some(result, refunds if refunds is not None else max(4, min(contributions // 500, 400)))
    add_audit(ACTOR, "bench.seed", "pool", 1, None,
              {"contributions": result.contributions, "refunds": result.refunds,
               "partial_refunds": result.partial_refunds, "batches_confirmed": result.batches_confirmed})
    db.session.commit()
    _refresh_statistics()
    result.seconds = (datetime.now(timezone.utc) - started).total_seconds()
    return result


def _refresh_statistics() -> None:
    """What a bulk load leaves to do: fresh planner statistics (ANALYZE) and, on PostgreSQL, the
    visibility map VACUUM sets, without which no index-only scan is possible. Autovacuum would get
    there by itself in a while; measurements should not depend on when."""
    if db.session.get_bind().dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def register_bench_cli(app: Flask) -> None:
    group = AppGroup("bench", help="Data for the benchmarks (never on a site with real payments).")
    app.cli.add_command(group)

    @group.command("seed")
    @click.option("--contributions", type=WHOLE_NUMBER, default=100_000, show_default=True,
                  help="Paid contributions to add, over the last 8 months.")
    @click.option("--refunds", type=WHOLE_NUMBER, default=None,
                  help="Refunds to make (default: one in 500 contributions, 4 to 400; half of them partial).")
    def seed(contributions: int, refunds: int | None) -> None:
        """Fill the pool through the app's write path so that `flask pool check` passes."""
        if current_app.config.get("STRIPE_SECRET_KEY", "").startswith("sk_live_"):
            raise click.ClickException("bench data is for test databases: this app takes real payments (sk_live_ key)")
        if current_rate() is None:
            raise click.ClickException("no conversion rate: run `flask db upgrade` and `flask seed` first")
        result = seed_pool(contributions, refunds=refunds)
        click.echo(f"bench seed: {result.contributions:,} paid contributions, {result.cash} cash, "
                   f"{result.refunds} refunds and {result.partial_refunds} partial refunds, "
                   f"{result.batches_confirmed} confirmed and {result.batches_open} open batch(es) "
                   f"in {result.seconds:.1f} s")
