"""report targets: the yearly program targets, published in advance (issue 5 item 4)

Revision ID: a7c3e9d1f5b8
Revises: f6b2d1e8c3a5
Create Date: 2026-11-25 12:36:56.127910

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c3e9d1f5b8"
down_revision = "f6b2d1e8c3a5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "metric IN ('consultations', 'contracts', 'contract_value_krw', 'smes', 'satisfaction')",
            name=op.f("ck_report_targets_metric_known"),
        ),
        sa.CheckConstraint(
            "published = false OR published_at IS NOT NULL", name=op.f("ck_report_targets_published_has_date")
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_report_targets_value_nonnegative")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_report_targets_year_range")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_report_targets_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_targets")),
        sa.UniqueConstraint("year", "metric", name="uq_report_targets_year_metric"),
    )


def downgrade():
    op.drop_table("report_targets")
