"""round pages (issue 15 item 3): a partial index on the active bookings of a round by slot, covering
the columns the round grid and the SME's round page read, so a round's 2,000 slots join their
bookings by an index-only scan instead of 2,000 heap visits scattered over 200,000 bookings

Revision ID: 6c348761f720
Revises: 3f9a1c7d2e64
Create Date: 2026-12-05 23:30:00

"""

from alembic import op
import sqlalchemy as sa


revision = "6c348761f720"
down_revision = "3f9a1c7d2e64"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_bookings_round_slot_active",
        "bookings",
        ["round_id", "slot_id"],
        unique=False,
        postgresql_include=["id", "status", "company_id", "cancel_requested_at"],
        postgresql_where=sa.text("status <> 'cancelled'"),
        sqlite_where=sa.text("status <> 'cancelled'"),
    )


def downgrade():
    op.drop_index("ix_bookings_round_slot_active", table_name="bookings")
