"""ledger: the append-only pool ledger and the pool row, 64-bit yen/gram/tonne columns, partial
refunds in grams, disputes and flag kinds; the ledger is rebuilt from the pool's history

Revision ID: 0004_ledger
Revises: 0003_pool
Create Date: 2026-12-01 06:17:57

An existing database gets a ledger that reproduces the figures it published before: one entry
per payment, refund, batch closed, credits bought and invalidated, batch retired, surplus carried
and correction, in the order they happened, and the pool row's running totals as their sums.
Partial refunds recorded before (refunded_yen without grams) are netted out now, as the new rule
says, and stay flagged for staff.
"""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004_ledger"
down_revision = "0003_pool"
branch_labels = None
depends_on = None

GRAMS_PER_TONNE = 1_000_000
TOKYO = ZoneInfo("Asia/Tokyo")
LEDGER_KINDS = ("payment", "cash", "transfer", "partial_refund", "refund", "dispute_opened", "dispute_won",
                "dispute_lost", "batch_closed", "credits_bought", "credits_invalidated", "batch_retired",
                "surplus_carried", "correction")
# Every yen, gram and tonne column: 32 bits overflow at ¥2,147,483,647 and 2,147 t.
WIDENED = {
    "addons": (("unit_price_yen", False), ("min_amount_yen", True), ("max_amount_yen", True)),
    "contributions": (("unit_price_yen", False), ("amount_yen", False), ("co2_g", False),
                      ("rate_yen_per_t", False), ("refunded_yen", False)),
    "batches": (("paid_yen", False), ("owed_g", False), ("surplus_available_g", False), ("surplus_used_g", False),
                ("tonnes_required", False), ("surplus_after_g", False)),
    "credit_purchases": (("tonnes", False), ("price_per_t_yen", False), ("total_yen", False)),
    "invalidations": (("tonnes", False),),
    "conversion_rates": (("yen_per_t", False),),
    "saved_results": (("total_g", False), ("remainder_g", False)),
}


def upgrade():
    # SQLite: migrations/env.py turns foreign-key checks off for the run (batch mode rebuilds tables
    # that others reference) and checks every key before committing.
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, nullable in columns:
                batch_op.alter_column(name, existing_type=sa.Integer(), type_=sa.BigInteger(),
                                      existing_nullable=nullable)

    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag_kind", sa.String(length=30), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("refunded_g", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("dispute_status", sa.Enum("none", "open", "won", "lost", name="disputestatus",
                                                                native_enum=False, length=20),
                                      nullable=False, server_default="none"))
        batch_op.add_column(sa.Column("stripe_dispute_id", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_contributions_dispute_status"), ["dispute_status"], unique=False)

    op.create_table(
        "pool_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.Column("paid_yen", sa.BigInteger(), nullable=False),
        sa.Column("co2_g", sa.BigInteger(), nullable=False),
        sa.Column("retired_g", sa.BigInteger(), nullable=False),
        sa.Column("retired_t", sa.BigInteger(), nullable=False),
        sa.Column("credits_yen", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_pool_state_single_row")),
        sa.CheckConstraint("retired_g >= 0 AND co2_g >= retired_g", name=op.f("ck_pool_state_retired_within_paid")),
        sa.CheckConstraint("retired_t * 1000000 >= retired_g", name=op.f("ck_pool_state_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_state")),
    )
    op.create_table(
        "pool_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Enum(*LEDGER_KINDS, name="ledgerkind", native_enum=False, length=30), nullable=False),
        sa.Column("yen", sa.BigInteger(), nullable=False),
        sa.Column("co2_g", sa.BigInteger(), nullable=False),
        sa.Column("retired_g", sa.BigInteger(), nullable=False),
        sa.Column("tonnes", sa.BigInteger(), nullable=False),
        sa.Column("credits_yen", sa.BigInteger(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("invalidation_id", sa.Integer(), nullable=True),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_pool_ledger_batch_id_batches")),
        sa.ForeignKeyConstraint(["contribution_id"], ["contributions.id"],
                                name=op.f("fk_pool_ledger_contribution_id_contributions")),
        sa.ForeignKeyConstraint(["correction_id"], ["invalidation_corrections.id"],
                                name=op.f("fk_pool_ledger_correction_id_invalidation_corrections")),
        sa.ForeignKeyConstraint(["invalidation_id"], ["invalidations.id"],
                                name=op.f("fk_pool_ledger_invalidation_id_invalidations")),
        sa.ForeignKeyConstraint(["purchase_id"], ["credit_purchases.id"],
                                name=op.f("fk_pool_ledger_purchase_id_credit_purchases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_ledger")),
    )
    with op.batch_alter_table("pool_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pool_ledger_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pool_ledger_contribution_id"), ["contribution_id"], unique=False)
        batch_op.create_index("ix_pool_ledger_kind_occurred_at", ["kind", "occurred_at"], unique=False)

    _rebuild_ledger(op.get_bind())
    # Entries are never changed: the database refuses an UPDATE (the models add the same triggers
    # to a schema made by create_all). Written out here so this revision never changes with them.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER pool_ledger_append_only BEFORE UPDATE ON pool_ledger "
                   "BEGIN SELECT RAISE(ABORT, 'pool_ledger is append-only: add a correcting entry'); END")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION pool_ledger_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'pool_ledger is append-only: add a correcting entry'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER pool_ledger_append_only BEFORE UPDATE ON pool_ledger "
                   "FOR EACH ROW EXECUTE FUNCTION pool_ledger_append_only()")

    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.alter_column("flag_kind", server_default=None, existing_type=sa.String(length=30),
                              existing_nullable=False)
        batch_op.alter_column("refunded_g", server_default=None, existing_type=sa.BigInteger(),
                              existing_nullable=False)
        batch_op.alter_column("dispute_status", server_default=None, existing_nullable=False,
                              existing_type=sa.Enum("none", "open", "won", "lost", name="disputestatus",
                                                    native_enum=False, length=20))
        batch_op.create_check_constraint(op.f("ck_contributions_refund_g_range"),
                                         "refunded_g >= 0 AND refunded_g <= co2_g")


def _utc(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _rebuild_ledger(bind) -> None:
    """The pool's history as ledger entries, oldest first; then the pool row with their sums."""
    meta = sa.MetaData()
    c = sa.Table("contributions", meta, autoload_with=bind)
    b = sa.Table("batches", meta, autoload_with=bind)
    p = sa.Table("credit_purchases", meta, autoload_with=bind)
    i = sa.Table("invalidations", meta, autoload_with=bind)
    k = sa.Table("invalidation_corrections", meta, autoload_with=bind)
    ledger = sa.Table("pool_ledger", meta, autoload_with=bind)
    state = sa.Table("pool_state", meta, autoload_with=bind)
    now = datetime.now(timezone.utc)
    batches = {row.id: row for row in bind.execute(sa.select(b))}
    confirmed = {bid for bid, row in batches.items() if row.status == "invalidated"}
    events = []  # (when, order, entry)

    def add(when, order, kind, **measures):
        events.append((_utc(when) or now, order, {"kind": kind, **measures}))

    in_kind = {"stripe": "payment", "cash": "cash", "bank_transfer": "transfer"}
    partial_ids = []
    for row in bind.execute(sa.select(c).where(c.c.status.in_(("paid", "refunded")), c.c.paid_at.is_not(None))):
        add(row.paid_at, 0, in_kind[row.channel], yen=row.amount_yen, co2_g=row.co2_g, contribution_id=row.id)
        if row.status == "refunded":
            add(row.refunded_at or row.paid_at, 5, "refund", yen=-row.amount_yen, co2_g=-row.co2_g,
                contribution_id=row.id)
            if row.batch_id in confirmed:  # refunds in an open batch released it, so this one was retired
                add(row.refunded_at or row.paid_at, 6, "surplus_carried", retired_g=-row.co2_g,
                    contribution_id=row.id, batch_id=row.batch_id)
        elif row.refunded_yen:
            kept_g = row.co2_g * (row.amount_yen - row.refunded_yen) // row.amount_yen
            add(now, 5, "partial_refund", yen=-row.refunded_yen, co2_g=-(row.co2_g - kept_g), contribution_id=row.id)
            if row.batch_id in confirmed:
                add(now, 6, "surplus_carried", retired_g=-(row.co2_g - kept_g), contribution_id=row.id,
                    batch_id=row.batch_id)
            partial_ids.append((row.id, row.co2_g - kept_g))
    for row in batches.values():
        add(row.created_at, 1, "batch_closed", batch_id=row.id)
        if row.id not in confirmed:
            continue
        for purchase in bind.execute(sa.select(p).where(p.c.batch_id == row.id)):
            add(row.confirmed_at, 2, "credits_bought", credits_yen=purchase.total_yen, batch_id=row.id,
                purchase_id=purchase.id)
        for item in bind.execute(sa.select(i).where(i.c.batch_id == row.id).order_by(i.c.id)):
            occurred = min(datetime.combine(item.invalidated_on, time.min, TOKYO).astimezone(timezone.utc),
                           _utc(row.confirmed_at))
            events.append((_utc(row.confirmed_at), 3, {"kind": "credits_invalidated", "tonnes": item.tonnes,
                                                       "batch_id": row.id, "invalidation_id": item.id,
                                                       "occurred_at": occurred}))
        add(row.confirmed_at, 4, "batch_retired", retired_g=row.owed_g, batch_id=row.id)
    shown = {}  # the value each correction replaced, in order
    for row in bind.execute(sa.select(k).order_by(k.c.id)):
        tonnes = credits = 0
        if row.invalidation_id is not None and row.field == "tonnes":
            before = shown.get(("i", row.invalidation_id)) or bind.execute(
                sa.select(i.c.tonnes).where(i.c.id == row.invalidation_id)).scalar()
            tonnes = int(row.new_value) - int(before)
            shown[("i", row.invalidation_id)] = int(row.new_value)
        if row.purchase_id is not None and row.field == "total_yen":
            before = shown.get(("p", row.purchase_id)) or bind.execute(
                sa.select(p.c.total_yen).where(p.c.id == row.purchase_id)).scalar()
            credits = int(row.new_value) - int(before)
            shown[("p", row.purchase_id)] = int(row.new_value)
        add(row.created_at, 7, "correction", tonnes=tonnes, credits_yen=credits, batch_id=row.batch_id,
            invalidation_id=row.invalidation_id, purchase_id=row.purchase_id, correction_id=row.id)

    measures = ("yen", "co2_g", "retired_g", "tonnes", "credits_yen")
    refs = ("contribution_id", "batch_id", "purchase_id", "invalidation_id", "correction_id")
    rows = []
    for when, _order, entry in sorted(events, key=lambda e: (e[0], e[1])):
        rows.append({"recorded_at": when, "occurred_at": entry.get("occurred_at", when), "kind": entry["kind"],
                     **{m: entry.get(m, 0) for m in measures}, **{r: entry.get(r) for r in refs}})
    if rows:
        bind.execute(ledger.insert(), rows)
    for contribution_id, refunded_g in partial_ids:
        bind.execute(c.update().where(c.c.id == contribution_id).values(refunded_g=refunded_g))
    # Open batches owe their contributions net of those partial refunds.
    for row in batches.values():
        if row.id in confirmed:
            continue
        paid_yen, owed_g = bind.execute(
            sa.select(sa.func.coalesce(sa.func.sum(c.c.amount_yen - c.c.refunded_yen), 0),
                      sa.func.coalesce(sa.func.sum(c.c.co2_g - c.c.refunded_g), 0))
            .where(c.c.batch_id == row.id, c.c.status == "paid")).one()
        bind.execute(b.update().where(b.c.id == row.id).values(paid_yen=paid_yen, owed_g=owed_g))
    counted = sum(1 for r in rows if r["kind"] in ("payment", "cash", "transfer")) \
        - sum(1 for r in rows if r["kind"] in ("refund", "dispute_lost"))
    head = bind.execute(sa.select(sa.func.coalesce(sa.func.max(ledger.c.id), 0))).scalar()
    bind.execute(state.insert().values(
        id=1, entries=len(rows), last_entry_id=head, contributions=counted,
        updated_at=now, **{("retired_t" if m == "tonnes" else "paid_yen" if m == "yen" else m):
                           sum(r[m] for r in rows) for m in measures}))


def downgrade():
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contributions_refund_g_range"), type_="check")
        batch_op.drop_index(batch_op.f("ix_contributions_dispute_status"))
        batch_op.drop_column("stripe_dispute_id")
        batch_op.drop_column("dispute_status")
        batch_op.drop_column("refunded_g")
        batch_op.drop_column("flag_kind")
    op.execute("DROP TRIGGER IF EXISTS pool_ledger_append_only" +
               (" ON pool_ledger" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pool_ledger_append_only()")
    with op.batch_alter_table("pool_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_pool_ledger_kind_occurred_at")
        batch_op.drop_index(batch_op.f("ix_pool_ledger_contribution_id"))
        batch_op.drop_index(batch_op.f("ix_pool_ledger_batch_id"))
    op.drop_table("pool_ledger")
    op.drop_table("pool_state")
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, nullable in columns:
                batch_op.alter_column(name, existing_type=sa.BigInteger(), type_=sa.Integer(),
                                      existing_nullable=nullable)
