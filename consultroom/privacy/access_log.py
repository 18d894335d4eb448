"""The personal-data access log (PIPA): who among staff and admins saw or exported whose personal data.

Web views and API routes record rows into the request with consultroom.request_transaction.log_access
(the API through consultroom.api.http.logged), and the request's one commit writes them; `log_access`
here writes at once, for code outside a request. Lists log the subjects of the page shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, insert, select

from consultroom.accounts.models import User
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.privacy.models import SUBJECT_TYPES, PersonalDataAccess
from consultroom.timeutil import SEOUL

ACTIONS = ("view", "export")
VIAS = ("web", "api")
WHAT_MAX = 120
# Rows an export fetches at a time: a file of 100,000 rows never holds them all.
EXPORT_BATCH = 2000


def should_log(actor: User) -> bool:
    """Only staff and admins are logged: an SME only ever sees its own company's data, which is no
    access to another person's data, and the signed-link pages show a party only its own."""
    return bool(getattr(actor, "is_authenticated", False) and actor.is_staff)


def can_read_access_log(user: User) -> bool:
    """Admins only: the log tells who looked at whom, which staff members should not browse."""
    return bool(user.is_authenticated and user.is_admin)


def access_rows(*, actor: User, subjects: Iterable[tuple[str, int]], action: str, what: str, via: str) -> list[dict]:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if via not in VIAS:
        raise ValueError(f"unknown channel {via!r}")
    if not should_log(actor):
        return []
    at = utcnow()
    actor_id = actor.id
    seen: set[tuple[str, int]] = set()
    rows = []
    for subject_type, subject_id in subjects:
        if subject_type not in SUBJECT_TYPES:
            raise ValueError(f"unknown subject type {subject_type!r}")
        key = (subject_type, int(subject_id))
        if key in seen or key == ("user", actor_id):
            continue
        seen.add(key)
        rows.append(
            {
                "at": at,
                "actor_id": actor_id,
                "subject_type": subject_type,
                "subject_id": key[1],
                "action": action,
                "what": what[:WHAT_MAX],
                "via": via,
            }
        )
    return rows


def insert_rows(rows: list[dict]) -> None:
    if rows:
        # One multi-row VALUES statement, not one INSERT per subject.
        db.session.execute(insert(PersonalDataAccess).values(rows))


def log_access(
    *,
    actor: User,
    subjects: Iterable[tuple[str, int]],
    action: str,
    what: str,
    via: str = "web",
) -> int:
    """Record one row per subject, in one INSERT whatever the number of subjects (list pages stay at a
    constant number of queries). The actor's own user record is not logged. Returns the rows written."""
    rows = access_rows(actor=actor, subjects=subjects, action=action, what=what, via=via)
    insert_rows(rows)
    return len(rows)


def companies(items: Iterable) -> list[tuple[str, int]]:
    return [("company", c.id) for c in items]


def buyers(items: Iterable) -> list[tuple[str, int]]:
    return [("buyer", b.id) for b in items]


def interpreters(items: Iterable) -> list[tuple[str, int]]:
    return [("interpreter", i.id) for i in items]


def users(items: Iterable) -> list[tuple[str, int]]:
    return [("user", u.id) for u in items]


def mail_recipients(mails: Iterable) -> list[tuple[str, int]]:
    """Whose e-mail addresses a list of outbox mails shows: accounts by their user_id, buyers and
    interpreters (who have no account) by address; two queries however many mails."""
    mails = list(mails)
    subjects = sorted({("user", m.user_id) for m in mails if m.user_id is not None})
    addresses = {m.to_addr.lower() for m in mails if m.user_id is None and m.to_addr}
    # Queried whenever mails are shown, so a page costs the same number of queries whoever they went to.
    if mails:
        subjects += [("buyer", i) for i in db.session.scalars(select(Buyer.id).where(Buyer.email.in_(addresses)))]
        subjects += [
            ("interpreter", i)
            for i in db.session.scalars(select(Interpreter.id).where(Interpreter.email.in_(addresses)))
        ]
    return subjects


@dataclass(frozen=True)
class AccessFilter:
    actor_id: int | None = None
    subject_type: str = ""
    subject_id: int | None = None
    action: str = ""
    start: date | None = None  # first day, Asia/Seoul
    end: date | None = None  # last day, Asia/Seoul, included


def _seoul_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SEOUL)


def access_query(f: AccessFilter) -> Select:
    """The log, newest first, filtered; days are Asia/Seoul days as staff read them."""
    return _filtered(select(PersonalDataAccess), f)


def export_rows(f: AccessFilter, limit: int) -> Iterator[tuple]:
    """The filtered log for a file, newest first, at most `limit` rows: (at, actor's name, actor's
    e-mail, subject type, subject id, action, what, via), the actor joined (empty when none), in one
    query of plain tuples: an export holds up to a hundred thousand rows, too many for ORM objects.
    Fetched in batches (a server-side cursor on PostgreSQL), so the rows are never all in memory."""
    stmt = select(
        PersonalDataAccess.at,
        func.coalesce(User.name, ""),
        func.coalesce(User.email, ""),
        PersonalDataAccess.subject_type,
        PersonalDataAccess.subject_id,
        PersonalDataAccess.action,
        PersonalDataAccess.what,
        PersonalDataAccess.via,
    ).outerjoin(User, User.id == PersonalDataAccess.actor_id)
    result = db.session.connection().execute(_filtered(stmt, f).limit(limit).execution_options(yield_per=EXPORT_BATCH))
    for row in result:
        yield tuple(row)


def _filtered(stmt: Select, f: AccessFilter) -> Select:
    stmt = stmt.order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc())
    if f.actor_id is not None:
        stmt = stmt.where(PersonalDataAccess.actor_id == f.actor_id)
    if f.subject_type:
        stmt = stmt.where(PersonalDataAccess.subject_type == f.subject_type)
    if f.subject_id is not None:
        stmt = stmt.where(PersonalDataAccess.subject_id == f.subject_id)
    if f.action:
        stmt = stmt.where(PersonalDataAccess.action == f.action)
    if f.start is not None:
        stmt = stmt.where(PersonalDataAccess.at >= _seoul_midnight(f.start))
    if f.end is not None:
        stmt = stmt.where(PersonalDataAccess.at < _seoul_midnight(f.end + timedelta(days=1)))
    return stmt


def actors_of(rows: Iterable[PersonalDataAccess]) -> dict[int, User]:
    """The actors of a page of rows in one query."""
    ids = {r.actor_id for r in rows if r.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def staff_users() -> list[User]:
    """The filter's choices: today's staff and admins, and anyone already in the log (a former staff
    member's accesses stay searchable after their role changed)."""
    stmt = (
        select(User)
        .where(User.role.in_(("staff", "admin")) | User.id.in_(_actors_in_log()))
        .order_by(User.name, User.id)
    )
    return list(db.session.scalars(stmt))


def _actors_in_log() -> Select:
    """The distinct actors of the log, one index probe each (a skip scan of its actor index): a
    DISTINCT read the whole log, 400,000 rows at national scale, for a handful of staff."""
    log = PersonalDataAccess
    actors = select(func.min(log.actor_id).label("actor_id")).cte("log_actors", recursive=True)
    following = select(select(func.min(log.actor_id)).where(log.actor_id > actors.c.actor_id).scalar_subquery()).where(
        actors.c.actor_id.is_not(None)
    )
    actors = actors.union_all(following)
    return select(actors.c.actor_id).where(actors.c.actor_id.is_not(None))
