"""survey responses by submission time (issue 16): the API's list pages its responses newest first
down this index instead of sorting every response of every year

Revision ID: c41d8f6e2a97
Revises: a7c2e91d4b58
Create Date: 2026-12-06 02:10:00

"""

from alembic import op

revision = "c41d8f6e2a97"
down_revision = "a7c2e91d4b58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_submitted", ["submitted_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_submitted")
