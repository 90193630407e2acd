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

# Written out here so this revision never changes with the models (enums.LEDGER_IN / LEDGER_OUT).
LEDGER_IN = ("payment", "cash", "transfer")
LEDGER_OUT = ("refund", "dispute_lost")


def _month(column: str, dialect: str) -> str:
    """The month of a stored UTC moment in Japan time, as services.ledger.tokyo_month writes it."""
    if dialect == "sqlite":
        # Whole seconds first: SQLite's date arithmetic rounds 23:59:59.999999 up into the next month.
        return f"strftime('%Y-%m', substr({column}, 1, 19), '+9 hours')"
    return f"to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM')"


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
    dialect = op.get_bind().dialect.name
    ins = ", ".join(f"'{k}'" for k in LEDGER_IN)
    out = ", ".join(f"'{k}'" for k in LEDGER_OUT)
    # One pass over the ledger that is there now; services.ledger.post keeps the rows from here on.
    # Built from this file's constants only, never from input (hence the nosec).
    backfill = f"""INSERT INTO pool_rollups"""  # nosec B608
    op.execute(backfill + f""" (month, paid_month, addon_id, entries, contributions, yen, co2_g, retired_g,
                                  tonnes, credits_yen)
        SELECT {_month('l.occurred_at', dialect)}, coalesce({_month('c.paid_at', dialect)}, ''),
               coalesce(c.addon_id, 0), count(*),
               sum(CASE WHEN l.kind IN ({ins}) THEN 1 WHEN l.kind IN ({out}) THEN -1 ELSE 0 END),
               sum(l.yen), sum(l.co2_g), sum(l.retired_g), sum(l.tonnes), sum(l.credits_yen)
        FROM pool_ledger l LEFT JOIN contributions c ON c.id = l.contribution_id
        GROUP BY 1, 2, 3""")
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
