"""awaiting: what awaits the next batch (the staff dashboard's figures) kept in one row by
triggers on contributions, filled from the contributions that are there

Revision ID: 0009_awaiting
Revises: 0008_speed
Create Date: 2026-12-01 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_awaiting"
down_revision = "0008_speed"
branch_labels = None
depends_on = None

# Whole SQL statements, written out (no formatting), so the revision never changes with the code:
# the same triggers as models.ledger.AWAITING_TRIGGERS today.
TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER contributions_awaiting_insert AFTER INSERT ON contributions WHEN NEW.status = 'paid' AND NEW.batch_id IS NULL AND NEW.dispute_status != 'open' BEGIN INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, 1, NEW.amount_yen - NEW.refunded_yen, NEW.co2_g - NEW.refunded_g WHERE NEW.status = 'paid' AND NEW.batch_id IS NULL AND NEW.dispute_status != 'open' ON CONFLICT (id) DO UPDATE SET contributions = contributions + excluded.contributions, yen = yen + excluded.yen, co2_g = co2_g + excluded.co2_g; END",
        "CREATE TRIGGER contributions_awaiting_update AFTER UPDATE OF status, batch_id, dispute_status, amount_yen, refunded_yen, co2_g, refunded_g ON contributions WHEN (OLD.status = 'paid' AND OLD.batch_id IS NULL AND OLD.dispute_status != 'open') OR (NEW.status = 'paid' AND NEW.batch_id IS NULL AND NEW.dispute_status != 'open') BEGIN INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, -1, OLD.refunded_yen - OLD.amount_yen, OLD.refunded_g - OLD.co2_g WHERE OLD.status = 'paid' AND OLD.batch_id IS NULL AND OLD.dispute_status != 'open' ON CONFLICT (id) DO UPDATE SET contributions = contributions + excluded.contributions, yen = yen + excluded.yen, co2_g = co2_g + excluded.co2_g; INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, 1, NEW.amount_yen - NEW.refunded_yen, NEW.co2_g - NEW.refunded_g WHERE NEW.status = 'paid' AND NEW.batch_id IS NULL AND NEW.dispute_status != 'open' ON CONFLICT (id) DO UPDATE SET contributions = contributions + excluded.contributions, yen = yen + excluded.yen, co2_g = co2_g + excluded.co2_g; END",
        "CREATE TRIGGER contributions_awaiting_delete AFTER DELETE ON contributions WHEN OLD.status = 'paid' AND OLD.batch_id IS NULL AND OLD.dispute_status != 'open' BEGIN INSERT INTO pool_awaiting (id, contributions, yen, co2_g) SELECT 1, -1, OLD.refunded_yen - OLD.amount_yen, OLD.refunded_g - OLD.co2_g WHERE OLD.status = 'paid' AND OLD.batch_id IS NULL AND OLD.dispute_status != 'open' ON CONFLICT (id) DO UPDATE SET contributions = contributions + excluded.contributions, yen = yen + excluded.yen, co2_g = co2_g + excluded.co2_g; END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION contributions_awaiting() RETURNS trigger AS $$ BEGIN IF TG_OP = 'INSERT' THEN INSERT INTO pool_awaiting AS p (id, contributions, yen, co2_g) SELECT 1, sum(n), sum(yen), sum(g) FROM (SELECT 1 AS n, amount_yen - refunded_yen AS yen, co2_g - refunded_g AS g FROM new_rows WHERE status = 'paid' AND batch_id IS NULL AND dispute_status <> 'open') d HAVING sum(n) <> 0 OR sum(yen) <> 0 OR sum(g) <> 0 ON CONFLICT (id) DO UPDATE SET contributions = p.contributions + excluded.contributions, yen = p.yen + excluded.yen, co2_g = p.co2_g + excluded.co2_g; ELSIF TG_OP = 'UPDATE' THEN INSERT INTO pool_awaiting AS p (id, contributions, yen, co2_g) SELECT 1, sum(n), sum(yen), sum(g) FROM (SELECT 1 AS n, amount_yen - refunded_yen AS yen, co2_g - refunded_g AS g FROM new_rows WHERE status = 'paid' AND batch_id IS NULL AND dispute_status <> 'open' UNION ALL SELECT -1 AS n, refunded_yen - amount_yen AS yen, refunded_g - co2_g AS g FROM old_rows WHERE status = 'paid' AND batch_id IS NULL AND dispute_status <> 'open') d HAVING sum(n) <> 0 OR sum(yen) <> 0 OR sum(g) <> 0 ON CONFLICT (id) DO UPDATE SET contributions = p.contributions + excluded.contributions, yen = p.yen + excluded.yen, co2_g = p.co2_g + excluded.co2_g; ELSE INSERT INTO pool_awaiting AS p (id, contributions, yen, co2_g) SELECT 1, sum(n), sum(yen), sum(g) FROM (SELECT -1 AS n, refunded_yen - amount_yen AS yen, refunded_g - co2_g AS g FROM old_rows WHERE status = 'paid' AND batch_id IS NULL AND dispute_status <> 'open') d HAVING sum(n) <> 0 OR sum(yen) <> 0 OR sum(g) <> 0 ON CONFLICT (id) DO UPDATE SET contributions = p.contributions + excluded.contributions, yen = p.yen + excluded.yen, co2_g = p.co2_g + excluded.co2_g; END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
        'CREATE TRIGGER contributions_awaiting_insert AFTER INSERT ON contributions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()',
        'CREATE TRIGGER contributions_awaiting_update AFTER UPDATE ON contributions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()',
        'CREATE TRIGGER contributions_awaiting_delete AFTER DELETE ON contributions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contributions_awaiting()',
    ),
}
DROP = {
    "sqlite": ("DROP TRIGGER contributions_awaiting_insert", "DROP TRIGGER contributions_awaiting_update",
               "DROP TRIGGER contributions_awaiting_delete"),
    "postgresql": ("DROP TRIGGER contributions_awaiting_insert ON contributions",
                   "DROP TRIGGER contributions_awaiting_update ON contributions",
                   "DROP TRIGGER contributions_awaiting_delete ON contributions",
                   "DROP FUNCTION contributions_awaiting()"),
}
# One pass over the contributions there now (the row always exists afterwards, zeros if none).
BACKFILL = """INSERT INTO pool_awaiting (id, contributions, yen, co2_g)
SELECT 1, count(*), coalesce(sum(amount_yen - refunded_yen), 0), coalesce(sum(co2_g - refunded_g), 0)
FROM contributions WHERE status = 'paid' AND batch_id IS NULL AND dispute_status != 'open'"""


def upgrade():
    op.create_table(
        "pool_awaiting",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.Column("yen", sa.BigInteger(), nullable=False),
        sa.Column("co2_g", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_pool_awaiting_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_awaiting")),
    )
    dialect = op.get_bind().dialect.name
    # On PostgreSQL no contribution may change between the count and the triggers' first step.
    if dialect == "postgresql":
        op.execute("LOCK TABLE contributions IN SHARE ROW EXCLUSIVE MODE")
    op.execute(BACKFILL)
    for statement in TRIGGERS[dialect]:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("pool_awaiting")
