"""the buyer's own language and the company's English profile (issue 13, items 3 and 4): a buyer's
preferred language and website, a company's English products, summary and address, and room in an
interpreter's locale for "zh_Hans"

Revision ID: f8be139bc0b9
Revises: 6c348761f720
Create Date: 2026-12-05 23:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "f8be139bc0b9"
down_revision = "6c348761f720"
branch_labels = None
depends_on = None


# Locale columns that now hold a party language such as "zh_Hans" (seven characters).
_LOCALE_COLUMNS = (
    ("interpreters", "locale"),
    ("survey_invitations", "locale"),
    ("survey_responses", "locale"),
    ("outbox_mails", "locale"),
)


def upgrade():
    # Plain ADD COLUMNs: SQLite's batch mode adds them in place, without rebuilding the tables.
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_language", sa.String(length=10), server_default="en", nullable=False))
        batch_op.add_column(sa.Column("website", sa.String(length=300), server_default="", nullable=False))
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("products_en", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("summary_en", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("address_en", sa.String(length=300), server_default="", nullable=False))
    if not _sqlite():  # SQLite does not enforce VARCHAR lengths
        for table, column in _LOCALE_COLUMNS:
            op.alter_column(table, column, type_=sa.String(length=10), existing_type=sa.String(length=5))


def downgrade():
    if not _sqlite():
        for table, column in _LOCALE_COLUMNS:
            op.execute(f"UPDATE {table} SET {column} = 'en' WHERE length({column}) > 5")
            op.alter_column(table, column, type_=sa.String(length=5), existing_type=sa.String(length=10))
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("address_en")
        batch_op.drop_column("summary_en")
        batch_op.drop_column("products_en")
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.drop_column("website")
        batch_op.drop_column("preferred_language")


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"
