"""Consultation logs, outcomes, contracts, exchange rates and survey responses through the API.

Every rule is the UI's: the services and permission predicates of consultroom.outcomes and
consultroom.surveys; this module only reads JSON and writes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import false, select

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.booking_views import MAX_PAGE, MAX_PER_PAGE, _query_id
from consultroom.api.http import check_storable, json_object, query_int, query_text, unit_of_work
from consultroom.api.outcome_serializers import consultation_json, contract_json, rate_json, survey_response_json
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.outcomes import policies, queries, services
from consultroom.outcomes.models import ExchangeRate
from consultroom.privacy import access_log
from consultroom.surveys import policies as survey_policies
from consultroom.surveys import queries as survey_queries

# The log form's limits (consultroom.outcomes.forms.LogForm); the service cuts next_action at 300.
LOG_TEXT_MAX = {"products_discussed": 5000, "samples_text": 2000, "next_action": 300, "notes": 10000}
LOG_CHOICES = ("attendance", "absent_party", "buyer_interest")
NOTE_MAX = 2000  # StageForm.note
ITEMS_MAX = 5000  # ContractForm.items
SHORT_MAX = 100  # currency codes and amounts: the service checks what they say


def _problem(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], errors: dict[str, list[str]]) -> None:
    for name in sorted(set(data) - set(allowed)):
        errors[name] = [_("Unknown field.")]


def _text(
    data: dict[str, Any], name: str, max_len: int, errors: dict[str, list[str]], *, required: bool = False
) -> str | None:
    value = data.get(name)
    if value is None or (required and value == ""):
        if required:
            errors[name] = [_("This field is required.")]
        return None
    if not isinstance(value, str):
        errors[name] = [_("Must be text.")]
        return None
    if len(value) > max_len:
        errors[name] = [_("At most %(n)d characters.", n=max_len)]
        return None
    return value


def _day(value: Any, name: str, errors: dict[str, list[str]], *, required: bool) -> date | None:
    if value is None or value == "":
        if required:
            errors[name] = [_("This field is required.")]
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = [_("Give the date as YYYY-MM-DD.")]
        return None


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


@bp.get("/consultations/<int:booking_id>")
@api_auth
def get_consultation(booking_id: int):
    booking = _consultation(booking_id)
    # PIPA access log, as on the consultation page: the log and notes are about the company and the buyer.
    subjects = [("company", booking.company_id)]
    if booking.buyer_id is not None:
        subjects.append(("buyer", booking.buyer_id))
    return access_log.commit_logged(
        jsonify(_consultation_body(booking)),
        actor=g.api_user,
        subjects=subjects,
        what="api.get_consultation",
        via="api",
    )


def _log_payload(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    _unknown(data, services.LOG_FIELDS, errors)
    payload: dict[str, Any] = {}
    for name in LOG_CHOICES:
        # The service checks the value against its choices; here only that it is text.
        payload[name] = _text(data, name, SHORT_MAX, errors)
    for name, max_len in LOG_TEXT_MAX.items():
        payload[name] = _text(data, name, max_len, errors)
    samples = data.get("samples_requested", False)
    if samples is not None and not isinstance(samples, bool):
        errors["samples_requested"] = [_("Use true or false.")]
    payload["samples_requested"] = bool(samples)
    payload["next_action_on"] = _day(data.get("next_action_on"), "next_action_on", errors, required=False)
    check_storable({k: v for k, v in payload.items() if k not in errors})
    _problem(errors)
    return payload


@bp.put("/consultations/<int:booking_id>/log")
@api_auth
def save_consultation_log(booking_id: int):
    booking = _consultation(booking_id)
    authorize(True, policies.can_record_log(g.api_user, booking))
    payload = _log_payload(json_object())
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


@bp.post("/consultations/<int:booking_id>/stage")
@api_auth
def change_consultation_stage(booking_id: int):
    booking = _consultation(booking_id)
    outcome = _outcome_of(booking)
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("to", "on", "note"), errors)
    to_stage = _text(data, "to", SHORT_MAX, errors, required=True)
    on = _day(data.get("on"), "on", errors, required=True)
    note = _text(data, "note", NOTE_MAX, errors)
    check_storable({"note": note or ""})
    _problem(errors)
    with unit_of_work():
        try:
            services.change_stage(
                outcome=outcome, to_stage=to_stage, on=on, note=note or "", actor=g.api_user, now=utcnow()
            )
        except Invalid as exc:
            raise _renamed(exc, {"stage": "to", "changed_on": "on"}) from exc
        body = _consultation_body(booking)
    return jsonify(body)


@bp.post("/consultations/<int:booking_id>/contracts")
@api_auth
def create_consultation_contract(booking_id: int):
    booking = _consultation(booking_id)
    outcome = _outcome_of(booking)
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("amount", "currency", "signed_on", "items"), errors)
    amount = _text(data, "amount", SHORT_MAX, errors, required=True)
    currency = _text(data, "currency", SHORT_MAX, errors, required=True)
    signed_on = _day(data.get("signed_on"), "signed_on", errors, required=True)
    items = _text(data, "items", ITEMS_MAX, errors)
    check_storable({k: v for k, v in {"amount": amount, "currency": currency, "items": items}.items() if v})
    _problem(errors)
    with unit_of_work():
        contract = services.record_contract(
            outcome=outcome,
            currency=currency,
            amount=amount,
            signed_on=signed_on,
            items=items or "",
            actor=g.api_user,
            now=utcnow(),
        )
        body = contract_json(contract)
    return jsonify(body), 201


# --- exchange rates (admins) ---------------------------------------------------------------------


def _page_args(errors: dict[str, list[str]]) -> tuple[int, int]:
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    return page, query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)


def _page(stmt, page: int, per_page: int, item) -> dict[str, Any]:
    return _body(db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True), page, per_page, item)


def _body(pagination, page: int, per_page: int, item) -> dict[str, Any]:
    return {
        "items": [item(row) for row in pagination.items],
        "page": page,
        "per_page": per_page,
        "total": pagination.total,
        "pages": pagination.pages,
    }


@bp.get("/rates")
@api_auth
def list_rates():
    authorize(policies.can_manage_rates(g.api_user))
    errors: dict[str, list[str]] = {}
    # As the rates page reads it: upper-cased, three letters.
    currency = query_text("currency", 10, errors).strip().upper()[:3] or None
    start = _day(request.args.get("from"), "from", errors, required=False)
    end = _day(request.args.get("to"), "to", errors, required=False)
    page, per_page = _page_args(errors)
    _problem(errors)
    stmt = queries.rates_query(currency)
    if start is not None:
        stmt = stmt.where(ExchangeRate.day >= start)
    if end is not None:
        stmt = stmt.where(ExchangeRate.day <= end)
    return jsonify(_page(stmt, page, per_page, rate_json))


@bp.put("/rates/<currency>/<day>")
@api_auth
def save_rate(currency: str, day: str):
    authorize(policies.can_manage_rates(g.api_user))
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("krw_per_unit",), errors)
    value = _text(data, "krw_per_unit", SHORT_MAX, errors, required=True)
    on = _day(day, "day", errors, required=True)
    if len(currency) > SHORT_MAX:
        errors["currency"] = [_("At most %(n)d characters.", n=SHORT_MAX)]
    check_storable({"currency": currency, **({"krw_per_unit": value} if value else {})})
    _problem(errors)
    existing = db.session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency.strip().upper(), ExchangeRate.day == on)
    )
    with unit_of_work():
        rate = services.save_rate(rate=existing, currency=currency, day=on, krw_per_unit=value, actor=g.api_user)
        body = rate_json(rate)
    return jsonify(body), 200 if existing is not None else 201


# --- survey responses ----------------------------------------------------------------------------


@bp.get("/survey-responses")
@api_auth
def list_survey_responses():
    user = g.api_user
    errors: dict[str, list[str]] = {}
    round_id = _query_id("round_id", errors)
    page, per_page = _page_args(errors)
    _problem(errors)
    if survey_policies.can_see_results(user):
        stmt = survey_queries.responses_stmt(round_id=round_id)
    elif survey_policies.can_list_own_surveys(user):
        # Own only: an SME user sees the answers its company gave (the SME survey), nobody else any.
        stmt = survey_queries.responses_stmt(company_id=user.company_id, round_id=round_id)
    else:
        stmt = survey_queries.responses_stmt().where(false())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    responses = list(pagination.items)
    body = _body(pagination, page, per_page, survey_response_json)
    # PIPA access log: staff reading free-text answers; an answer is its company's, or its buyer's. Read
    # from the responses still held here: the session keeps loaded rows only while something refers to
    # them, so looking them up again by id would load each one (and its invitation) anew.
    subjects = sorted(
        {("company", r.invitation.booking.company_id) for r in responses if r.invitation.respondent == "sme"}
        | {("buyer", r.invitation.buyer_id) for r in responses if r.invitation.buyer_id is not None}
    )
    return access_log.commit_logged(
        jsonify(body), actor=user, subjects=subjects, what="api.list_survey_responses", via="api"
    )
