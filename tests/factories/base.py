"""The base of every factory: rows go into the app's own session and are flushed, never committed,
so a test's clean-up and its requests (which commit first) see them as the services' rows."""

from __future__ import annotations

import factory.alchemy

from consultroom.extensions import db


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = db.session  # the scoped session: each test's app context gets its own
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _by_id(cls, model_class, fields: dict) -> dict:
        """Related rows given as objects go in as their ids (buyer -> buyer_id), as the services
        write them: a test that later sets booking.buyer_id then reads that buyer, not a stale one."""
        columns = model_class.__table__.columns
        return {
            (f"{k}_id" if isinstance(v, db.Model) and f"{k}_id" in columns else k): (
                v.id if isinstance(v, db.Model) and f"{k}_id" in columns else v
            )
            for k, v in fields.items()
        }

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # Post-generation hooks change rows after the first flush: flush again so the test reads them.
        if create and results and any(v is not None for v in results.values()):
            cls._meta.sqlalchemy_session.flush()
