"""API routes for personal data: the caller's own data export, consents and deletion request; the
access log for admins. The rules are the web pages' (consultroom.privacy)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from consultroom.accounts.models import User
from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import list_page, unit_of_work
from consultroom.api.spec import NUL_QUERY, errors, read_body
from consultroom.privacy import access_log, consent, erasure, export, notices
from consultroom.privacy.models import ConsentRecord
from consultroom.privacy.schemas import (
    AccessLogArgs,
    AccessLogListSchema,
    ConsentInputSchema,
    ConsentListSchema,
    ConsentSchema,
    ErasureRequestInputSchema,
    ErasureRequestSchema,
    MyDataSchema,
)


@bp.get("/me/data", tags=["privacy"])
@api_auth
@bp.doc(
    operationId="getMyData",
    summary="Everything held about you (and your company), as the web page's JSON download",
    responses=errors(401, e422=NUL_QUERY),
)
# privacy.export writes it (dates in Seoul time, as the download has them); MyDataSchema declares it.
@bp.response(200, MyDataSchema, description="Your data.")
def my_data():
    """Everything held about the caller, as the web page's JSON download."""
    body = export.to_json(export.collect_user_data(user=g.api_user))
    return Response(body, mimetype="application/json")


def _own_subjects(user: User) -> list[tuple[str, int]]:
    subjects = [("user", user.id)]
    if user.is_sme and user.company_id is not None:
        subjects.append(("company", user.company_id))
    return subjects


def consent_row(record: ConsentRecord) -> dict[str, Any]:
    notice = notices.get_notice(record.purpose)
    return {"record": record, "current_notice_version": notice.version if notice is not None else None}


@bp.get("/me/consents", tags=["privacy"])
@api_auth
@bp.doc(
    operationId="listMyConsents",
    summary="The consents in force: the latest per purpose, for you and (an SME) your company",
    responses=errors(401, e422=NUL_QUERY),
)
@bp.response(200, ConsentListSchema, description="Your consents.")
def my_consents():
    """The consents in force: the latest record per purpose for the caller and (an SME) its company."""
    items = []
    for subject_type, subject_id in _own_subjects(g.api_user):
        current = consent.current_consents(subject_type=subject_type, subject_id=subject_id)
        items += [consent_row(current[purpose]) for purpose in sorted(current)]
    return {"items": items}


@bp.put("/me/consents/marketing_email", tags=["privacy"])
@api_auth
@bp.doc(
    operationId="setMarketingConsent",
    summary="Agree to or refuse news of other programs (optional: refusing costs nothing)",
    description="A record (via api) is added only when the answer changes.",
    responses=errors(400, 401, 415, e422="`granted` is missing or not true or false, or an unknown field is sent."),
)
@bp.arguments(ConsentInputSchema)
@bp.response(200, ConsentSchema, description="The consent in force.")
def set_marketing_consent(data: dict[str, Any]):
    """Agree to or refuse news of other programs; optional, refusing costs nothing. A record is added
    only when the answer changes (set_consent), so repeating a PUT leaves the history as it is."""
    user = g.api_user
    with unit_of_work():
        consent.set_consent(
            subject_type="user",
            subject_id=user.id,
            user=user,
            purpose=notices.MARKETING_EMAIL,
            granted=data["granted"],
            via="api",
        )
        record = consent.current_consents(subject_type="user", subject_id=user.id)[notices.MARKETING_EMAIL]
        body = ConsentSchema().dump(consent_row(record))
    return jsonify(body)


@bp.post("/me/erasure-requests", tags=["privacy"])
@api_auth
@api_requires(lambda user: erasure.can_request_erasure(user, "user", user.id))
@bp.doc(
    operationId="createMyErasureRequest",
    summary="Ask for the deletion of your data (SME users)",
    description="Staff carry it out: names, e-mails, phones and free text are anonymised; counts "
    "and amounts stay in the reports.",
    responses=errors(
        400,
        401,
        415,
        e403="Staff and admin accounts cannot ask here.",
        e409="A request is already open, or your data is already deleted.",
        e422="`note` is not valid, or an unknown field is sent.",
    ),
)
@bp.documents_body(ErasureRequestInputSchema)
@bp.response(201, ErasureRequestSchema, description="Recorded; open until staff handle it.")
def create_erasure_request():
    """Ask for the deletion of one's own data (SME users), as the web page does."""
    user = g.api_user
    note = read_body(ErasureRequestInputSchema).get("note") or ""
    with unit_of_work():
        created = erasure.request_erasure(subject_type="user", subject_id=user.id, note=note.strip(), actor=user)
        body = ErasureRequestSchema().dump(created)
    return jsonify(body), 201


# --- the access log (admins) ---------------------------------------------------------------------


@bp.get("/access-log", tags=["privacy"])
@api_auth
@api_requires(visible=access_log.can_read_access_log)
@bp.doc(
    operationId="listAccessLog",
    summary="The personal-data access log (admins), newest first",
    description="Every view or export of another person's personal data by staff or admins. "
    "Reading the log is not itself logged.",
    responses=errors(
        401,
        e404="Not found, or you are not an admin.",
        e422="A query parameter is not valid; `fields` names it.",
    ),
)
@bp.arguments(AccessLogArgs, location="query")
@bp.response(200, AccessLogListSchema, description="One page of entries.")
def list_access_log(args: dict[str, Any]):
    """The personal-data access log, newest first, with the web page's filters. Not itself logged (see
    consultroom.privacy.access_views)."""
    f = access_log.AccessFilter(
        actor_id=args.get("actor_id"),
        subject_type=args.get("subject_type") or "",
        subject_id=args.get("subject_id"),
        action=args.get("action") or "",
        start=args.get("from_"),
        end=args.get("to"),
    )
    listed = list_page(access_log.access_query(f), args)
    actors = access_log.actors_of(listed.items)
    items = [
        {"row": row, "actor": actors.get(row.actor_id) if row.actor_id is not None else None} for row in listed.items
    ]
    return listed.body(items)
