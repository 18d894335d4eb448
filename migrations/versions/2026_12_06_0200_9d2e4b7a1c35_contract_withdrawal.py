"""contract withdrawal: staff withdraw a recorded contract with a reason; the row stays for the
history and stops counting (issue 15 item 7)

Revision ID: 9d2e4b7a1c35
Revises: 3b26170083c7
Create Date: 2026-12-06 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "9d2e4b7a1c35"
down_revision = "3b26170083c7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=False, server_default=""))
        batch.create_foreign_key(
            op.f("fk_contracts_withdrawn_by_id_users"), "users", ["withdrawn_by_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_check_constraint(
            op.f("ck_contracts_withdrawal_has_reason"), "withdrawn_at IS NULL OR withdrawal_reason <> ''"
        )


def downgrade():
    with op.batch_alter_table("contracts") as batch:
        batch.drop_constraint(op.f("ck_contracts_withdrawal_has_reason"), type_="check")
        batch.drop_constraint(op.f("fk_contracts_withdrawn_by_id_users"), type_="foreignkey")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_by_id")
        batch.drop_column("withdrawn_at")
