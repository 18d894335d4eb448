"""bookings by interpreter in time order (issue 16): the interpreter's page and portal page their
assignments by start time; a busy interpreter has a hundred thousand bookings to sort otherwise

Revision ID: 3b26170083c7
Revises: 6f1f5cca064f
Create Date: 2026-12-05 23:30:00

"""

from alembic import op


revision = "3b26170083c7"
down_revision = "6f1f5cca064f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_interpreter_starts", ["interpreter_id", "starts_at"], unique=False)


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_interpreter_starts")
