"""requests still to match, by start time (issue 16 item 2): the staff's "bookings to match" list
read every request of the open round (a national month holds 1,500) and sorted them for a page of
fifty; this partial index holds the requests alone, in the list's order (3.4 ms -> 0.3 ms at
200,000 bookings)

Revision ID: d4a7f2c9e813
Revises: d4a7c9e1b352
Create Date: 2026-12-06 08:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d4a7f2c9e813"
down_revision = "d4a7c9e1b352"
branch_labels = None
depends_on = None

# The same test as the model's index (bookings/models.py, REQUESTS).
REQUESTED = "status = 'requested'"


def upgrade():
    op.create_index(
        "ix_bookings_requested_starts",
        "bookings",
        ["starts_at", "id"],
        postgresql_where=sa.text(REQUESTED),
        sqlite_where=sa.text(REQUESTED),
    )


def downgrade():
    op.drop_index("ix_bookings_requested_starts", table_name="bookings")
