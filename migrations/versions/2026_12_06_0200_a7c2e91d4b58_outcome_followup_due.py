"""outcomes.followup_due_on (issue 16): the date an open outcome becomes overdue, kept by the outcome
services and indexed, so the overdue list filters and pages on an index instead of computing three
follow-up dates for every outcome; back-filled here from each consultation and last update

Revision ID: a7c2e91d4b58
Revises: 5e7b0c9a2f14
Create Date: 2026-12-06 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c2e91d4b58"
down_revision = "5e7b0c9a2f14"
branch_labels = None
depends_on = None

OPEN_STAGES = "('follow_up', 'sample_sent', 'negotiating')"


def _seoul_day(column: str, dialect: str, months: int = 0) -> str:
    """The Asia/Seoul date of a UTC timestamp column, `months` later and clamped to the month's end
    (31 Jan + 1 month = 28/29 Feb), as consultroom.outcomes.followups.add_months does."""
    if dialect == "postgresql":
        day = f"({column} AT TIME ZONE 'Asia/Seoul')::date"
        return f"({day} + interval '{months} months')::date" if months else day
    # SQLite: Seoul has kept UTC+9 without daylight saving since 1988; '+n months' rolls 31 Jan
    # over into March, so take the earlier of that and the target month's last day.
    if not months:
        return f"date({column}, '+9 hours')"
    return (
        f"min(date({column}, '+9 hours', '+{months} months'), "
        f"date({column}, '+9 hours', 'start of month', '+{months + 1} months', '-1 day'))"
    )


def upgrade():
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_due_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_outcomes_followup_due", ["followup_due_on", "id"], unique=False)

    op.execute(backfill_sql(op.get_bind().dialect.name))


def backfill_sql(dialect: str) -> str:
    """The first follow-up date after the last update (followups.next_followup_due) for every open
    outcome, in one statement (the suite checks it against the Python rule on both databases)."""
    starts = "(SELECT b.starts_at FROM bookings b WHERE b.id = outcomes.booking_id)"
    updated = _seoul_day("outcomes.last_update_at", dialect)
    due = [_seoul_day(starts, dialect, m) for m in (1, 3, 6)]
    return (
        f"UPDATE outcomes SET followup_due_on = CASE "
        f"WHEN {due[0]} > {updated} THEN {due[0]} "
        f"WHEN {due[1]} > {updated} THEN {due[1]} "
        f"WHEN {due[2]} > {updated} THEN {due[2]} END "
        f"WHERE stage IN {OPEN_STAGES}"
    )


def downgrade():
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_outcomes_followup_due")
        batch_op.drop_column("followup_due_on")
