"""The one transaction boundary of web requests (issue 14, item 3): a success or redirect commits the
request's writes once, with its access-log rows; an error answer rolls everything back; `attempt`
turns a domain error into form messages after undoing that call's writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response
from flask_login import login_user
from sqlalchemy import event, func, select

from consultroom.accounts.models import User
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.notifications.services import queue_mail_to_user
from consultroom.privacy.models import PersonalDataAccess
from consultroom.request_transaction import _finish, attempt, log_access
from consultroom.sqlite import write_intent
from tests.conftest import is_postgres
from tests.factories import make_company, make_user


@contextmanager
def _commits(app) -> Iterator[list[int]]:
    seen: list[int] = []

    def count(_conn):
        seen.append(1)

    engine = db.engine
    event.listen(engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", count)


@contextmanager
def _post(app) -> Iterator[None]:
    """A POST's request context, as the app sets it up for writing (BEGIN IMMEDIATE on SQLite)."""
    token = write_intent.set(True)
    try:
        with app.test_request_context("/x", method="POST"):
            yield
    finally:
        write_intent.reset(token)


def _users(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_a_success_commits_the_requests_writes_and_its_access_rows_once(app):
    staff = make_user("staff")
    companies = [make_company() for _ in range(3)]
    db.session.commit()
    with _post(app), _commits(app) as commits:
        login_user(staff)
        make_user(email="written@example.com")
        log_access(actor=staff, subjects=[("company", c.id) for c in companies], what="companies.index")
        _finish(Response(status=200))
        assert len(commits) == 1
    db.session.remove()
    assert _users("written@example.com") == 1
    assert db.session.scalar(select(func.count()).select_from(PersonalDataAccess)) == 3


def test_an_error_answer_rolls_back_the_writes_and_drops_the_access_rows(app):
    staff_id, company_id = make_user("staff").id, make_company().id
    db.session.commit()
    for status in (400, 403, 404, 409, 500):
        with _post(app):
            staff = db.session.get(User, staff_id)
            login_user(staff)
            make_user(email=f"lost{status}@example.com")
            log_access(actor=staff, subjects=[("company", company_id)], what="companies.detail")
            _finish(Response(status=status))
        db.session.remove()
        assert _users(f"lost{status}@example.com") == 0, status
    assert db.session.scalar(select(func.count()).select_from(PersonalDataAccess)) == 0


def test_a_redirect_commits(app):
    with _post(app):
        make_user(email="moved@example.com")
        _finish(Response(status=302))
    db.session.remove()
    assert _users("moved@example.com") == 1


def test_attempt_undoes_the_calls_writes_and_puts_the_error_on_the_form(app):
    from flask_wtf import FlaskForm
    from wtforms import StringField

    class NameForm(FlaskForm):
        name = StringField()

    with _post(app):
        form = NameForm(meta={"csrf": False})
        with attempt(form) as done:
            make_user(email="half@example.com")
            db.session.flush()
            raise Invalid("Name is wrong.", fields={"name": ["Name is wrong."]})
        assert not done
        assert form.name.errors == ["Name is wrong."]
        assert _users("half@example.com") == 0
        with attempt(form) as done:
            make_user(email="whole@example.com")
        assert done
        _finish(Response(status=200))
    db.session.remove()
    assert _users("whole@example.com") == 1


def test_a_staff_page_that_logs_access_commits_once(app, client, login_as):
    """The outbox logs whose addresses it shows: on PostgreSQL the rows go out in the request's one
    commit; on SQLite a read request first ends its snapshot (a commit with nothing in it)."""
    sme = make_user(email="recipient@example.com")
    queue_mail_to_user(user=sme, template="confirm_email", context={"link": "http://localhost/c"})
    login_as("admin")
    with _commits(app) as commits:
        assert client.get("/admin/outbox").status_code == 200
    assert len(commits) == (1 if is_postgres(app) else 2)
    logged = db.session.scalars(select(PersonalDataAccess.subject_id)).all()
    assert logged == [sme.id]
