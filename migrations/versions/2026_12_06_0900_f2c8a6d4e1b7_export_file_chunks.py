"""export file chunks (issue 16): a prepared file is kept in pieces of at most 1 MiB instead of one
export_files.content value, so the job storing a ten-year export (75 MB) and the download sending it
hold one piece in memory, not the file

Revision ID: f2c8a6d4e1b7
Revises: e6b1c3d8a4f2
Create Date: 2026-12-06 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f2c8a6d4e1b7"
down_revision = "e6b1c3d8a4f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_file_chunks",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["export_files.id"],
            name=op.f("fk_export_file_chunks_export_id_export_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "seq", name=op.f("pk_export_file_chunks")),
    )
    # Files already written are in the old column: they are dropped with it (a prepared file is kept
    # 24 hours at most; its requester asks for it again).
    op.execute("DELETE FROM export_files WHERE status = 'done'")
    with op.batch_alter_table("export_files", schema=None) as batch_op:
        batch_op.drop_column("content")


def downgrade():
    with op.batch_alter_table("export_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
    op.execute("DELETE FROM export_files WHERE status = 'done'")  # their pieces are not joined back
    op.drop_table("export_file_chunks")
