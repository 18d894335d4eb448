"""Retention: how long each kind of personal data is kept after the program year it last belongs to,
what is due for anonymisation now (the dry run) and doing exactly that (the scheduled job).

A subject's last program year is the latest round year of its bookings (a company through
bookings.company_id, a buyer through buyer_id, an interpreter through interpreter_id), or, without
bookings, the year it was registered; a login counts too, so an account still in use is never
anonymised. Its data is due when that year has ended (31 Dec 24:00 Asia/Seoul) plus the months set
for its kind. Free text is due per consultation, by the year of its round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, and_, delete, exists, func, literal_column, null, or_, select

from consultroom.accounts.models import Role, User
from consultroom.audit.models import AuditEntry
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.errors import Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException
from consultroom.outcomes.models import ConsultationLog, Contract, Outcome, OutcomeChange
from consultroom.privacy import anonymise
from consultroom.privacy.models import (
    RETENTION_KINDS,
    Anonymisation,
    PersonalDataAccess,
    RetentionKind,
    RetentionRule,
    SubjectType,
)
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from consultroom.timeutil import SEOUL, month_add, seoul_date, seoul_to_utc

DEFAULT_MONTHS: dict[str, int] = {
    RetentionKind.SME_ACCOUNTS.value: 36,
    RetentionKind.BUYER_CONTACTS.value: 36,
    RetentionKind.INTERPRETER_CONTACTS.value: 36,
    RetentionKind.FREE_TEXT.value: 24,
    RetentionKind.ACCESS_LOG.value: 24,
}
MAX_MONTHS = 1200
# Legal minimums. Korea's standard for personal data security measures (개인정보의 안전성 확보조치
# 기준, art. 8) requires keeping records of access to personal data for at least a year.
MIN_MONTHS: dict[str, int] = {RetentionKind.ACCESS_LOG.value: 12}
KIND_LABELS = {
    RetentionKind.SME_ACCOUNTS.value: _l("SME accounts and company contacts"),
    RetentionKind.BUYER_CONTACTS.value: _l("Buyer contacts"),
    RetentionKind.INTERPRETER_CONTACTS.value: _l("Interpreter contacts"),
    RetentionKind.FREE_TEXT.value: _l("Free text (requests, consultation logs, survey comments, notes)"),
    RetentionKind.ACCESS_LOG.value: _l("Personal data access log"),
}
# Which subjects each contact kind covers.
CONTACT_KINDS: dict[str, tuple[str, ...]] = {
    RetentionKind.SME_ACCOUNTS.value: (SubjectType.COMPANY.value, SubjectType.USER.value),
    RetentionKind.BUYER_CONTACTS.value: (SubjectType.BUYER.value,),
    RetentionKind.INTERPRETER_CONTACTS.value: (SubjectType.INTERPRETER.value,),
}


def can_manage_retention(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS[kind])


# --- rules -----------------------------------------------------------------------------------------


def get_rules() -> dict[str, int]:
    rules = dict(DEFAULT_MONTHS)
    rules.update({r.kind: r.months for r in db.session.scalars(select(RetentionRule))})
    # A rule saved before a minimum existed (or edited in the database) never purges earlier.
    return {kind: max(months, MIN_MONTHS.get(kind, 0)) for kind, months in rules.items()}


def _months(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not (text.isascii() and text.isdecimal() and len(text) <= 4):
            return None
        value = int(text)
    return value if 0 <= value <= MAX_MONTHS else None


def update_rules(*, data: Mapping[str, object], actor: User) -> dict[str, int]:
    """Set every kind's period (whole months 0..1200); nothing is saved if any value is bad."""
    if not can_manage_retention(actor):
        raise NotAllowed(_("Only administrators set retention periods."))
    values: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for kind in RETENTION_KINDS:
        months = _months(data.get(kind))
        if months is None:
            errors[kind] = [_("Enter a whole number of months from 0 to %(max)d.", max=MAX_MONTHS)]
        elif months < MIN_MONTHS.get(kind, 0):
            errors[kind] = [
                _(
                    "Keep it for at least %(min)d months: the law requires access records to be kept at least a year.",
                    min=MIN_MONTHS[kind],
                )
            ]
        else:
            values[kind] = months
    if errors:
        names = ", ".join(kind_label(k) for k in errors)
        raise Invalid(_("Check the retention periods: %(fields)s.", fields=names), fields=errors)
    existing = {r.kind: r for r in db.session.scalars(select(RetentionRule))}
    before = get_rules()
    for kind, months in values.items():
        rule = existing.get(kind)
        if rule is None:
            rule = RetentionRule(kind=kind, months=months, updated_by_id=actor.id)
            db.session.add(rule)
            db.session.flush()
        elif rule.months == months:
            continue
        rule.months = months
        rule.updated_by_id = actor.id
        db.session.flush()
        if before[kind] != months:
            record(
                actor=actor,
                action="retention_rule.update",
                obj=rule,
                before={"kind": kind, "months": before[kind]},
                after={"kind": kind, "months": months},
            )
    db.session.flush()
    return get_rules()


# --- dates -----------------------------------------------------------------------------------------


def due_at(year: int, months: int) -> datetime:
    """The moment data whose last program year is `year` may be kept no longer (UTC)."""
    y, m = month_add(year + 1, 1, months)
    return seoul_to_utc(date(y, m, 1), time(0, 0))


def latest_due_year(months: int, now: datetime) -> int | None:
    """The latest program year whose data is due at `now`, or None."""
    year = seoul_date(now).year
    while year >= 1900:
        if due_at(year, months) <= now:
            return year
        year -= 1
    return None


def months_before(now: datetime, months: int) -> datetime:
    """`now` moved back by whole months in Seoul time (the 31st becomes the month's last day)."""
    local = now.astimezone(SEOUL)
    y, m = month_add(local.year, local.month, -months)
    day = local.day
    while True:
        try:
            return local.replace(year=y, month=m, day=day).astimezone(now.tzinfo)
        except ValueError:
            day -= 1


# --- the plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    kind: str
    subject_type: str  # user, company, buyer, interpreter; for free text: booking, waitlist, exception
    subject_id: int
    name: str  # as it is now, before anonymisation
    last_year: int
    due_at: datetime


@dataclass
class RetentionPlan:
    now: datetime
    rules: dict[str, int]
    items: dict[str, list[PlanItem]] = field(default_factory=dict)
    access_log_rows: int = 0
    access_log_before: datetime | None = None
    # The page lists one window of each kind and counts them all; the job's plan lists everything.
    totals: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {k: self.totals.get(k, len(self.items.get(k, []))) for k in RETENTION_KINDS}
        out[RetentionKind.ACCESS_LOG.value] = self.access_log_rows
        return out

    @property
    def total(self) -> int:
        return sum(self.counts().values())


@dataclass(frozen=True)
class _Source:
    """One kind of due record as SQL: its rows in a stable order, how many there are, and the plan
    item each row makes. A kind is one or more sources listed one after another."""

    rows: Select
    count: Select
    item: Callable[[Row], PlanItem]


def _year(moment: datetime | None) -> int | None:
    return seoul_date(moment).year if moment is not None else None


def _latest(*years: int | None) -> int:
    return max(y for y in years if y is not None)


def _cutoff(months: int, now: datetime) -> tuple[int, datetime] | None:
    """The latest program year due at `now` and the moment that year ended (UTC): a subject is due
    when every year it counts by (bookings, registration, logins) is at most that year, i.e. its
    dates are before that moment."""
    year = latest_due_year(months, now)
    if year is None:
        return None
    return year, seoul_to_utc(date(year + 1, 1, 1), time(0, 0))


def _source(columns: list, where: list, order: list, item: Callable[[Row], PlanItem], frm) -> _Source:
    return _Source(
        rows=select(*columns).select_from(frm).where(*where).order_by(*order),
        count=select(func.count()).select_from(frm).where(*where),
        item=item,
    )


def _not_done(subject_type: str, kind: str, ident) -> object:
    return ~exists().where(
        Anonymisation.subject_type == subject_type, Anonymisation.kind == kind, Anonymisation.subject_id == ident
    )


def _not_upcoming(column, ident, now: datetime) -> object:
    return ~exists().where(column == ident, Booking.status.in_(anonymise.UPCOMING_STATUSES), Booking.starts_at > now)


def _not_booked_after(column, ident, year: int) -> object:
    return ~exists().where(column == ident, Round.id == Booking.round_id, Round.year > year)


def _booked_year(column, ident):
    """The latest round year of the subject's bookings (a correlated subquery: read for listed rows only)."""
    return (
        select(func.max(Round.year))
        .join(Booking, Booking.round_id == Round.id)
        .where(column == ident)
        .scalar_subquery()
    )


def _sme_sources(months: int, now: datetime) -> list[_Source]:
    kind = RetentionKind.SME_ACCOUNTS.value
    cut = _cutoff(months, now)
    if cut is None:
        return []
    year, before = cut
    sme = User.role == Role.SME.value

    def company_item(row: Row) -> PlanItem:
        last = _latest(row.booked, _year(row.created_at), _year(row.login_at))
        return PlanItem(kind, SubjectType.COMPANY.value, row.id, row.name_ko or row.name_en, last, due_at(last, months))

    def user_item(row: Row) -> PlanItem:
        last = _latest(row.booked, _year(row.created_at), _year(row.last_login_at))
        name = anonymise.display_name(SubjectType.USER.value, row)
        return PlanItem(kind, SubjectType.USER.value, row.id, name, last, due_at(last, months))

    login_at = select(func.max(User.last_login_at)).where(User.company_id == Company.id, sme).scalar_subquery()
    companies = _source(
        [Company.id, Company.name_ko, Company.name_en, Company.created_at,
         _booked_year(Booking.company_id, Company.id).label("booked"), login_at.label("login_at")],
        [
            _not_done(SubjectType.COMPANY.value, kind, Company.id),
            _not_upcoming(Booking.company_id, Company.id, now),
            _not_booked_after(Booking.company_id, Company.id, year),
            Company.created_at < before,
            # a company is kept as long as one of its users logs in
            ~exists().where(User.company_id == Company.id, sme, User.last_login_at >= before),
        ],
        [Company.id],
        company_item,
        Company,
    )  # fmt: skip
    users = _source(
        [User.id, User.name, User.email, User.created_at, User.last_login_at,
         _booked_year(Booking.company_id, User.company_id).label("booked")],
        [
            sme,
            _not_done(SubjectType.USER.value, kind, User.id),
            # A user is kept as long as its company takes part, and as long as it logs in.
            _not_upcoming(Booking.company_id, User.company_id, now),
            _not_booked_after(Booking.company_id, User.company_id, year),
            User.created_at < before,
            or_(User.last_login_at.is_(None), User.last_login_at < before),
        ],
        [User.id],
        user_item,
        User,
    )  # fmt: skip
    return [companies, users]


def _person_sources(kind: str, subject_type: str, model, column, months: int, now: datetime) -> list[_Source]:
    cut = _cutoff(months, now)
    if cut is None:
        return []
    year, before = cut
    where = [
        _not_done(subject_type, kind, model.id),
        _not_upcoming(column, model.id, now),
        _not_booked_after(column, model.id, year),
        model.created_at < before,
    ]
    columns = [model.id, model.created_at, _booked_year(column, model.id).label("booked")]
    if model is Interpreter:
        # An interpreter using its account is still active.
        where.append(~exists().where(User.id == Interpreter.user_id, User.last_login_at >= before))
        login_at = select(User.last_login_at).where(User.id == Interpreter.user_id).scalar_subquery()
        columns += [Interpreter.name, login_at.label("login_at")]
    else:
        columns += [Buyer.contact_name, Buyer.company_name, Buyer.country, null().label("login_at")]

    def item(row: Row) -> PlanItem:
        last = _latest(row.booked, _year(row.created_at), _year(row.login_at))
        name = anonymise.display_name(subject_type, row)
        return PlanItem(kind, subject_type, row.id, name, last, due_at(last, months))

    return [_source(columns, where, [model.id], item, model)]


def _has_text(column):
    # The empty string as a literal, not a parameter, so a partial index on the same test matches.
    return and_(column.is_not(None), column != literal_column("''"))


def _free_text_sources(months: int, now: datetime) -> list[_Source]:
    kind = RetentionKind.FREE_TEXT.value
    last_year = latest_due_year(months, now)
    if last_year is None:
        return []
    # Correlated to the listed booking explicitly: nested in EXISTS it would otherwise read every
    # booking, and one note anywhere would list every consultation.
    outcome_ids = select(Outcome.id).where(Outcome.booking_id == Booking.id).correlate(Booking)
    texts = or_(
        _has_text(Booking.products),
        _has_text(Booking.buyer_profile),
        _has_text(Booking.notes),
        exists().where(
            ConsultationLog.booking_id == Booking.id,
            or_(
                _has_text(ConsultationLog.products_discussed),
                _has_text(ConsultationLog.samples_text),
                _has_text(ConsultationLog.next_action),
                _has_text(ConsultationLog.notes),
            ),
        ),
        exists().where(OutcomeChange.outcome_id.in_(outcome_ids), _has_text(OutcomeChange.note)),
        exists().where(Contract.outcome_id.in_(outcome_ids), _has_text(Contract.items)),
        exists()
        .where(
            SurveyInvitation.booking_id == Booking.id,
            SurveyResponse.invitation_id == SurveyInvitation.id,
            SurveyAnswer.response_id == SurveyResponse.id,
            _has_text(SurveyAnswer.text),
        )
        .correlate(Booking),
    )

    # The same test as `texts`, split for counting: the bookings with their own text are counted from
    # a partial index of them; the others (few, or already erased) by each source's booking ids, read
    # once as a set per source rather than every text looked up for each due booking.
    def ids(column, frm, *where):
        return Booking.id.in_(select(column).select_from(frm).where(*where))

    own_text = or_(_has_text(Booking.products), _has_text(Booking.buyer_profile), _has_text(Booking.notes))
    other_texts = or_(
        ids(
            ConsultationLog.booking_id,
            ConsultationLog,
            or_(
                _has_text(ConsultationLog.products_discussed),
                _has_text(ConsultationLog.samples_text),
                _has_text(ConsultationLog.next_action),
                _has_text(ConsultationLog.notes),
            ),
        ),
        ids(
            Outcome.booking_id,
            OutcomeChange.__table__.join(Outcome, Outcome.id == OutcomeChange.outcome_id),
            _has_text(OutcomeChange.note),
        ),
        ids(
            Outcome.booking_id,
            Contract.__table__.join(Outcome, Outcome.id == Contract.outcome_id),
            _has_text(Contract.items),
        ),
        ids(
            SurveyInvitation.booking_id,
            SurveyAnswer.__table__.join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id).join(
                SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id
            ),
            _has_text(SurveyAnswer.text),
        ),
    )

    def booking_item(row: Row) -> PlanItem:
        label = f"{row.name_ko or row.name_en} · {seoul_date(row.starts_at).isoformat()}"
        return PlanItem(kind, "booking", row.id, label, row.year, due_at(row.year, months))

    def waitlist_item(row: Row) -> PlanItem:
        label = f"{row.name_ko or row.name_en} · {row.day.isoformat()}"
        return PlanItem(kind, "waitlist", row.id, label, row.year, due_at(row.year, months))

    def exception_item(row: Row) -> PlanItem:
        year = row.day.year
        return PlanItem(kind, "exception", row.id, f"{row.name} · {row.day.isoformat()}", year, due_at(year, months))

    bookings = Booking.__table__.join(Round, Round.id == Booking.round_id).join(
        Company, Company.id == Booking.company_id
    )
    waitlist = WaitlistEntry.__table__.join(Round, Round.id == WaitlistEntry.round_id).join(
        Company, Company.id == WaitlistEntry.company_id
    )
    exceptions = InterpreterException.__table__.join(Interpreter, Interpreter.id == InterpreterException.interpreter_id)
    # A consultation still to come keeps its request, whatever the year (never touched).
    due_bookings = [Round.year <= last_year, Booking.starts_at <= now]
    listed = _source(
        [Booking.id, Round.year, Booking.starts_at, Company.name_ko, Company.name_en],
        [*due_bookings, texts],
        [Booking.starts_at, Booking.id],
        booking_item,
        bookings,
    )
    counted = Booking.__table__.join(Round, Round.id == Booking.round_id)
    return [
        _Source(
            rows=listed.rows,
            count=select(
                select(func.count()).select_from(counted).where(*due_bookings, own_text).scalar_subquery()
                + select(func.count())
                .select_from(counted)
                .where(*due_bookings, ~own_text, other_texts)
                .scalar_subquery()
            ),
            item=booking_item,
        ),
        _source(
            [WaitlistEntry.id, Round.year, Round.day, Company.name_ko, Company.name_en],
            [
                Round.year <= last_year,
                Round.day < seoul_date(now),
                or_(
                    _has_text(WaitlistEntry.products),
                    _has_text(WaitlistEntry.buyer_profile),
                    _has_text(WaitlistEntry.notes),
                ),
            ],
            [Round.day, WaitlistEntry.id],
            waitlist_item,
            waitlist,
        ),
        _source(
            [InterpreterException.id, InterpreterException.day, Interpreter.name],
            [InterpreterException.day < date(last_year + 1, 1, 1), _has_text(InterpreterException.note)],
            [InterpreterException.day, InterpreterException.id],
            exception_item,
            exceptions,
        ),
    ]


def _sources(rules: dict[str, int], now: datetime) -> dict[str, list[_Source]]:
    return {
        RetentionKind.SME_ACCOUNTS.value: _sme_sources(rules[RetentionKind.SME_ACCOUNTS.value], now),
        RetentionKind.BUYER_CONTACTS.value: _person_sources(
            RetentionKind.BUYER_CONTACTS.value,
            SubjectType.BUYER.value,
            Buyer,
            Booking.buyer_id,
            rules[RetentionKind.BUYER_CONTACTS.value],
            now,
        ),
        RetentionKind.INTERPRETER_CONTACTS.value: _person_sources(
            RetentionKind.INTERPRETER_CONTACTS.value,
            SubjectType.INTERPRETER.value,
            Interpreter,
            Booking.interpreter_id,
            rules[RetentionKind.INTERPRETER_CONTACTS.value],
            now,
        ),
        RetentionKind.FREE_TEXT.value: _free_text_sources(rules[RetentionKind.FREE_TEXT.value], now),
    }


def _access_log(result: RetentionPlan) -> None:
    cutoff = months_before(result.now, result.rules[RetentionKind.ACCESS_LOG.value])
    result.access_log_before = cutoff
    result.access_log_rows = db.session.scalar(
        select(func.count()).select_from(PersonalDataAccess).where(PersonalDataAccess.at < cutoff)
    )


def plan(*, now: datetime) -> RetentionPlan:
    """What is due for anonymisation at `now`, per kind, all of it; changes nothing (the dry run)."""
    rules = get_rules()
    result = RetentionPlan(now=now, rules=rules)
    for kind, sources in _sources(rules, now).items():
        result.items[kind] = [src.item(row) for src in sources for row in db.session.execute(src.rows)]
    _access_log(result)
    return result


def preview(*, now: datetime, offset: int, limit: int) -> RetentionPlan:
    """The dry run as a page shows it: every kind counted, and `limit` of its items from `offset` on (the
    kind's sources one after another), in a number of queries that does not depend on the data."""
    rules = get_rules()
    result = RetentionPlan(now=now, rules=rules)
    for kind, sources in _sources(rules, now).items():
        items: list[PlanItem] = []
        skip, total = offset, 0
        for src in sources:
            n = db.session.scalar(src.count)
            total += n
            # Every source is read even when the window lies elsewhere (LIMIT 0): the same queries each time.
            take = max(0, min(limit - len(items), n - skip))
            rows = db.session.execute(src.rows.offset(max(skip, 0)).limit(take))
            items += [src.item(row) for row in rows]
            skip = max(0, skip - n)
        result.items[kind] = items
        result.totals[kind] = total
    _access_log(result)
    return result


def _audit_rows(*, actor: User | None, action: str, object_type: str, ids: list[int], after: dict) -> None:
    # Rows changed in bulk are not loaded; the entries say the same as record() would.
    actor_id = actor.id if actor is not None else None
    db.session.add_all(
        AuditEntry(actor_id=actor_id, action=action, object_type=object_type, object_id=i, after=after) for i in ids
    )


def apply(*, now: datetime, actor: User | None = None) -> RetentionPlan:
    """Anonymise exactly what plan(now=now) lists, delete the access log past its period, and
    return that plan. Safe to rerun: what is done is no longer planned."""
    todo = plan(now=now)
    for kind in CONTACT_KINDS:
        for item in todo.items[kind]:
            anonymise.anonymise_subject(
                subject_type=item.subject_type,
                subject_id=item.subject_id,
                reason="retention",
                actor=actor,
                kinds=[kind],
                now=now,
            )
    text = todo.items[RetentionKind.FREE_TEXT.value]
    by_type: dict[str, list[int]] = {"booking": [], "waitlist": [], "exception": []}
    for item in text:
        by_type[item.subject_type].append(item.subject_id)
    anonymise.erase_booking_text(by_type["booking"])
    anonymise.erase_waitlist_text(by_type["waitlist"])
    anonymise.erase_exception_notes(by_type["exception"])
    after = {"kind": RetentionKind.FREE_TEXT.value, "reason": "retention"}
    for subject_type, table in (
        ("booking", "bookings"),
        ("waitlist", "waitlist_entries"),
        ("exception", "interpreter_exceptions"),
    ):
        _audit_rows(actor=actor, action="privacy.erase_text", object_type=table, ids=by_type[subject_type], after=after)
    if todo.access_log_rows:
        db.session.execute(
            delete(PersonalDataAccess)
            .where(PersonalDataAccess.at < todo.access_log_before)
            .execution_options(synchronize_session=False)
        )
        db.session.add(
            AuditEntry(
                actor_id=actor.id if actor is not None else None,
                action="privacy.purge_access_log",
                object_type="personal_data_access",
                object_id=None,
                after={"deleted": todo.access_log_rows, "before": todo.access_log_before.isoformat()},
            )
        )
    db.session.flush()
    # Bulk updates bypass the objects already loaded; later reads must see the new values.
    db.session.expire_all()
    return todo
