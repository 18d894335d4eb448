"""The consultation facts (issue 16 item 3): one summary row per booking that counts in the year
figures, kept in the same transaction as its sources so the figures never join a year of contracts
and survey answers again.

`fact_rows` is the one definition of a fact. The session hooks note which bookings a flush touched
(by the ORM objects written: bookings, outcomes, contracts, survey invitations, responses and answers,
company HS codes, buyers' countries and languages) and `sync` rewrites their facts before the commit,
or before the figures are read in the same transaction. Bulk statements bypass those objects: one
that changes what a fact reads is refused unless it says it refreshed the facts itself
(`execution_options(facts_refreshed=True)` after calling `refresh` or `refresh_all`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, and_, delete, event, func, insert, literal, or_, select, text
from sqlalchemy.orm import ORMExecuteState, Session, attributes

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer, BuyerLanguage
from consultroom.companies.models import CompanyHsCode
from consultroom.extensions import db
from consultroom.outcomes.models import Contract, Outcome
from consultroom.reports.models import ConsultationFact
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse

CHUNK = 500  # bookings per DELETE/INSERT: well under SQLite's bound parameters
_PENDING = "consultation_facts_pending"  # session.info key: {kind: ids} noted by the flushes
UNKNOWN = ""
CONSULTED = (BookingStatus.HELD.value, BookingStatus.NO_SHOW.value)

# Per source model: the attribute naming what it belongs to and that owner's kind, and the attributes a
# fact reads (a change to another attribute, say a booking's request text, changes no fact).
SOURCES: dict[type, tuple[str, str, tuple[str, ...]]] = {
    Booking: ("id", "booking", ("status", "starts_at", "round_id", "company_id", "buyer_id")),
    Outcome: ("booking_id", "booking", ("booking_id",)),
    Contract: ("outcome_id", "outcome", ("outcome_id", "krw_value", "withdrawn_at")),
    SurveyInvitation: ("booking_id", "booking", ("booking_id", "respondent")),
    SurveyResponse: ("invitation_id", "invitation", ("invitation_id",)),
    SurveyAnswer: ("response_id", "response", ("response_id", "score")),
    CompanyHsCode: ("company_id", "company", ("company_id", "code")),
    Buyer: ("id", "buyer", ("country",)),
    BuyerLanguage: ("buyer_id", "buyer", ("buyer_id", "code")),
}
_TABLES = {model.__table__.name: spec for model, spec in SOURCES.items()}


def fact_rows(booking_ids: Sequence[int] | None = None):
    """SELECT the facts of these bookings (of every booking with None), in ConsultationFact's columns.
    Contracts and scores are summed by joins restricted to the same bookings, so a rebuild hashes
    each table once and a refresh of a few bookings reads only theirs."""

    def of(column) -> list:
        return [column.in_(booking_ids)] if booking_ids is not None else []

    contracts = (
        select(
            Outcome.booking_id.label("booking_id"),
            func.count(Contract.id).label("n"),
            func.sum(Contract.krw_value).label("krw"),
        )
        # A withdrawn contract (issue 15 item 7) is kept for the history but counts nowhere.
        .join(Contract, and_(Contract.outcome_id == Outcome.id, Contract.withdrawn_at.is_(None)))
        .where(*of(Outcome.booking_id))
        .group_by(Outcome.booking_id)
        .subquery("contract_sums")
    )
    # At most one SME response per booking (one invitation per booking and respondent).
    scores = (
        select(
            SurveyInvitation.booking_id.label("booking_id"),
            func.sum(SurveyAnswer.score).label("score_sum"),
            func.count(SurveyAnswer.score).label("score_n"),
        )
        .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(*of(SurveyInvitation.booking_id), SurveyInvitation.respondent == "sme", SurveyAnswer.score.is_not(None))
        .group_by(SurveyInvitation.booking_id)
        .subquery("score_sums")
    )
    # Correlated: a refresh of a few bookings reads a few companies' codes, not every company's.
    first_hs = (
        select(func.min(CompanyHsCode.code)).where(CompanyHsCode.company_id == Booking.company_id).scalar_subquery()
    )
    first_language = (
        select(func.min(BuyerLanguage.code)).where(BuyerLanguage.buyer_id == Booking.buyer_id).scalar_subquery()
    )
    return (
        select(
            Booking.id,
            Booking.starts_at,
            Booking.round_id,
            Booking.status,
            Booking.company_id,
            func.coalesce(Buyer.country, literal(UNKNOWN, String)),
            func.coalesce(func.substr(first_hs, 1, 2), literal(UNKNOWN, String)),
            func.coalesce(first_language, literal(UNKNOWN, String)),
            func.coalesce(contracts.c.n, 0),
            func.coalesce(contracts.c.krw, 0),
            func.coalesce(scores.c.score_sum, 0),
            func.coalesce(scores.c.score_n, 0),
        )
        .outerjoin(Buyer, Buyer.id == Booking.buyer_id)
        .outerjoin(contracts, contracts.c.booking_id == Booking.id)
        .outerjoin(scores, scores.c.booking_id == Booking.id)
        .where(*of(Booking.id), or_(Booking.status.in_(CONSULTED), scores.c.booking_id.is_not(None)))
    )


FACT_COLUMNS = [
    "booking_id", "starts_at", "round_id", "status", "company_id", "country", "chapter", "language",
    "contracts", "krw", "score_sum", "score_n",
]  # fmt: skip


def refresh(booking_ids: Iterable[int], *, session: Session | None = None) -> None:
    """Rewrite these bookings' facts from their sources, in the current transaction."""
    session = session if session is not None else db.session()
    table = ConsultationFact.__table__
    ids = sorted(set(booking_ids))
    postgres = session.get_bind().dialect.name == "postgresql"
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        if postgres:
            # Two transactions changing one booking's sources at once take turns here: the second
            # then reads the first's committed rows (read committed) instead of inserting a fact
            # beside the first's and failing on the key, or writing one that misses its change.
            session.execute(select(Booking.id).where(Booking.id.in_(chunk)).order_by(Booking.id).with_for_update())
        session.execute(delete(table).where(table.c.booking_id.in_(chunk)))
        session.execute(insert(table).from_select(FACT_COLUMNS, fact_rows(chunk)))


def refresh_all(*, session: Session | None = None) -> int:
    """Rebuild every fact from the sources (after a restore or a hand edit); returns the rows."""
    session = session if session is not None else db.session()
    table = ConsultationFact.__table__
    if session.get_bind().dialect.name == "postgresql":
        # Requests that refresh facts meanwhile wait, then rewrite theirs over the rebuilt rows.
        session.execute(text("LOCK TABLE consultation_facts IN EXCLUSIVE MODE"))
        # Every booking passes jit_above_cost; compiling took longer than the work (as in grouped_rows).
        session.execute(text("SET LOCAL jit = off"))
    session.execute(delete(table))
    session.execute(fill_statement())
    return session.scalar(select(func.count()).select_from(table)) or 0


def fill_statement():
    """INSERT every booking's fact into an empty table (refresh_all, and bench/scale.py's generator)."""
    return insert(ConsultationFact.__table__).from_select(FACT_COLUMNS, fact_rows())


# --- keeping them in step -------------------------------------------------------------------------


def _note(session: Session, objects: Iterable[Any], *, changed_only: bool) -> None:
    pending: dict[str, set[int]] = session.info.setdefault(_PENDING, {})
    for obj in objects:
        spec = SOURCES.get(type(obj))
        if spec is None:
            continue
        owner, kind, read = spec
        # An attribute not loaded has not changed: no SELECT to find out.
        quiet = attributes.PASSIVE_NO_INITIALIZE
        if changed_only and not any(attributes.get_history(obj, a, passive=quiet).has_changes() for a in read):
            continue
        # The owner now and, if it changed, before: both bookings' facts change.
        ids = {getattr(obj, owner), *attributes.get_history(obj, owner, passive=quiet).deleted}
        pending.setdefault(kind, set()).update(i for i in ids if i is not None)


def _before_flush(session: Session, _context, _instances) -> None:
    # Deleted rows: read their owners while they are still loaded and in the database.
    _note(session, session.deleted, changed_only=False)


def _after_flush(session: Session, _context) -> None:
    # New rows have their ids and foreign keys only now; history still shows what the flush changed.
    _note(session, session.new, changed_only=False)
    _note(session, session.dirty, changed_only=True)


def _booking_ids(session: Session, pending: dict[str, set[int]]) -> set[int]:
    """The bookings whose facts the noted changes touch, in one query per hundred-odd ids."""
    found = set(pending.get("booking", ()))
    owners = {
        "outcome": lambda ids: select(Outcome.booking_id).where(Outcome.id.in_(ids)),
        "invitation": lambda ids: select(SurveyInvitation.booking_id).where(SurveyInvitation.id.in_(ids)),
        "response": lambda ids: (
            select(SurveyInvitation.booking_id)
            .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
            .where(SurveyResponse.id.in_(ids))
        ),
        "company": lambda ids: select(Booking.id).where(Booking.company_id.in_(ids)),
        "buyer": lambda ids: select(Booking.id).where(Booking.buyer_id.in_(ids)),
    }
    for kind, query in owners.items():
        ids = sorted(pending.get(kind, ()))
        for i in range(0, len(ids), CHUNK):
            found.update(session.scalars(query(ids[i : i + CHUNK])))
    return found


def sync(session: Session | None = None) -> None:
    """Flush, then rewrite the facts of every booking the flushes touched; again until nothing is
    pending (a refresh flushes what autoflush finds). Runs before each commit and before the
    figures are read, so a transaction's own reads see its writes."""
    session = session if session is not None else db.session()
    while True:
        session.flush()
        pending = session.info.pop(_PENDING, None)
        if not pending:
            return
        with session.no_autoflush:
            refresh(_booking_ids(session, pending), session=session)


def _end(session: Session, transaction) -> None:
    # A rolled-back transaction's notes are void; a savepoint's stay with the transaction around it.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _guard_bulk(state: ORMExecuteState) -> None:
    """Refuse an ORM bulk UPDATE/DELETE/INSERT that changes what a fact reads without saying that
    the facts were refreshed: it would leave the summary silently wrong."""
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return
    spec = _TABLES.get(state.bind_mapper.local_table.name)
    if spec is None or state.execution_options.get("facts_refreshed"):
        return
    if state.is_update:
        values = getattr(state.statement, "_values", None) or {}
        names = {getattr(k, "key", k) for k in values}
        if values and not names & {*spec[2], spec[0]}:
            return
    raise RuntimeError(
        f"A bulk write to {state.bind_mapper.local_table.name} changes consultation facts: call "
        "reports.facts.refresh() for the bookings and pass execution_options(facts_refreshed=True)."
    )


def install(session_class: type[Session]) -> None:
    """Attach the hooks to the app's session class (once)."""
    for name, fn in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("before_commit", sync),
        ("after_transaction_end", _end),
        ("do_orm_execute", _guard_bulk),
    ):
        if not event.contains(session_class, name, fn):
            event.listen(session_class, name, fn)
