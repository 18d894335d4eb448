"""Consultation logs, outcomes, contracts, exchange rates and survey responses through the API.

Every rule is the UI's: the services and permission predicates of consultroom.outcomes and
consultroom.surveys; this module only reads JSON and writes it.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import false, select

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import check_storable, list_page, logged, unit_of_work
from consultroom.api.outcome_serializers import consultation_json, contract_json, survey_response_json
from consultroom.api.spec import errors, read_body
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.outcomes import policies, queries, services
from consultroom.outcomes.models import ExchangeRate
from consultroom.outcomes.schemas import (
    SHORT_MAX,
    ConsultationLogInputSchema,
    ConsultationSchema,
    ContractInputSchema,
    ContractSchema,
    RateInputSchema,
    RateListArgs,
    RateListSchema,
    RateSchema,
    StageInputSchema,
)
from consultroom.schemas import Day
from consultroom.surveys import policies as survey_policies
from consultroom.surveys import queries as survey_queries
from consultroom.surveys.schemas import SurveyResponseListArgs, SurveyResponseListSchema

_NOT_YOURS = "No such consultation, or not one you may see."
_ADMIN_ONLY = "Not found, or you are not an admin."


def _write_errors(conflict: str, invalid: str) -> dict[str, Any]:
    return errors(
        400,
        401,
        415,
        e403="You see this consultation but may not do this.",
        e404=_NOT_YOURS,
        e409=conflict,
        e422=invalid,
    )


def _renamed(exc: Invalid, names: dict[str, str]) -> Invalid:
    """The service's error with its field names as the API calls them."""
    return Invalid(exc.message, fields={names.get(k, k): v for k, v in exc.fields.items()})


# --- consultations -------------------------------------------------------------------------------


def _consultation(booking_id: int) -> Booking:
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_consultation(g.api_user, booking))
    return booking


def _consultation_body(booking: Booking) -> dict[str, Any]:
    sees_outcome = policies.can_see_outcome(g.api_user, booking)
    outcome = queries.outcome_of(booking) if sees_outcome else None
    return consultation_json(booking, log=queries.log_of(booking), outcome=outcome, sees_outcome=sees_outcome)


@bp.get("/consultations/<int:booking_id>", tags=["outcomes"])
@api_auth
@bp.doc(
    operationId="getConsultation",
    summary="A consultation's log, outcome stage with its history, and contracts",
    description="The company's users and staff see all; the booking's interpreter the log only.",
    responses=errors(401, e404=_NOT_YOURS),
)
@bp.response(200, ConsultationSchema, description="The consultation.")
def get_consultation(booking_id: int):
    booking = _consultation(booking_id)
    # PIPA access log, as on the consultation page: the log and notes are about the company and the buyer.
    subjects = [("company", booking.company_id)]
    if booking.buyer_id is not None:
        subjects.append(("buyer", booking.buyer_id))
    return logged(
        jsonify(_consultation_body(booking)),
        actor=g.api_user,
        subjects=subjects,
        what="api.get_consultation",
    )


@bp.put("/consultations/<int:booking_id>/log", tags=["outcomes"])
@api_auth
@bp.doc(
    operationId="saveConsultationLog",
    summary="Write or correct the log (staff or the booking's interpreter)",
    description="Held starts the outcome pipeline; the booking becomes held or no_show.",
    responses=_write_errors(
        "Not a consultation that can be logged (yet), or one with outcome updates made a no-show.",
        "Fields missing or not valid, each named in `fields`.",
    ),
)
@bp.documents_body(ConsultationLogInputSchema)
@bp.response(200, ConsultationSchema, description="The consultation with its log.")
def save_consultation_log(booking_id: int):
    booking = _consultation(booking_id)
    authorize(True, policies.can_record_log(g.api_user, booking))
    data = read_body(ConsultationLogInputSchema)
    # The whole log: what is left out is saved empty, as the form sends it.
    payload = {name: data.get(name) for name in services.LOG_FIELDS}
    payload["samples_requested"] = bool(data.get("samples_requested"))
    with unit_of_work():
        services.record_log(booking=booking, data=payload, actor=g.api_user, now=utcnow())
        body = _consultation_body(booking)
    return jsonify(body)


def _outcome_of(booking: Booking):
    authorize(True, policies.can_update_outcome(g.api_user, booking))
    outcome = services.outcome_for(booking)
    if outcome is None:
        raise Conflict(_("This consultation has no outcome yet: it must be logged as held first."))
    return outcome


@bp.post("/consultations/<int:booking_id>/stage", tags=["outcomes"])
@api_auth
@bp.doc(
    operationId="changeConsultationStage",
    summary="Move the outcome to a later stage, or drop it (the company or staff)",
    responses=_write_errors(
        "No outcome yet (log it as held first), or the outcome is closed.",
        "Not a stage this outcome can move to (`to`), or a date not allowed (`on`).",
    ),
)
@bp.documents_body(StageInputSchema)
@bp.response(200, ConsultationSchema, description="The consultation with the outcome moved.")
def change_consultation_stage(booking_id: int):
    booking = _consultation(booking_id)
    outcome = _outcome_of(booking)
    data = read_body(StageInputSchema)
    with unit_of_work():
        try:
            services.change_stage(
                outcome=outcome,
                to_stage=data["to"],
                on=data["on"],
                note=data.get("note") or "",
                actor=g.api_user,
                now=utcnow(),
            )
        except Invalid as exc:
            raise _renamed(exc, {"stage": "to", "changed_on": "on"}) from exc
        body = _consultation_body(booking)
    return jsonify(body)


@bp.post("/consultations/<int:booking_id>/contracts", tags=["outcomes"])
@api_auth
@bp.doc(
    operationId="createConsultationContract",
    summary="Record a contract with its KRW value at the signing date's rate",
    description="The outcome becomes contracted.",
    responses=_write_errors(
        "No outcome yet, or it was dropped (staff must reopen it first).",
        "Fields not valid; no rate for the currency and date names `signed_on`.",
    ),
)
@bp.documents_body(ContractInputSchema)
@bp.response(201, ContractSchema, description="The contract with krw_value, rate and rate_day.")
def create_consultation_contract(booking_id: int):
    booking = _consultation(booking_id)
    outcome = _outcome_of(booking)
    data = read_body(ContractInputSchema)
    with unit_of_work():
        contract = services.record_contract(
            outcome=outcome,
            currency=data["currency"],
            amount=data["amount"],
            signed_on=data["signed_on"],
            items=data.get("items") or "",
            actor=g.api_user,
            now=utcnow(),
        )
        body = contract_json(contract)
    return jsonify(body), 201


# --- exchange rates (admins) ---------------------------------------------------------------------


@bp.get("/rates", tags=["rates"])
@api_auth
@api_requires(visible=policies.can_manage_rates)
@bp.doc(
    operationId="listRates",
    summary="The hand-kept KRW rates (admins), newest day first",
    responses=errors(401, e404=_ADMIN_ONLY, e422="A query parameter is not valid; `fields` names it."),
)
@bp.arguments(RateListArgs, location="query")
@bp.response(200, RateListSchema, description="One page of rates.")
def list_rates(args: dict[str, Any]):
    # As the rates page reads it: upper-cased, three letters.
    currency = (args.get("currency") or "").strip().upper()[:3] or None
    stmt = queries.rates_query(currency)
    if args.get("from_") is not None:
        stmt = stmt.where(ExchangeRate.day >= args["from_"])
    if args.get("to") is not None:
        stmt = stmt.where(ExchangeRate.day <= args["to"])
    listed = list_page(stmt, args)
    return listed.body(listed.items)


def _rate_key(currency: str, day: str) -> tuple[str, Any]:
    """The path's currency and day, refused in the API's error shape, each named."""
    problems: dict[str, list[str]] = {}
    if len(currency) > SHORT_MAX:
        problems["currency"] = [_("At most %(n)d characters.", n=SHORT_MAX)]
    try:
        on = Day(required=True).deserialize(day)
    except ValidationError as exc:
        problems["day"] = [str(m) for m in exc.messages]
        on = None
    if problems:
        raise Invalid(_("Please correct the marked fields."), fields=problems)
    check_storable({"currency": currency})
    return currency, on


@bp.put("/rates/<currency>/<day>", tags=["rates"])
@api_auth
@api_requires(visible=policies.can_manage_rates)
@bp.doc(
    operationId="saveRate",
    summary="Add or change the rate of a currency on a day (admins)",
    responses=errors(
        400, 401, 409, 415, e404=_ADMIN_ONLY, e422="Currency, day or rate not valid, each named in `fields`."
    ),
)
@bp.documents_body(RateInputSchema)
@bp.response(200, RateSchema, description="The rate, changed.")
@bp.alt_response(201, schema=RateSchema, description="The rate, added.")
def save_rate(currency: str, day: str):
    data = read_body(RateInputSchema)
    currency, on = _rate_key(currency, day)
    existing = db.session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency.strip().upper(), ExchangeRate.day == on)
    )
    with unit_of_work():
        rate = services.save_rate(
            rate=existing, currency=currency, day=on, krw_per_unit=data["krw_per_unit"], actor=g.api_user
        )
        body = RateSchema().dump(rate)
    return jsonify(body), 200 if existing is not None else 201


# --- survey responses ----------------------------------------------------------------------------


@bp.get("/survey-responses", tags=["surveys"])
@api_auth
@bp.doc(
    operationId="listSurveyResponses",
    summary="Survey responses: staff see all, an SME user its company's own",
    responses=errors(401, e422="A query parameter is not valid; `fields` names it."),
)
@bp.arguments(SurveyResponseListArgs, location="query")
@bp.response(200, SurveyResponseListSchema, description="One page of responses, newest first.")
def list_survey_responses(args: dict[str, Any]):
    user = g.api_user
    round_id = args.get("round_id")
    if survey_policies.can_see_results(user):
        stmt = survey_queries.responses_stmt(round_id=round_id)
    elif survey_policies.can_list_own_surveys(user):
        # Own only: an SME user sees the answers its company gave (the SME survey), nobody else any.
        stmt = survey_queries.responses_stmt(company_id=user.company_id, round_id=round_id)
    else:
        stmt = survey_queries.responses_stmt().where(false())
    listed = list_page(stmt, args)
    responses = listed.items
    items = [survey_response_json(r) for r in responses]
    body = listed.body(items)
    # PIPA access log: staff reading free-text answers; an answer is its company's, or its buyer's. Read
    # from the responses still held here: the session keeps loaded rows only while something refers to
    # them, so looking them up again by id would load each one (and its invitation) anew.
    subjects = sorted(
        {("company", r.invitation.booking.company_id) for r in responses if r.invitation.respondent == "sme"}
        | {("buyer", r.invitation.buyer_id) for r in responses if r.invitation.buyer_id is not None}
    )
    return logged(
        jsonify(body),
        actor=user,
        subjects=subjects,
        what="api.list_survey_responses",
    )
