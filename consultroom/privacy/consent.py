"""Consent records: what was agreed or refused, under which notice version, when, by whom.

Records are only ever added: a withdrawal is a new record with granted=False, so the history
shows every change. The latest record per purpose is the one in force.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.privacy.models import SUBJECT_TYPES, ConsentRecord
from consultroom.privacy.notices import COMPANY_PROFILE, NOTICES

VIAS = ("web", "api", "link")


def record_consent(
    *, subject_type: str, subject_id: int, user: User | None, purpose: str, granted: bool, via: str = "web"
) -> ConsentRecord:
    notice = NOTICES.get(purpose)
    if notice is None:
        msg = _("Unknown consent purpose: %(purpose)s.", purpose=purpose)
        raise Invalid(msg, fields={"purpose": [msg]})
    if subject_type not in SUBJECT_TYPES:
        msg = _("Unknown kind of person: %(kind)s.", kind=subject_type)
        raise Invalid(msg, fields={"subject_type": [msg]})
    if via not in VIAS:
        raise Invalid(_("Unknown channel: %(via)s.", via=via))
    record = ConsentRecord(
        subject_type=subject_type,
        subject_id=subject_id,
        user_id=user.id if user is not None else None,
        purpose=purpose,
        notice_version=notice.version,
        granted=granted,
        via=via,
    )
    db.session.add(record)
    db.session.flush()
    return record


def current_consents(*, subject_type: str, subject_id: int) -> dict[str, ConsentRecord]:
    """The latest record per purpose (ordered by time, then id, so two records in one second keep their order)."""
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.subject_type == subject_type, ConsentRecord.subject_id == subject_id)
        .order_by(ConsentRecord.at, ConsentRecord.id)
    )
    return {row.purpose: row for row in rows}


def has_consent(*, subject_type: str, subject_id: int, purpose: str) -> bool:
    latest = current_consents(subject_type=subject_type, subject_id=subject_id).get(purpose)
    return latest is not None and latest.granted


def needs_renewal(*, subject_type: str, subject_id: int, purpose: str) -> bool:
    """True when the person has not agreed to the notice as it reads now: never asked, refused or
    withdrew, or agreed to an older version. Callers ask again for required notices only: an
    optional consent that was refused stays refused until the person changes it."""
    latest = current_consents(subject_type=subject_type, subject_id=subject_id).get(purpose)
    return latest is None or not latest.granted or latest.notice_version != NOTICES[purpose].version


def set_consent(
    *, subject_type: str, subject_id: int, user: User | None, purpose: str, granted: bool, via: str = "web"
) -> ConsentRecord | None:
    """Record a change of mind; None when the answer in force is already this one for this version."""
    latest = current_consents(subject_type=subject_type, subject_id=subject_id).get(purpose)
    notice = NOTICES.get(purpose)
    if (
        latest is not None
        and notice is not None
        and latest.granted == granted
        and latest.notice_version == notice.version
    ):
        return None
    return record_consent(
        subject_type=subject_type, subject_id=subject_id, user=user, purpose=purpose, granted=granted, via=via
    )


def gives_company_consent(user: User, company_id: int | None) -> bool:
    """Only the company's own SME user agrees for it: staff editing a profile act for the city and
    must not consent on the company's behalf."""
    return user.is_sme and company_id is not None and user.company_id == company_id


def company_consent_due(user: User, company_id: int) -> bool:
    """Ask this user for the company-profile consent when saving an existing company: its own SME
    user, when the consent is missing (e.g. registered before the notice), withdrawn or given to an
    older notice. A new company is always asked (companies.views.new)."""
    return gives_company_consent(user, company_id) and needs_renewal(
        subject_type="company", subject_id=company_id, purpose=COMPANY_PROFILE
    )
