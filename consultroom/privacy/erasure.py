"""Erasure requests (PIPA right to deletion): an SME user asks for itself, staff record one for a
buyer or an interpreter; staff carry it out (the subject is anonymised as by retention) or refuse
it with a reason. Every step is in the audit log."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select, update

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.privacy import anonymise
from consultroom.privacy.models import ErasureRequest, SubjectType

NOTE_MAX = 2000
OPEN, DONE, REFUSED = "open", "done", "refused"


def can_handle_erasure(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_request_erasure(user: User, subject_type: str, subject_id: int) -> bool:
    """SME users for themselves; staff for buyers and interpreters (who have no account to ask from)."""
    if not user.is_authenticated:
        return False
    if subject_type == SubjectType.USER.value:
        return user.id == subject_id and user.is_sme
    return user.is_staff and subject_type in (SubjectType.BUYER.value, SubjectType.INTERPRETER.value)


def _snapshot(req: ErasureRequest) -> dict:
    return {
        "subject_type": req.subject_type,
        "subject_id": req.subject_id,
        "status": req.status,
        "response": req.response,
    }


def open_request_for(*, subject_type: str, subject_id: int) -> ErasureRequest | None:
    return db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.subject_type == subject_type,
            ErasureRequest.subject_id == subject_id,
            ErasureRequest.status == OPEN,
        )
    )


def request_erasure(*, subject_type: str, subject_id: int, note: str, actor: User) -> ErasureRequest:
    subject = anonymise.load_subject(subject_type, subject_id)
    if not can_request_erasure(actor, subject_type, subject_id):
        raise NotAllowed(_("You may not ask for this deletion."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        msg = _("Keep the note under %(max)d characters.", max=NOTE_MAX)
        raise Invalid(msg, fields={"note": [msg]})
    if open_request_for(subject_type=subject_type, subject_id=subject_id) is not None:
        raise Conflict(_("A deletion request for this person is already open."))
    if set(anonymise.SUBJECT_KINDS[subject_type]) <= anonymise.done_kinds(subject_type, subject_id):
        raise Conflict(_("This person's data has already been deleted."))
    req = ErasureRequest(subject_type=subject_type, subject_id=subject.id, requested_by_id=actor.id, note=note)
    db.session.add(req)
    db.session.flush()
    record(actor=actor, action="erasure_request.create", obj=req, after=_snapshot(req))
    return req


def _check_open(req: ErasureRequest, actor: User) -> None:
    if not can_handle_erasure(actor):
        raise NotAllowed(_("Only staff handle deletion requests."))
    if req.status != OPEN:
        raise Conflict(_("This request has already been handled."))


def _close(req: ErasureRequest, *, status: str, actor: User, response: str, now: datetime) -> None:
    before = _snapshot(req)
    req.status = status
    req.handled_by_id = actor.id
    req.handled_at = now
    req.response = response
    db.session.flush()
    record(actor=actor, action=f"erasure_request.{status}", obj=req, before=before, after=_snapshot(req))


def carry_out(*, request: ErasureRequest, actor: User, response: str = "", now: datetime | None = None) -> list[str]:
    """Anonymise the subject; for an SME user, also its company's contacts and texts once no other
    active user of the company remains. Returns the kinds done. Refused (Conflict) while the
    subject has an upcoming consultation."""
    _check_open(request, actor)
    now = now or utcnow()
    response = (response or "").strip()
    if len(response) > NOTE_MAX:
        msg = _("Keep the response under %(max)d characters.", max=NOTE_MAX)
        raise Invalid(msg, fields={"response": [msg]})
    subject = anonymise.load_subject(request.subject_type, request.subject_id)
    # Checked before anything changes, so a refusal leaves everything as it was.
    anonymise.refuse_if_upcoming(request.subject_type, request.subject_id, now=now)
    company_too = False
    if request.subject_type == SubjectType.USER.value and subject.company_id is not None:
        others = [
            u
            for u in db.session.scalars(
                select(User).where(User.company_id == subject.company_id, User.id != subject.id)
            )
            if u.active
        ]
        company_too = not others
        if company_too:
            anonymise.refuse_if_upcoming(SubjectType.COMPANY.value, subject.company_id, now=now)
    done = anonymise.anonymise_subject(
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        reason="erasure",
        actor=actor,
        erasure_request=request,
        now=now,
    )
    if company_too:
        done += [
            f"company:{k}"
            for k in anonymise.anonymise_subject(
                subject_type=SubjectType.COMPANY.value,
                subject_id=subject.company_id,
                reason="erasure",
                actor=actor,
                erasure_request=request,
                now=now,
            )
        ]
    # The requests' own words (why, who, how to reach them) outlive nothing else of the person: the
    # record that a request was made and handled stays, its note goes.
    db.session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.subject_type == request.subject_type, ErasureRequest.subject_id == request.subject_id)
        .values(note="")
        .execution_options(synchronize_session="fetch")
    )
    _close(request, status=DONE, actor=actor, response=response, now=now)
    return done


def refuse(*, request: ErasureRequest, actor: User, response: str, now: datetime | None = None) -> None:
    """Refuse with a reason the person is told (e.g. a legal duty to keep the data)."""
    _check_open(request, actor)
    response = (response or "").strip()
    if not response:
        msg = _("Give the reason for refusing.")
        raise Invalid(msg, fields={"response": [msg]})
    if len(response) > NOTE_MAX:
        msg = _("Keep the response under %(max)d characters.", max=NOTE_MAX)
        raise Invalid(msg, fields={"response": [msg]})
    _close(request, status=REFUSED, actor=actor, response=response, now=now or utcnow())


def open_requests_stmt() -> Select:
    """Requests nobody has handled yet (the requests page lists them first; the admin's home counts them)."""
    return select(ErasureRequest).where(ErasureRequest.status == OPEN)


def requests_for_staff():
    """Open requests first (oldest first: they have waited longest), then handled ones, newest first;
    the id ends the order so a page never loses or repeats a row."""
    is_open = ErasureRequest.status == OPEN
    return select(ErasureRequest).order_by(
        case((is_open, 0), else_=1),
        case((is_open, ErasureRequest.requested_at)),
        ErasureRequest.handled_at.desc(),
        case((is_open, ErasureRequest.id), else_=-ErasureRequest.id),
    )


SUBJECT_CHOICES = 50  # buyers and interpreters offered at once: the form searches, it does not list 20,000


def subject_candidates(search: str = "", limit: int = SUBJECT_CHOICES) -> tuple[list[Buyer], list[Interpreter]]:
    """Buyers and interpreters not yet anonymised whose name or e-mail contains `search`, by name, at
    most `limit` of each."""
    pattern = f"%{search.strip().lower()}%"

    def kept(model):
        return or_(model.email.is_(None), ~model.email.endswith("@" + anonymise.ANON_DOMAIN))

    buyers = select(Buyer).where(kept(Buyer)).order_by(Buyer.company_name, Buyer.id).limit(limit)
    interpreters = select(Interpreter).where(kept(Interpreter)).order_by(Interpreter.name, Interpreter.id).limit(limit)
    if search.strip():
        buyers = buyers.where(
            or_(
                func.lower(Buyer.company_name).like(pattern),
                func.lower(Buyer.contact_name).like(pattern),
                func.lower(Buyer.email).like(pattern),
            )
        )
        interpreters = interpreters.where(
            or_(func.lower(Interpreter.name).like(pattern), func.lower(Interpreter.email).like(pattern))
        )
    return list(db.session.scalars(buyers)), list(db.session.scalars(interpreters))


def subject_labels(rows: list[ErasureRequest]) -> dict[int, str]:
    """Each request's subject as staff know it (after the deletion only its anonymised name
    remains), one query per kind of subject whatever the number of requests."""
    wanted: dict[str, set[int]] = {}
    for r in rows:
        wanted.setdefault(r.subject_type, set()).add(r.subject_id)
    found: dict[tuple[str, int], str] = {}
    for subject_type, ids in wanted.items():
        model = anonymise.MODELS.get(subject_type)
        if model is None:
            continue
        for subject in db.session.scalars(select(model).where(model.id.in_(ids))):
            found[(subject_type, subject.id)] = anonymise.display_name(subject_type, subject)
    return {r.id: found.get((r.subject_type, r.subject_id), f"{r.subject_type} #{r.subject_id}") for r in rows}


def subject_label(req: ErasureRequest) -> str:
    return subject_labels([req])[req.id]
