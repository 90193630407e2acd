"""reference_version: one number that changes with the calculator's reference data

Revision ID: 0010_reference_version
Revises: 0009_awaiting
Create Date: 2026-12-01 14:00:00.000000

Workers keep the factor set, tariffs, unit prices, menus, averages and rates in memory and read
only this number per request (services/reference.py). It starts at a random value.
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_reference_version"
down_revision = "0009_awaiting"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "reference_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": secrets.randbits(62)}])


def downgrade():
    op.drop_table("reference_version")
