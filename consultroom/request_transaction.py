"""One transaction boundary for web requests (issue 14, item 3).

A request's writes are committed once, after the view has built its answer: when the answer is a
success or a redirect (status below 400). Any error answer, or an exception, rolls everything back.
Views never commit or roll back by hand; they run service calls inside `attempt(form)`, which turns
a domain error into messages on the form (or a flash) after rolling back that call's writes, so the
page can be shown again with nothing half-written; or inside `rollback_on(...)`, which does the same
but leaves the error to the view, for one that answers with a page of its own.

The personal-data access log is recorded into the request (`log_access`) and written by the same
boundary, in the same commit as the request's own writes. One exception, on SQLite only: a read
request's transaction is a deferred snapshot that SQLite cannot upgrade to a writer once another
connection has committed, so for a read request (see consultroom.sqlite) the snapshot is ended
first and the rows are the first statement of the one write transaction.

A streamed body (a prepared export's download, stream_with_context) is sent after this boundary has
committed and after the request's teardown: what it reads is read in transactions of its own, ended
at once (exports/streaming.py), and it writes nothing, since nothing would commit it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask import Flask, g
from flask.wrappers import Response
from flask_wtf import FlaskForm

from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.forms_util import apply_domain_error
from consultroom.privacy import access_log


class Attempt:
    """Truthy when the service calls inside `attempt` finished without a domain error."""

    def __init__(self) -> None:
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None


@contextmanager
def rollback_on(*errors: type[DomainError]) -> Iterator[Attempt]:
    """Run service calls; an error of `errors` (any domain error when none is named) rolls back their
    writes and is kept on the outcome, for a view that answers it with a page of its own (a 409 page,
    a survey's stop page, a preview again). Other errors go on to the error pages."""
    caught = errors or (DomainError,)
    outcome = Attempt()
    try:
        yield outcome
    except caught as exc:
        db.session.rollback()
        outcome.error = exc


@contextmanager
def attempt(form: FlaskForm | None = None) -> Iterator[Attempt]:
    """Run service calls; a domain error rolls back their writes and lands on `form`'s fields
    (or is flashed when there is no form or no field it names)."""
    with rollback_on() as outcome:
        yield outcome
    if outcome.error is not None:
        apply_domain_error(form, outcome.error)


def log_access(
    *, actor, subjects: Iterable[tuple[str, int]], what: str, action: str = "view", via: str = "web"
) -> None:
    """Record who among staff saw whose personal data on this page (or API answer, via="api");
    written with the request's commit."""
    rows = access_log.access_rows(actor=actor, subjects=subjects, action=action, what=what, via=via)
    if rows:
        g.setdefault("_access_rows", []).extend(rows)


def _finish(response: Response) -> Response:
    rows = g.pop("_access_rows", [])
    session = db.session()  # the request's Session (the scoped proxy has no in_transaction)
    if response.status_code >= 400:
        if session.in_transaction():
            session.rollback()
        return response
    if rows:
        from consultroom.sqlite import write_intent

        if db.engine.dialect.name == "sqlite" and not write_intent.get():
            session.commit()  # end the read snapshot (see the module's docstring)
        access_log.insert_rows(rows)
    if session.in_transaction():
        session.commit()
    return response


def init_app(app: Flask) -> None:
    # Registered first, so it runs last among after_request hooks: the answer is final when it commits.
    app.after_request(_finish)
