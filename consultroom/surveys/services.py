"""Survey rules: versioned question sets, invitations and reminders, responses, the satisfaction figure.

Services flush and never commit; the view or job commits once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.bookings.notify import company_users
from consultroom.buyers.models import Buyer
from consultroom.companies.profile import profile_for
from consultroom.errors import Conflict, DomainError, Invalid, NotFound
from consultroom.extensions import db
from consultroom.languages import supported
from consultroom.signing import LinkInvalid, make_token, read_token
from consultroom.surveys.models import (
    AUDIENCES,
    KINDS,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyVersion,
)

LINK_PURPOSE = "survey"
REMINDER_DAYS = (3, 7)
TEXT_MAX = 2000
QUESTION_TEXT_MAX = 500


class Gone(DomainError):
    """The invitation expired: its link no longer takes answers."""

    status = 410
    code = "gone"


# --- question sets -----------------------------------------------------------------------------


def active_version(audience: str) -> SurveyVersion | None:
    return db.session.scalar(
        select(SurveyVersion).where(SurveyVersion.audience == audience, SurveyVersion.active.is_(True))
    )


def version_in_use(version: SurveyVersion) -> bool:
    return bool(db.session.scalar(select(exists().where(SurveyResponse.version_id == version.id))))


def _check_audience(audience: str) -> None:
    if audience not in AUDIENCES:
        raise NotFound(_("No such survey audience."))


def _flush_or_conflict() -> None:
    # Two admins creating the next version at once: the unique (audience, number) and the one-active
    # index let one win; the other gets a clear message instead of a 500.
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("Someone else changed these questions at the same time. Please try again.")) from exc


def editable_version(*, audience: str, actor: User | None) -> tuple[SurveyVersion, dict[int, SurveyQuestion]]:
    """The active version of `audience`, ready to edit, and a map from the old question ids to the
    questions to edit. A version that any response uses stays as it is (its answers point to it):
    the next version is created as a copy, becomes the one active version, and is returned."""
    _check_audience(audience)
    current = active_version(audience)
    if current is None:
        version = SurveyVersion(audience=audience, number=1, active=True, created_by_id=actor and actor.id)
        db.session.add(version)
        _flush_or_conflict()
        record(actor=actor, action="survey_version.created", obj=version, after=version.snapshot())
        return version, {}
    if not version_in_use(current):
        return current, {q.id: q for q in current.questions}
    number = (
        db.session.scalar(select(func.max(SurveyVersion.number)).where(SurveyVersion.audience == audience)) or 0
    ) + 1
    current.active = False
    _flush_or_conflict()  # the old one is inactive before the new one is: one active version per audience
    version = SurveyVersion(audience=audience, number=number, active=True, created_by_id=actor and actor.id)
    mapping: dict[int, SurveyQuestion] = {}
    for q in current.questions:
        copy = SurveyQuestion(
            position=q.position, kind=q.kind, text_ko=q.text_ko, text_en=q.text_en, required=q.required
        )
        version.questions.append(copy)
        mapping[q.id] = copy
    db.session.add(version)
    _flush_or_conflict()
    record(
        actor=actor,
        action="survey_version.created",
        obj=version,
        before={"active_version": current.number},
        after={**version.snapshot(), "copied_from": current.number},
    )
    return version, mapping


def _clean_question(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = [_("Choose a 1-5 scale or a free text answer.")]
    cleaned: dict[str, Any] = {"kind": kind, "required": bool(data.get("required"))}
    for name in ("text_ko", "text_en"):
        value = " ".join(str(data.get(name) or "").split())
        if not value:
            errors[name] = [_("Write the question in this language.")]
        elif len(value) > QUESTION_TEXT_MAX:
            errors[name] = [_("At most %(n)d characters.", n=QUESTION_TEXT_MAX)]
        cleaned[name] = value
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return cleaned


def add_question(*, audience: str, data: dict[str, Any], actor: User | None) -> SurveyQuestion:
    cleaned = _clean_question(data)
    version, _mapping = editable_version(audience=audience, actor=actor)
    last = max((q.position for q in version.questions), default=0)
    question = SurveyQuestion(position=last + 1, **cleaned)
    version.questions.append(question)
    db.session.flush()
    record(actor=actor, action="survey_question.added", obj=question, after=question.snapshot())
    return question


def _editable_copy(question: SurveyQuestion, actor: User | None) -> SurveyQuestion:
    version = question.version
    if not version.active:
        raise Conflict(_("Only the questions of the active version can be changed."))
    _version, mapping = editable_version(audience=version.audience, actor=actor)
    return mapping[question.id]


def edit_question(*, question: SurveyQuestion, data: dict[str, Any], actor: User | None) -> SurveyQuestion:
    """Change a question; if answers use its version, the change is made in a new version."""
    cleaned = _clean_question(data)
    target = _editable_copy(question, actor)
    before = target.snapshot()
    for key, value in cleaned.items():
        setattr(target, key, value)
    db.session.flush()
    record(actor=actor, action="survey_question.updated", obj=target, before=before, after=target.snapshot())
    return target


def delete_question(*, question: SurveyQuestion, actor: User | None) -> SurveyVersion:
    target = _editable_copy(question, actor)
    version = target.version
    record(actor=actor, action="survey_question.deleted", obj=target, before=target.snapshot())
    version.questions.remove(target)
    db.session.flush()
    return version


def move_question(*, question: SurveyQuestion, direction: str, actor: User | None) -> SurveyQuestion:
    if direction not in ("up", "down"):
        raise Invalid(_("Choose up or down."))
    target = _editable_copy(question, actor)
    ordered = list(target.version.questions)
    # Renumber 1..n first, so equal positions (never made here, but harmless) cannot confuse a swap.
    for n, q in enumerate(ordered, start=1):
        q.position = n
    i = ordered.index(target)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ordered):
        other = ordered[j]
        before = {"position": target.position}
        target.position, other.position = other.position, target.position
        record(
            actor=actor,
            action="survey_question.moved",
            obj=target,
            before=before,
            after={"position": target.position},
        )
    db.session.flush()
    return target


# --- signed links -------------------------------------------------------------------------------


def link_days() -> int:
    return int(current_app.config.get("SURVEY_LINK_DAYS", 21))


def make_survey_token(invitation: SurveyInvitation) -> str:
    return make_token(LINK_PURPOSE, {"i": invitation.id, "r": invitation.respondent})


def read_survey_token(token: str) -> dict[str, Any]:
    """The payload of a genuine token; raises LinkInvalid / LinkExpired otherwise. The invitation's
    own expires_at is checked by the caller: it is what makes the invitation count as expired."""
    data = read_token(LINK_PURPOSE, token, link_days() * 24 * 3600)
    ok = isinstance(data, dict) and isinstance(data.get("i"), int) and data.get("r") in AUDIENCES
    if not ok:
        raise LinkInvalid("malformed payload")
    return data


def survey_url(invitation: SurveyInvitation, locale: str | None = None) -> str:
    from consultroom.notifications.services import external_url

    values = {"lang": locale} if locale else {}
    return external_url("surveys.answer", token=make_survey_token(invitation), **values)


# --- invitations and reminders ------------------------------------------------------------------


def buyer_locale(buyer: Buyer | None) -> str:
    # As in matching: the buyer's preferred language, English when it is missing or not offered.
    return supported(buyer.preferred_language if buyer is not None else None)


def _mail_invitation(invitation: SurveyInvitation, template: str, now: datetime) -> int:
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    from consultroom.notifications.services import queue_mail, queue_mail_to_user

    booking = invitation.booking
    sent = 0

    def context(locale: str, zone: str) -> dict[str, Any]:
        company = booking.company
        return {
            "respondent": invitation.respondent,
            "company_name": profile_for(company, locale).name,
            "buyer_name": booking.buyer.company_name if booking.buyer is not None else "",
            "consulted_on": format_date(booking.starts_at.astimezone(ZoneInfo(zone)).date(), "long", locale=locale),
            "expires_on": format_date(invitation.expires_at.astimezone(ZoneInfo(zone)).date(), "long", locale=locale),
        }

    if invitation.respondent == "sme":
        for user in company_users(booking.company_id):
            zone = user.timezone or "Asia/Seoul"
            queue_mail_to_user(
                user=user,
                template=template,
                context={**context(user.locale, zone), "name": user.name, "link": survey_url(invitation, user.locale)},
            )
            sent += 1
    else:
        buyer = db.session.get(Buyer, invitation.buyer_id) if invitation.buyer_id else None
        if buyer is not None and buyer.email:
            locale = invitation.locale
            try:
                zone = buyer.timezone
                ZoneInfo(zone)
            except (ValueError, KeyError, TypeError):
                zone = "Asia/Seoul"
            queue_mail(
                to=buyer.email,
                template=template,
                context={
                    **context(locale, zone),
                    "name": buyer.contact_name or buyer.company_name,
                    "link": survey_url(invitation),
                },
                locale=locale,
            )
            sent += 1
    invitation.mails_sent += sent
    return sent


def invite_held(*, now: datetime) -> dict[str, int]:
    """Invite the respondents of held consultations not yet invited; returns invitations per kind.

    Only consultations that ended within the link's lifetime are invited (an older one's link
    would be dead on arrival), and only for audiences with an active question set. The unique
    (booking, respondent) row is inserted in a savepoint before any mail is queued, so a rerun or a
    second process sends nothing twice.
    """
    days = link_days()
    kinds = ["sme"] + (["buyer"] if current_app.config.get("SURVEY_INVITE_BUYERS", True) else [])
    made = dict.fromkeys(kinds, 0)
    for kind in kinds:
        if active_version(kind) is None:
            continue
        already = select(SurveyInvitation.booking_id).where(SurveyInvitation.respondent == kind)
        stmt = (
            select(Booking)
            .where(
                Booking.status == BookingStatus.HELD.value,
                Booking.ends_at >= now - timedelta(days=days),
                Booking.id.not_in(already),
            )
            .order_by(Booking.starts_at, Booking.id)
        )
        if kind == "buyer":
            stmt = stmt.where(Booking.buyer_id.is_not(None))
        for booking in db.session.scalars(stmt).all():
            invitation = SurveyInvitation(
                booking_id=booking.id,
                respondent=kind,
                buyer_id=booking.buyer_id if kind == "buyer" else None,
                locale=buyer_locale(booking.buyer) if kind == "buyer" else "ko",
                invited_at=now,
                expires_at=now + timedelta(days=days),
            )
            try:
                with db.session.begin_nested():
                    db.session.add(invitation)
            except IntegrityError:
                continue  # invited meanwhile by another process
            invitation.booking = booking
            _mail_invitation(invitation, "survey_invitation", now)
            made[kind] += 1
    db.session.flush()
    return made


def _unanswered():
    return ~exists().where(SurveyResponse.invitation_id == SurveyInvitation.id)


def send_reminders(*, now: datetime) -> dict[int, int]:
    """Remind the unanswered after 3 and after 7 days, each reminder once, never after expiry.

    If the 3-day reminder was never sent by the time the 7-day one is due (the scheduler was down),
    only the 7-day one goes out and the 3-day one is marked as passed. Each marker is set by a
    compare-and-set update, so two overlapping runs cannot both send it.
    """
    sent = {3: 0, 7: 0}
    plans = (
        (7, SurveyInvitation.reminded_7_at, [SurveyInvitation.reminded_7_at.is_(None)]),
        (
            3,
            SurveyInvitation.reminded_3_at,
            [SurveyInvitation.reminded_3_at.is_(None), SurveyInvitation.reminded_7_at.is_(None)],
        ),
    )
    for days, column, conditions in plans:
        due = db.session.scalars(
            select(SurveyInvitation)
            .where(
                *conditions,
                SurveyInvitation.invited_at <= now - timedelta(days=days),
                SurveyInvitation.expires_at > now,
                _unanswered(),
            )
            .order_by(SurveyInvitation.id)
        ).all()
        for invitation in due:
            values: dict[str, Any] = {column.key: now}
            if days == 7:
                values["reminded_3_at"] = func.coalesce(SurveyInvitation.reminded_3_at, now)
            claimed = db.session.execute(
                update(SurveyInvitation)
                .where(SurveyInvitation.id == invitation.id, *conditions)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                continue
            db.session.refresh(invitation)
            _mail_invitation(invitation, "survey_reminder", now)
            sent[days] += 1
    db.session.flush()
    return sent


# --- responses ----------------------------------------------------------------------------------


def field_name(question: SurveyQuestion) -> str:
    return f"q{question.id}"


def _clean_answers(version: SurveyVersion, raw: dict[str, Any]) -> list[SurveyAnswer]:
    errors: dict[str, list[str]] = {}
    answers: list[SurveyAnswer] = []
    for q in version.questions:
        name = field_name(q)
        value = str(raw.get(name) or "").strip()
        if not value:
            if q.required:
                errors[name] = [
                    _("Choose one of the five answers.") if q.kind == "scale5" else _("Please answer this question.")
                ]
            continue
        if q.kind == "scale5":
            if value not in ("1", "2", "3", "4", "5"):
                errors[name] = [_("Choose one of the five answers.")]
                continue
            answers.append(SurveyAnswer(question_id=q.id, score=int(value)))
        else:
            if len(value) > TEXT_MAX:
                errors[name] = [_("At most %(n)d characters.", n=TEXT_MAX)]
                continue
            answers.append(SurveyAnswer(question_id=q.id, text=value))
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return answers


def submit_response(
    *,
    invitation: SurveyInvitation,
    version: SurveyVersion,
    answers: dict[str, Any],
    locale: str,
    user: User | None,
    now: datetime,
) -> SurveyResponse:
    """Record the one response of an invitation. Raises Gone (expired), Conflict (already answered,
    also when a concurrent submit won the race) or Invalid (fields q<id> with their errors)."""
    if invitation.response is not None:
        raise Conflict(_("This survey has already been answered. Thank you."))
    if now >= invitation.expires_at:
        raise Gone(_("This survey link has expired."))
    if version.audience != invitation.respondent or not version.active:
        raise Conflict(_("The questions were updated while you were answering. Please check your answers."))
    rows = _clean_answers(version, answers)
    response = SurveyResponse(
        invitation_id=invitation.id,
        version_id=version.id,
        submitted_at=now,
        locale=locale,
        user_id=user.id if user is not None else None,
        answers=rows,
    )
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError as exc:
        # The unique invitation_id: another submit of the same survey was committed first.
        raise Conflict(_("This survey has already been answered. Thank you.")) from exc
    return response


# --- the satisfaction figure for reports ---------------------------------------------------------


def average_satisfaction(
    *,
    start: date | None,
    end: date | None,
    round_id: int | None = None,
    audience: str = "sme",
) -> Decimal | None:
    """Average satisfaction (1-5) over the scale answers of responses to consultations held from
    `start` to `end` (inclusive, consultation date in Seoul; None = open-ended) and/or in a round.

    It is the mean of per-response means: each response's scale answers are averaged first, then
    those averages, so every respondent weighs the same however many scale questions they
    answered. Rounded half-up to two decimals; None when there is no scale answer. The results page
    shows the same figure (queries.mean_of_grouped).
    """
    from consultroom.surveys.queries import Scope, mean_of_grouped, response_score_groups

    scope = Scope(audience=audience, round_id=round_id, start=start, end=end)
    return mean_of_grouped(response_score_groups(scope))
