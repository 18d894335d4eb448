"""API routes for personal data: the caller's own data export, consents and deletion request; the
access log for admins. The rules are the web pages' (consultroom.privacy)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g, jsonify
from flask_babel import gettext as _

from consultroom.access import authorize
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import iso, json_object, query_int, query_text, text_problem, unit_of_work
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.forms_util import iso_day
from consultroom.privacy import access_log, consent, erasure, export, notices
from consultroom.privacy.erasure import NOTE_MAX
from consultroom.privacy.models import SUBJECT_TYPES, ConsentRecord, ErasureRequest

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
ID_MAX = 2**31 - 1


def _problem(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


@bp.get("/me/data")
@api_auth
def my_data():
    """Everything held about the caller, as the web page's JSON download."""
    body = export.to_json(export.collect_user_data(user=g.api_user))
    return Response(body, mimetype="application/json")


def _own_subjects(user) -> list[tuple[str, int]]:
    subjects = [("user", user.id)]
    if user.is_sme and user.company_id is not None:
        subjects.append(("company", user.company_id))
    return subjects


def consent_json(record: ConsentRecord) -> dict[str, Any]:
    notice = notices.get_notice(record.purpose)
    return {
        "subject_type": record.subject_type,
        "purpose": record.purpose,
        "granted": record.granted,
        "notice_version": record.notice_version,
        "current_notice_version": notice.version if notice is not None else None,
        "at": iso(record.at),
        "via": record.via,
    }


@bp.get("/me/consents")
@api_auth
def my_consents():
    """The consents in force: the latest record per purpose for the caller and (an SME) its company."""
    items = []
    for subject_type, subject_id in _own_subjects(g.api_user):
        current = consent.current_consents(subject_type=subject_type, subject_id=subject_id)
        items += [consent_json(current[purpose]) for purpose in sorted(current)]
    return jsonify({"items": items})


@bp.put("/me/consents/marketing_email")
@api_auth
def set_marketing_consent():
    """Agree to or refuse news of other programs; optional, refusing costs nothing. A record is added
    only when the answer changes (set_consent), so repeating a PUT leaves the history as it is."""
    data = json_object()
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - {"granted"}):
        errors[name] = [_("Unknown field.")]
    granted = data.get("granted")
    if not isinstance(granted, bool):
        errors["granted"] = [_("Use true or false.")]
    _problem(errors)
    user = g.api_user
    with unit_of_work():
        consent.set_consent(
            subject_type="user",
            subject_id=user.id,
            user=user,
            purpose=notices.MARKETING_EMAIL,
            granted=bool(granted),
            via="api",
        )
        record = consent.current_consents(subject_type="user", subject_id=user.id)[notices.MARKETING_EMAIL]
        body = consent_json(record)
    return jsonify(body)


def erasure_json(request_: ErasureRequest) -> dict[str, Any]:
    return {
        "id": request_.id,
        "subject_type": request_.subject_type,
        "status": request_.status,
        "requested_at": iso(request_.requested_at),
        "note": request_.note,
        "handled_at": iso(request_.handled_at),
        "response": request_.response,
    }


@bp.post("/me/erasure-requests")
@api_auth
def create_erasure_request():
    """Ask for the deletion of one's own data (SME users), as the web page does."""
    user = g.api_user
    authorize(True, erasure.can_request_erasure(user, "user", user.id))
    data = json_object()
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - {"note"}):
        errors[name] = [_("Unknown field.")]
    note = data.get("note") or ""
    if not isinstance(note, str):
        errors["note"] = [_("Must be text.")]
    elif len(note) > NOTE_MAX:
        errors["note"] = [_("At most %(n)d characters.", n=NOTE_MAX)]
    elif text_problem(note):
        errors["note"] = [text_problem(note) or ""]
    _problem(errors)
    with unit_of_work():
        created = erasure.request_erasure(subject_type="user", subject_id=user.id, note=str(note).strip(), actor=user)
        body = erasure_json(created)
    return jsonify(body), 201


# --- the access log (admins) ---------------------------------------------------------------------


def _query_day(name: str, errors: dict[str, list[str]]) -> date | None:
    raw = query_text(name, 20, errors)
    if not raw:
        return None
    try:
        return iso_day(raw)
    except ValueError:
        errors[name] = [_("Give the date as YYYY-MM-DD.")]
        return None


def _query_id(name: str, errors: dict[str, list[str]]) -> int | None:
    raw = query_text(name, 20, errors)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10) or not 1 <= int(raw) <= ID_MAX:
        errors[name] = [_("Use a whole number from %(low)d to %(high)d.", low=1, high=ID_MAX)]
        return None
    return int(raw)


def access_json(row, actors) -> dict[str, Any]:
    actor = actors.get(row.actor_id) if row.actor_id is not None else None
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": {"id": actor.id, "name": actor.name, "email": actor.email} if actor else None,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "action": row.action,
        "what": row.what,
        "via": row.via,
    }


@bp.get("/access-log")
@api_auth
def list_access_log():
    """The personal-data access log, newest first, with the web page's filters. Not itself logged (see
    consultroom.privacy.access_views)."""
    authorize(access_log.can_read_access_log(g.api_user))
    errors: dict[str, list[str]] = {}
    subject_type = query_text("subject_type", 20, errors)
    if subject_type and subject_type not in SUBJECT_TYPES:
        errors["subject_type"] = [_("Choose user, company, buyer or interpreter.")]
    action = query_text("action", 20, errors)
    if action and action not in access_log.ACTIONS:
        errors["action"] = [_("Choose view or export.")]
    start = _query_day("from", errors)
    end = _query_day("to", errors)
    if start is not None and end is not None and end < start:
        errors["to"] = [_("The end date is before the start date.")]
    f = access_log.AccessFilter(
        actor_id=_query_id("actor_id", errors),
        subject_type=subject_type if "subject_type" not in errors else "",
        subject_id=_query_id("subject_id", errors),
        action=action if "action" not in errors else "",
        start=start,
        end=end,
    )
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    _problem(errors)
    pagination = db.paginate(access_log.access_query(f), page=page, per_page=per_page, error_out=False, count=True)
    actors = access_log.actors_of(pagination.items)
    return jsonify(
        {
            "items": [access_json(row, actors) for row in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )
