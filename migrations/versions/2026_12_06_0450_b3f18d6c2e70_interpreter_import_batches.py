"""interpreter import batches (issue 14 item 6): staff import interpreters from a CSV or XLSX file as
they import buyers, and the parsed file waits here for its uploader's preview and confirmation; the
same columns and rules as buyer_import_batches (consultroom.table_import.ImportBatchMixin)

Revision ID: b3f18d6c2e70
Revises: e3b8f5c1a926
Create Date: 2026-12-06 04:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3f18d6c2e70"
down_revision = "e3b8f5c1a926"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interpreter_import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'discarded')", name=op.f("ck_interpreter_import_batches_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_interpreter_import_batches_created_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpreter_import_batches")),
    )
    with op.batch_alter_table("interpreter_import_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interpreter_import_batches_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index("ix_interpreter_import_batches_status_created", ["status", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("interpreter_import_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_interpreter_import_batches_status_created")
        batch_op.drop_index(batch_op.f("ix_interpreter_import_batches_created_by_id"))
    op.drop_table("interpreter_import_batches")
