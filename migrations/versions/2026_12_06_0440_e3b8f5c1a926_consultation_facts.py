"""consultation facts (issue 16 item 3): the year figures summed contracts and SME survey scores over a
year of joins on every request (about 240 ms of a 310 ms report at 200,000 consultations); one summary
row per counted booking, kept in the same transactions as its sources by reports/facts.py, lets them
read a year by one index. Back-filled here by the same SELECT the app keeps it with.

Revision ID: e3b8f5c1a926
Revises: c41d8f6e2a97
Create Date: 2026-12-06 04:40:00

"""

import sqlalchemy as sa
from alembic import op


revision = "e3b8f5c1a926"
down_revision = "c41d8f6e2a97"
branch_labels = None
depends_on = None

COVERED = ["status", "round_id", "company_id", "country", "chapter", "language", "contracts", "krw",
           "score_sum", "score_n"]  # fmt: skip

# The SELECT of reports/facts.py at this revision, written out: a migration must not change when the
# app's code does.
BACKFILL = """
INSERT INTO consultation_facts (booking_id, starts_at, round_id, status, company_id, country, chapter, language,
                                contracts, krw, score_sum, score_n)
SELECT b.id, b.starts_at, b.round_id, b.status, b.company_id, coalesce(y.country, ''),
       coalesce(substr((SELECT min(h.code) FROM company_hs_codes h WHERE h.company_id = b.company_id), 1, 2), ''),
       coalesce((SELECT min(l.code) FROM buyer_languages l WHERE l.buyer_id = b.buyer_id), ''),
       coalesce(c.n, 0), coalesce(c.krw, 0), coalesce(s.score_sum, 0), coalesce(s.score_n, 0)
FROM bookings b
LEFT JOIN buyers y ON y.id = b.buyer_id
LEFT JOIN (SELECT o.booking_id, count(k.id) AS n, sum(k.krw_value) AS krw
           FROM outcomes o JOIN contracts k ON k.outcome_id = o.id AND k.withdrawn_at IS NULL
           GROUP BY o.booking_id) c ON c.booking_id = b.id
LEFT JOIN (SELECT v.booking_id, sum(a.score) AS score_sum, count(a.score) AS score_n
           FROM survey_invitations v
           JOIN survey_responses r ON r.invitation_id = v.id
           JOIN survey_answers a ON a.response_id = r.id
           WHERE v.respondent = 'sme' AND a.score IS NOT NULL
           GROUP BY v.booking_id) s ON s.booking_id = b.id
WHERE b.status IN ('held', 'no_show') OR s.booking_id IS NOT NULL
"""


def upgrade():
    op.create_table(
        "consultation_facts",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("chapter", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("krw", sa.BigInteger(), nullable=False),
        sa.Column("score_sum", sa.Integer(), nullable=False),
        sa.Column("score_n", sa.Integer(), nullable=False),
        sa.CheckConstraint("contracts >= 0 AND score_n >= 0", name=op.f("ck_consultation_facts_counts_nonnegative")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_consultation_facts_booking_id_bookings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_consultation_facts")),
    )
    # SQLite ignores postgresql_include: a plain start-time index there.
    op.create_index("ix_consultation_facts_starts", "consultation_facts", ["starts_at"], postgresql_include=COVERED)
    op.execute(BACKFILL)


def downgrade():
    op.drop_index("ix_consultation_facts_starts", table_name="consultation_facts")
    op.drop_table("consultation_facts")
