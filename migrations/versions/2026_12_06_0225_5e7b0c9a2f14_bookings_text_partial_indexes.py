"""bookings with and without their own free text (issue 16 item 3): the retention page counts the free
text due for erasure; the bookings with a request text are counted from an index of them alone, and
the others (few before erasure, most after it) are found without reading every booking

Revision ID: 5e7b0c9a2f14
Revises: 9c4e2a7d51b3
Create Date: 2026-12-06 02:25:00

"""

import sqlalchemy as sa
from alembic import op


revision = "5e7b0c9a2f14"
down_revision = "9c4e2a7d51b3"
branch_labels = None
depends_on = None

# The same test as the retention queries write (privacy/retention.py, own_text), so both databases'
# planners match the index to the query.
OWN_TEXT = (
    "(products IS NOT NULL AND products != '') OR (buyer_profile IS NOT NULL AND buyer_profile != '') "
    "OR (notes IS NOT NULL AND notes != '')"
)


def upgrade():
    for name, where in (("ix_bookings_with_text", OWN_TEXT), ("ix_bookings_without_text", f"NOT ({OWN_TEXT})")):
        op.create_index(
            name,
            "bookings",
            ["round_id", "starts_at"],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade():
    op.drop_index("ix_bookings_without_text", table_name="bookings")
    op.drop_index("ix_bookings_with_text", table_name="bookings")
