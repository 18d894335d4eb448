"""what running the program leaves behind, by time (issue 16): the outbox page sorted a million mails
by creation time for a page of fifty (353 ms at 200,000 consultations), the audit page filtered to a
kind of object walked every entry's time, and the jobs page sorted and grouped every run (four jobs
run every minute: 6,195 runs a day). Indexes in each page's order; each job's last run by its own
index, which also finds any job (so its single-column index goes)

Revision ID: e6b1c3d8a4f2
Revises: d4a7f2c9e813
Create Date: 2026-12-06 07:50:00

"""

from alembic import op

revision = "e6b1c3d8a4f2"
down_revision = "d4a7f2c9e813"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_outbox_mails_created", "outbox_mails", ["created_at", "id"]),
    ("ix_outbox_mails_status_created", "outbox_mails", ["status", "created_at", "id"]),
    ("ix_audit_entries_type_at", "audit_entries", ["object_type", "at", "id"]),
    ("ix_job_runs_started", "job_runs", ["started_at", "id"]),
    ("ix_job_runs_job_started", "job_runs", ["job", "started_at"]),
    ("ix_job_runs_status_started", "job_runs", ["status", "started_at"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index("ix_job_runs_job", table_name="job_runs")


def downgrade():
    op.create_index("ix_job_runs_job", "job_runs", ["job"])
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
