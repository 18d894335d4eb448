"""year figures read from an index (issue 16 item 3): the report, the public program page, the report
API and the survey results select a year's consultations by start time and need only their status,
company, buyer and round; on PostgreSQL the start-time index carries those columns, so the year is
read by an index-only scan instead of visiting every booking's row

Revision ID: 9c4e2a7d51b3
Revises: 9d2e4b7a1c35
Create Date: 2026-12-06 02:10:00

"""

from alembic import op


revision = "9c4e2a7d51b3"
down_revision = "9d2e4b7a1c35"
branch_labels = None
depends_on = None

COVERED = ["id", "company_id", "buyer_id", "round_id"]


def upgrade():
    # SQLite ignores postgresql_include: the index stays (starts_at, status) there.
    op.drop_index("ix_bookings_starts_status", table_name="bookings")
    op.create_index("ix_bookings_starts_status", "bookings", ["starts_at", "status"], postgresql_include=COVERED)


def downgrade():
    op.drop_index("ix_bookings_starts_status", table_name="bookings")
    op.create_index("ix_bookings_starts_status", "bookings", ["starts_at", "status"])
