"""speed: the ledger's running totals by month and add-on (pool_rollups), filled from the ledger;
indexes for the staff dashboard's queue and flags

Revision ID: 0008_speed
Revises: 0007_saved_delete
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_speed"
down_revision = "0007_saved_delete"
branch_labels = None
depends_on = None

# The kinds counted in and out are written out below, as enums.LEDGER_IN / LEDGER_OUT are today.


# Whole SQL statements, written out (no formatting), so the revision never changes with the code.
# A month is the Japan-time month of a stored UTC moment, as services.ledger.tokyo_month writes it;
# on SQLite whole seconds first: its date arithmetic rounds 23:59:59.999999 up into the next month.
_COLUMNS = "(month, paid_month, addon_id, entries, contributions, yen, co2_g, retired_g, tonnes, credits_yen)"
_SUMS = """count(*),
       sum(CASE WHEN l.kind IN ('payment', 'cash', 'transfer') THEN 1
                WHEN l.kind IN ('refund', 'dispute_lost') THEN -1 ELSE 0 END),
       sum(l.yen), sum(l.co2_g), sum(l.retired_g), sum(l.tonnes), sum(l.credits_yen)
FROM pool_ledger l LEFT JOIN contributions c ON c.id = l.contribution_id
GROUP BY 1, 2, 3"""
BACKFILL = {
    "sqlite": "INSERT INTO pool_rollups " + _COLUMNS + """
SELECT strftime('%Y-%m', substr(l.occurred_at, 1, 19), '+9 hours'),
       coalesce(strftime('%Y-%m', substr(c.paid_at, 1, 19), '+9 hours'), ''),
       coalesce(c.addon_id, 0), """ + _SUMS,
    "postgresql": "INSERT INTO pool_rollups " + _COLUMNS + """
SELECT to_char(l.occurred_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM'),
       coalesce(to_char(c.paid_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM'), ''),
       coalesce(c.addon_id, 0), """ + _SUMS,
}


def upgrade():
    op.create_table(
        "pool_rollups",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("paid_month", sa.String(length=7), nullable=False),
        sa.Column("addon_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.Column("yen", sa.BigInteger(), nullable=False),
        sa.Column("co2_g", sa.BigInteger(), nullable=False),
        sa.Column("retired_g", sa.BigInteger(), nullable=False),
        sa.Column("tonnes", sa.BigInteger(), nullable=False),
        sa.Column("credits_yen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "paid_month", "addon_id", name=op.f("pk_pool_rollups")),
    )
    # One pass over the ledger that is there now; services.ledger.post keeps the rows from here on.
    op.execute(BACKFILL[op.get_bind().dialect.name])
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        # What the dashboard's "awaiting the next batch" sums, read from the index alone.
        batch_op.create_index("ix_contributions_awaiting", ["status", "batch_id", "dispute_status", "amount_yen",
                                                            "refunded_yen", "co2_g", "refunded_g"], unique=False)
        # Flagged contributions are few: an index of them alone (the review queue, its count).
        batch_op.create_index("ix_contributions_flagged", ["created_at", "id"], unique=False,
                              sqlite_where=sa.text("flag_reason != ''"),
                              postgresql_where=sa.text("flag_reason != ''"))


def downgrade():
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_flagged")
        batch_op.drop_index("ix_contributions_awaiting")
    op.drop_table("pool_rollups")
