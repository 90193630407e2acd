"""saved_delete: a saved result's delete key (its SHA-256), apart from the share link

Revision ID: 0007_saved_delete
Revises: 0006_events
Create Date: 2026-12-01 09:50:00.000000

Results saved before this revision keep NULL: no browser holds their key, so the share link no
longer deletes them (README, "Saved results").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_saved_delete"
down_revision = "0006_events"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("saved_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delete_key_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("saved_results", schema=None) as batch_op:
        batch_op.drop_column("delete_key_sha256")
