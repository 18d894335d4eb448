"""For the views that answer a domain error with a page of their own (request_transaction.rollback_on):
a stand-in service that writes before it refuses, and whether that write was kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.errors import DomainError
from consultroom.extensions import db
from tests.factories import make_user

HALF_WRITTEN = "half-written@example.com"


def writes_then_refuses(error: DomainError) -> Callable[..., Any]:
    """A service that adds a user, flushes, then raises `error`, as one refusing halfway would."""

    def service(*_args: Any, **_kwargs: Any) -> Any:
        make_user(email=HALF_WRITTEN)
        db.session.flush()
        raise error

    return service


def half_write_kept() -> bool:
    db.session.expire_all()
    return bool(db.session.scalar(select(func.count()).select_from(User).where(User.email == HALF_WRITTEN)))
