"""The migrations build the schema the models declare: a model change without its migration (or a
migration that drifts from its model) fails here, on SQLite and on PostgreSQL, instead of in production."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consultroom.extensions import db
from tests.conftest import is_postgres

# Kept by migrations alone, on purpose: the registry version row is written only by its triggers
# (matching/registry.py reads it with SQL), and the buyers' full-text index is a PostgreSQL expression.
NOT_IN_MODELS = {"matching_registry", "ix_buyers_keywords_fts"}


def _name(diff) -> str:
    """The table or index a removal names; "" for other kinds of difference."""
    if isinstance(diff, tuple) and diff[0] in ("remove_table", "remove_index"):
        return diff[1].name
    return ""


def test_migrations_build_the_schema_the_models_declare(app):
    with app.app_context(), db.engine.connect() as conn:
        # SQLite does not enforce a VARCHAR's length, and a length change there means rebuilding the
        # table, so only PostgreSQL compares types.
        context = MigrationContext.configure(conn, opts={"compare_type": is_postgres(app)})
        diffs = [d for d in compare_metadata(context, db.metadata) if _name(d) not in NOT_IN_MODELS]
    assert diffs == []
