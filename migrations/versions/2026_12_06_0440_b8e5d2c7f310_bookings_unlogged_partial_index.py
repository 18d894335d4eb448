"""bookings still matched or confirmed, by end time (issue 16 item 2): the missing-logs list and the
home's count of it read every booking to find the few a day past their end and unlogged (a log sets
the booking held or no_show); this partial index holds those few alone, in the list's order

Revision ID: b8e5d2c7f310
Revises: b3f18d6c2e70
Create Date: 2026-12-06 04:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b8e5d2c7f310"
down_revision = "b3f18d6c2e70"
branch_labels = None
depends_on = None

# The same test as the model's index (bookings/models.py, UNLOGGED).
UNLOGGED = "status IN ('matched', 'confirmed')"


def upgrade():
    op.create_index(
        "ix_bookings_unlogged_ends",
        "bookings",
        ["ends_at", "id"],
        postgresql_where=sa.text(UNLOGGED),
        sqlite_where=sa.text(UNLOGGED),
    )


def downgrade():
    op.drop_index("ix_bookings_unlogged_ends", table_name="bookings")
