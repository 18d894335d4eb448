"""Anonymisation: a person's names, e-mails, phones and free text are replaced for good, while every
count, status, date, amount, currency, rating, HS code, country and language stays, so the program
reports of past years give the same figures afterwards (issue 6 items 3 and 4).

One Anonymisation row per subject and kind makes every step idempotent: a rerun finds the row and
does nothing. Erasure (a person's request) and retention (the scheduled job) share this code.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from consultroom.accounts.models import ApiToken, Role, User
from consultroom.audit.models import AuditEntry
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus, WaitlistEntry
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.companies.validation import country_name
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotFound
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException
from consultroom.notifications.models import MailStatus, OutboxMail
from consultroom.outcomes.models import ConsultationLog, Contract, Outcome, OutcomeChange
from consultroom.placeholders import deleted_name
from consultroom.privacy.models import (
    SUBJECT_TYPES,
    Anonymisation,
    ErasureRequest,
    RetentionKind,
    SubjectType,
)
from consultroom.privacy.registry import scrub_copies
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from consultroom.timeutil import seoul_date

# Bookings still to happen: neither retention nor erasure may take the contact data they need.
UPCOMING_STATUSES = (BookingStatus.REQUESTED.value, BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value)
ANON_DOMAIN = "invalid.example"  # RFC 2606: can never receive mail
MAIL_DROPPED = "Not sent: the recipient's personal data was deleted."
CHUNK = 500  # ids per IN (...) list; SQLite allows a limited number of bound parameters

# What each subject type's anonymisation covers, in the order it is done.
SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    SubjectType.USER.value: (RetentionKind.SME_ACCOUNTS.value,),
    SubjectType.COMPANY.value: (RetentionKind.SME_ACCOUNTS.value, RetentionKind.FREE_TEXT.value),
    SubjectType.BUYER.value: (RetentionKind.BUYER_CONTACTS.value,),
    SubjectType.INTERPRETER.value: (RetentionKind.INTERPRETER_CONTACTS.value,),
}
MODELS: dict[str, type] = {
    SubjectType.USER.value: User,
    SubjectType.COMPANY.value: Company,
    SubjectType.BUYER.value: Buyer,
    SubjectType.INTERPRETER.value: Interpreter,
}


def anon_email(subject_type: str, subject_id: int) -> str:
    return f"deleted-{subject_type}-{subject_id}@{ANON_DOMAIN}"


def is_anonymised_email(email: str | None) -> bool:
    return bool(email) and email.endswith("@" + ANON_DOMAIN)


def load_subject(subject_type: str, subject_id: int) -> Any:
    if subject_type not in SUBJECT_TYPES:
        raise Invalid(_("Unknown kind of person."), fields={"subject": [_("Unknown kind of person.")]})
    subject = db.session.get(MODELS[subject_type], subject_id)
    if subject is None or (subject_type == SubjectType.USER.value and subject.role != Role.SME.value):
        raise NotFound(_("No such person."))
    return subject


def display_name(subject_type: str, subject: Any) -> str:
    """How staff recognise the subject in lists (before anonymisation: the real name)."""
    if subject_type == SubjectType.USER.value:
        return f"{subject.name} <{subject.email}>"
    if subject_type == SubjectType.COMPANY.value:
        return subject.display_name
    if subject_type == SubjectType.BUYER.value:
        company = f"{subject.company_name} ({country_name(subject.country, str(get_locale() or 'ko'))})"
        return f"{subject.contact_name} · {company}" if subject.contact_name else company
    return subject.name


def done_kinds(subject_type: str, subject_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(Anonymisation.kind).where(
                Anonymisation.subject_type == subject_type, Anonymisation.subject_id == subject_id
            )
        )
    )


# --- upcoming consultations --------------------------------------------------------------------------


def _upcoming_filter(now: datetime):
    return and_(Booking.status.in_(UPCOMING_STATUSES), Booking.starts_at > now)


def upcoming_bookings(subject_type: str, subject_id: int, *, now: datetime) -> list[Booking]:
    """The subject's consultations still to come (requested, matched or confirmed, in the future).
    A user's are its company's, but only while no other active user of the company can take them."""
    if subject_type == SubjectType.USER.value:
        user = db.session.get(User, subject_id)
        if user is None or user.company_id is None or _other_active_users(user):
            return []
        column, ident = Booking.company_id, user.company_id
    else:
        column = {
            SubjectType.COMPANY.value: Booking.company_id,
            SubjectType.BUYER.value: Booking.buyer_id,
            SubjectType.INTERPRETER.value: Booking.interpreter_id,
        }[subject_type]
        ident = subject_id
    return list(
        db.session.scalars(select(Booking).where(column == ident, _upcoming_filter(now)).order_by(Booking.starts_at))
    )


def _other_active_users(user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.company_id == user.company_id, User.id != user.id, User.active.is_(True))
        )
    )


def refuse_if_upcoming(subject_type: str, subject_id: int, *, now: datetime) -> None:
    upcoming = upcoming_bookings(subject_type, subject_id, now=now)
    if upcoming:
        msg = _(
            "This person has %(n)d upcoming consultation(s), the first on %(day)s. "
            "Cancel them or assign someone else first.",
            n=len(upcoming),
            day=seoul_date(upcoming[0].starts_at).isoformat(),
        )
        raise Conflict(msg)


# --- the pieces ------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _scrub_audit(object_type: str, object_ids: Sequence[int], replacements: dict[str, Any]) -> None:
    """Earlier audit entries about the rows hold their old values; the trail (who changed what,
    when) stays, the personal values in it are replaced like the rows'."""
    for ids in _chunks(object_ids):
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == object_type, AuditEntry.object_id.in_(ids))
        )
        for entry in entries:
            for attr in ("before", "after"):
                data = getattr(entry, attr)
                if data and any(k in data for k in replacements):
                    # A new dict: the JSON column notices a reassignment, not an in-place change.
                    setattr(entry, attr, {k: replacements.get(k, v) for k, v in data.items()})


def _drop_mail(*, addresses: Iterable[str], user_id: int | None, new_addr: str) -> None:
    """Mail to the person: pending ones are never sent; none keeps the address or the body."""
    addrs = {a.lower() for a in addresses if a}
    conds = []
    if addrs:
        conds.append(db.func.lower(OutboxMail.to_addr).in_(addrs))
    if user_id is not None:
        conds.append(OutboxMail.user_id == user_id)
    if not conds:
        return
    match = or_(*conds)
    db.session.execute(
        update(OutboxMail)
        .where(match, OutboxMail.status == MailStatus.PENDING.value)
        .values(status=MailStatus.FAILED.value, last_error=MAIL_DROPPED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMail)
        .where(match)
        .values(to_addr=new_addr, body_text="", body_html=None)
        .execution_options(synchronize_session=False)
    )


def _mark(
    subject_type: str,
    subject: Any,
    kind: str,
    *,
    reason: str,
    actor: User | None,
    erasure_request: ErasureRequest | None,
) -> None:
    db.session.add(
        Anonymisation(
            subject_type=subject_type,
            subject_id=subject.id,
            kind=kind,
            reason=reason,
            actor_id=actor.id if actor is not None else None,
            erasure_request_id=erasure_request.id if erasure_request is not None else None,
        )
    )
    # The entry names what was done, never the values that were removed.
    record(
        actor=actor,
        action="privacy.anonymise",
        obj=subject,
        after={
            "kind": kind,
            "reason": reason,
            "erasure_request_id": erasure_request.id if erasure_request is not None else None,
        },
    )


DELETED = "[deleted]"  # what a name or phone becomes where it was copied into other text


def _copies(old: dict[str, str | None], new: dict[str, str | None]) -> None:
    """The old values wherever else they were copied (registry.COPIES): an address becomes its
    anonymised address, anything else DELETED."""
    scrub_copies(
        {
            value: (new.get(key) or DELETED) if "email" in key else DELETED
            for key, value in old.items()
            if isinstance(value, str) and value.strip()
        }
    )


def _anonymise_user(user: User) -> None:
    old_email = user.email
    new_email = anon_email("user", user.id)
    values = {"name": deleted_name("user", user.id), "email": new_email, "phone": None}
    old = {"name": user.name, "email": user.email, "phone": user.phone}
    _scrub_audit("users", [user.id], values)
    _drop_mail(addresses=[old_email], user_id=user.id, new_addr=new_email)
    user.name = values["name"]
    user.email = new_email
    user.phone = None
    user.active = False
    # Not a hash argon2 can read: no password ever matches, and a reset link made from it dies.
    user.password_hash = "!erased-" + secrets.token_hex(16)
    user.session_version += 1  # every session ends now
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    # Last: the person's own mails were matched by the old address above.
    _copies(old, values)


def _anonymise_company_contacts(company: Company) -> None:
    # The company's name, business number, HS codes and countries are business data the reports
    # group by; the people named on it are not.
    values = {"representative": "", "contact_name": "", "contact_email": "", "contact_phone": ""}
    old = {k: getattr(company, k) for k in values}
    _scrub_audit("companies", [company.id], values)
    if company.contact_email:
        _drop_mail(addresses=[company.contact_email], user_id=None, new_addr=anon_email("company", company.id))
    for key, value in values.items():
        setattr(company, key, value)
    _copies(old, {"contact_email": anon_email("company", company.id)})


def _anonymise_buyer(buyer: Buyer) -> None:
    old_email = buyer.email
    values = {"contact_name": "", "email": anon_email("buyer", buyer.id), "phone": "", "notes": ""}
    old = {k: getattr(buyer, k) for k in values}
    _scrub_audit("buyers", [buyer.id], values)
    _drop_mail(addresses=[old_email], user_id=None, new_addr=values["email"])
    for key, value in values.items():
        setattr(buyer, key, value)
    buyer.active = False
    # The same company may come back with a new contact: free its (company, country) duplicate key
    # while keeping its place in the sorted list.
    buyer.company_key = f"{buyer.company_key[:170]} ~deleted-{buyer.id}"
    # The buyer's own words in its survey answers go too; its scores stay (they are counted).
    responses = (
        select(SurveyResponse.id)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.respondent == "buyer", SurveyInvitation.buyer_id == buyer.id)
    )
    db.session.execute(
        update(SurveyAnswer)
        .where(SurveyAnswer.response_id.in_(responses), SurveyAnswer.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    _copies(old, values)


def _anonymise_interpreter(
    interpreter: Interpreter, *, reason: str, actor: User | None, erasure_request: ErasureRequest | None
) -> None:
    old_email = interpreter.email
    values = {
        "name": deleted_name("interpreter", interpreter.id),
        "email": anon_email("interpreter", interpreter.id),
        "phone": "",
    }
    old = {k: getattr(interpreter, k) for k in values}
    _scrub_audit("interpreters", [interpreter.id], values)
    _drop_mail(addresses=[old_email], user_id=None, new_addr=values["email"])
    for key, value in values.items():
        setattr(interpreter, key, value)
    interpreter.active = False
    db.session.execute(
        update(InterpreterException)
        .where(InterpreterException.interpreter_id == interpreter.id, InterpreterException.note != "")
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    _copies(old, values)
    user_id, interpreter.user_id = interpreter.user_id, None
    if user_id is not None:
        user = db.session.get(User, user_id)
        kind = RetentionKind.SME_ACCOUNTS.value
        # Its account is the same person's; a staff account is the city's and only loses the link.
        if user is not None and not user.is_staff and kind not in done_kinds("user", user.id):
            _anonymise_user(user)
            _mark("user", user, kind, reason=reason, actor=actor, erasure_request=erasure_request)


# --- free text -------------------------------------------------------------------------------------


BOOKING_TEXT = {"products": "", "buyer_profile": "", "notes": ""}
LOG_TEXT = {"products_discussed": "", "samples_text": "", "next_action": "", "notes": ""}


def erase_booking_text(booking_ids: Sequence[int]) -> None:
    """Blank the free text written for and about these consultations; every other column stays."""
    for ids in _chunks(booking_ids):
        log_ids = list(db.session.scalars(select(ConsultationLog.id).where(ConsultationLog.booking_id.in_(ids))))
        outcome_ids = list(db.session.scalars(select(Outcome.id).where(Outcome.booking_id.in_(ids))))
        contract_ids = list(db.session.scalars(select(Contract.id).where(Contract.outcome_id.in_(outcome_ids))))
        _scrub_audit("bookings", ids, BOOKING_TEXT)
        _scrub_audit("consultation_logs", log_ids, LOG_TEXT)
        _scrub_audit("outcomes", outcome_ids, {"note": ""})
        # A withdrawal's reason may name people; it cannot be blank (a withdrawal always has one).
        _scrub_audit("contracts", contract_ids, {"items": "", "reason": DELETED})
        db.session.execute(
            update(Booking)
            .where(Booking.id.in_(ids))
            .values(**BOOKING_TEXT)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(ConsultationLog)
            .where(ConsultationLog.booking_id.in_(ids))
            # updated_at is kept: this is not an edit of the log's facts
            .values(**LOG_TEXT, updated_at=ConsultationLog.updated_at)
            .execution_options(synchronize_session=False)
        )
        outcomes = select(Outcome.id).where(Outcome.booking_id.in_(ids))
        db.session.execute(
            update(OutcomeChange)
            .where(OutcomeChange.outcome_id.in_(outcomes), OutcomeChange.note != "")
            .values(note="")
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Contract)
            .where(Contract.outcome_id.in_(outcomes), Contract.items != "")
            .values(items="")
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Contract)
            .where(Contract.outcome_id.in_(outcomes), Contract.withdrawn_at.is_not(None))
            .values(withdrawal_reason=DELETED)
            .execution_options(synchronize_session=False)
        )
        responses = (
            select(SurveyResponse.id)
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyInvitation.booking_id.in_(ids))
        )
        db.session.execute(
            update(SurveyAnswer)
            .where(SurveyAnswer.response_id.in_(responses), SurveyAnswer.text.is_not(None))
            .values(text=None)
            .execution_options(synchronize_session=False)
        )


def erase_waitlist_text(entry_ids: Sequence[int]) -> None:
    for ids in _chunks(entry_ids):
        _scrub_audit("waitlist_entries", ids, BOOKING_TEXT)
        db.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id.in_(ids))
            .values(**BOOKING_TEXT)
            .execution_options(synchronize_session=False)
        )


def erase_exception_notes(exception_ids: Sequence[int]) -> None:
    for ids in _chunks(exception_ids):
        db.session.execute(
            update(InterpreterException)
            .where(InterpreterException.id.in_(ids))
            .values(note="")
            .execution_options(synchronize_session=False)
        )


def _erase_company_text(company: Company, *, now: datetime) -> None:
    # Upcoming consultations are refused before this runs; past ones lose their text.
    bookings = db.session.scalars(select(Booking.id).where(Booking.company_id == company.id, Booking.starts_at <= now))
    erase_booking_text(list(bookings))
    erase_waitlist_text(
        list(db.session.scalars(select(WaitlistEntry.id).where(WaitlistEntry.company_id == company.id)))
    )


# --- the entry point -------------------------------------------------------------------------------


def anonymise_subject(
    *,
    subject_type: str,
    subject_id: int,
    reason: str,
    actor: User | None,
    erasure_request: ErasureRequest | None = None,
    kinds: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Anonymise one person (or a company's people and texts); returns the kinds done now.

    `kinds` narrows the work (retention does a company's contacts and its texts under separate
    periods); by default everything the subject type covers. Already done kinds are skipped, so a
    second call returns []. Refused with Conflict while the subject has an upcoming consultation.
    """
    if reason not in ("retention", "erasure"):
        raise ValueError(f"unknown reason {reason!r}")
    now = now or utcnow()
    subject = load_subject(subject_type, subject_id)
    wanted = [k for k in SUBJECT_KINDS[subject_type] if kinds is None or k in set(kinds)]
    todo = [k for k in wanted if k not in done_kinds(subject_type, subject_id)]
    if not todo:
        return []
    refuse_if_upcoming(subject_type, subject_id, now=now)
    for kind in todo:
        if subject_type == SubjectType.USER.value:
            _anonymise_user(subject)
        elif subject_type == SubjectType.COMPANY.value and kind == RetentionKind.SME_ACCOUNTS.value:
            _anonymise_company_contacts(subject)
        elif subject_type == SubjectType.COMPANY.value:
            _erase_company_text(subject, now=now)
        elif subject_type == SubjectType.BUYER.value:
            _anonymise_buyer(subject)
        else:
            _anonymise_interpreter(subject, reason=reason, actor=actor, erasure_request=erasure_request)
        _mark(subject_type, subject, kind, reason=reason, actor=actor, erasure_request=erasure_request)
    db.session.flush()
    return todo
