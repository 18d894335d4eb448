"""export files (issue 16): exports too large to write within a request are queued here, written by
the prepare_exports job and kept for their requester for 24 hours

Revision ID: d4a7c9e1b352
Revises: b8e5d2c7f310
Create Date: 2026-12-06 07:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d4a7c9e1b352"
down_revision = "b8e5d2c7f310"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_export_files_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_export_files_requested_by_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_files")),
    )
    with op.batch_alter_table("export_files", schema=None) as batch_op:
        batch_op.create_index("ix_export_files_status_created", ["status", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_export_files_requested_by_created", ["requested_by_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_export_files_expires_at", ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("export_files", schema=None) as batch_op:
        batch_op.drop_index("ix_export_files_expires_at")
        batch_op.drop_index("ix_export_files_requested_by_created")
        batch_op.drop_index("ix_export_files_status_created")
    op.drop_table("export_files")
