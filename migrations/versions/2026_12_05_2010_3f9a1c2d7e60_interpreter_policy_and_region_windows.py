"""round settings: interpreter policy and region time windows; proposal stats; buyer keyword index

Revision ID: 3f9a1c2d7e60
Revises: d7e4a2b91c03
Create Date: 2026-12-05 20:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3f9a1c2d7e60"
down_revision = "d7e4a2b91c03"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("round_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interpreter_policy", sa.String(length=10), server_default="always", nullable=False)
        )
        batch_op.add_column(sa.Column("region_windows", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_check_constraint(
            batch_op.f("ck_round_settings_interpreter_policy_known"), "interpreter_policy IN ('always', 'needed')"
        )
    with op.batch_alter_table("round_proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stats", sa.JSON(), server_default="{}", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        # Matching finds buyers by declared industry through this index rather than a scan of the
        # registry (consultroom.matching.recommend._keywords_match); SQLite registries are small.
        op.execute("CREATE INDEX ix_buyers_keywords_fts ON buyers USING gin (to_tsvector('simple', keywords))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_buyers_keywords_fts")
    with op.batch_alter_table("round_proposals", schema=None) as batch_op:
        batch_op.drop_column("stats")
    with op.batch_alter_table("round_settings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_round_settings_interpreter_policy_known"), type_="check")
        batch_op.drop_column("region_windows")
        batch_op.drop_column("interpreter_policy")
