"""matching registry version: a number the database changes with every change to the buyer or
interpreter registry, so app processes can keep an in-memory copy for matching (issue 12 item 5)

Revision ID: 6f1f5cca064f
Revises: f8be139bc0b9
Create Date: 2026-12-05 23:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "6f1f5cca064f"
down_revision = "f8be139bc0b9"
branch_labels = None
depends_on = None

# Table -> the columns matching reads (UPDATE OF them fires; other updates, e.g. notes, do not).
# None: every change counts.
WATCHED = {
    "buyers": ("company_name", "country", "timezone", "keywords", "meet_from", "meet_to", "meet_days", "active"),
    "buyer_interests": None,
    "buyer_languages": None,
    "interpreters": ("name", "max_sessions_per_day", "active"),
    "interpreter_languages": None,
    "interpreter_hours": None,
    "interpreter_exceptions": None,
}


def upgrade():
    op.create_table(
        "matching_registry",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO matching_registry (id, version) VALUES (1, 0)")
    # A new random number, never a counter: a rolled-back change must not hand its number to a later,
    # different state (a process may have cached the rolled-back one under it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION matching_registry_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE matching_registry SET version = floor(random() * 9.2e18)::bigint WHERE id = 1; "
            "RETURN NULL; END $$"
        )
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            op.execute(
                f"CREATE TRIGGER {table}_matching_registry AFTER INSERT OR {update} OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION matching_registry_bump()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_matching_registry_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION matching_registry_bump()"
            )
    else:
        for table, columns in WATCHED.items():
            for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"):
                name = f"{table}_matching_registry_{event.split()[0].lower()}"
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                    "UPDATE matching_registry SET version = random() WHERE id = 1; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_matching_registry ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_matching_registry_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS matching_registry_bump()")
    else:
        for table in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_matching_registry_{event}")
    op.drop_table("matching_registry")
