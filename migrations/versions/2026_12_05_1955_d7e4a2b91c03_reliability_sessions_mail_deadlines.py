"""reliability: server-side login sessions; mail deadlines, first failure time, 'in_doubt' status

Revision ID: d7e4a2b91c03
Revises: c6dc8be93ed0
Create Date: 2026-12-05 19:55:00

"""

from alembic import op
import sqlalchemy as sa


revision = "d7e4a2b91c03"
down_revision = "c6dc8be93ed0"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'in_doubt')"


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_login_sessions_key_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_error_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_outbox_mails_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", NEW_STATUSES)


def downgrade():
    # A mail in doubt was 'failed' (interrupted) before this revision: that is what it becomes again.
    op.execute("UPDATE outbox_mails SET status = 'failed' WHERE status = 'in_doubt'")
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_mails_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", OLD_STATUSES)
        batch_op.drop_column("first_error_at")
        batch_op.drop_column("deadline_at")

    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")
