"""consultation sync (issue 13): calendar sequence and cancellation columns on bookings, the calendar
attachment of an outbox mail, private calendar feeds, consultation logs written by an interpreter's link

Revision ID: 3f9a1c7d2e64
Revises: 3f9a1c2d7e60
Create Date: 2026-12-05 20:15:00

"""

from alembic import op
import sqlalchemy as sa


revision = "3f9a1c7d2e64"
down_revision = "3f9a1c2d7e60"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ics_sequence", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_request_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("cancel_requested_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_cancel_requested_by_id_users"),
            "users",
            ["cancel_requested_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(op.f("ck_bookings_ics_sequence_nonnegative"), "ics_sequence >= 0")
    if _sqlite():
        _create_overlap_guards()  # SQLite's batch mode rebuilt bookings and so dropped its triggers

    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ics_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ics_method", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_outbox_mails_ics_method_known"), "ics_method IS NULL OR ics_method IN ('REQUEST', 'CANCEL', 'PUBLISH')"
        )

    with op.batch_alter_table("consultation_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by_interpreter_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_consultation_logs_recorded_by_interpreter_id_interpreters"),
            "interpreters",
            ["recorded_by_interpreter_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("interpreter_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (interpreter_id IS NULL)", name=op.f("ck_calendar_feeds_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["interpreter_id"],
            ["interpreters.id"],
            name=op.f("fk_calendar_feeds_interpreter_id_interpreters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_feeds_interpreter_id"), ["interpreter_id"], unique=False)


def downgrade():
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_interpreter_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_user_id"))
    op.drop_table("calendar_feeds")

    with op.batch_alter_table("consultation_logs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_consultation_logs_recorded_by_interpreter_id_interpreters"), type_="foreignkey"
        )
        batch_op.drop_column("recorded_by_interpreter_id")

    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_mails_ics_method_known"), type_="check")
        batch_op.drop_column("ics_method")
        batch_op.drop_column("ics_body")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_ics_sequence_nonnegative"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_bookings_cancel_requested_by_id_users"), type_="foreignkey")
        batch_op.drop_column("cancel_requested_by_id")
        batch_op.drop_column("cancel_request_reason")
        batch_op.drop_column("cancel_requested_at")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("ics_sequence")
    if _sqlite():
        _create_overlap_guards()


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def _create_overlap_guards():
    """The overlap guards of rule 1 on SQLite (PostgreSQL keeps its exclusion constraints through
    ALTER TABLE), as 63ada51f1bac and d523a51ff0b2 made them."""
    for party in ("company", "buyer", "interpreter"):
        column = f"{party}_id"
        for event in ("INSERT", "UPDATE"):
            op.execute(f"DROP TRIGGER IF EXISTS tr_bookings_{party}_overlap_{event.lower()}")
            op.execute(
                f"CREATE TRIGGER tr_bookings_{party}_overlap_{event.lower()} BEFORE {event} ON bookings "
                f"WHEN NEW.status <> 'cancelled' AND NEW.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM bookings b "
                f"WHERE b.{column} = NEW.{column} AND b.id IS NOT NEW.id AND b.status <> 'cancelled' "
                "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at) "
                f"BEGIN SELECT RAISE(ABORT, 'ex_bookings_{party}_overlap'); END"
            )
