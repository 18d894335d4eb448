"""Consultation pages (log, outcome pipeline, contracts), staff review lists, and the rates admin."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.forms_util import apply_domain_error, confirmed
from consultroom.outcomes import policies, queries, rates, services
from consultroom.outcomes.forms import (
    STAGE_LABELS,
    ContractCorrectionForm,
    ContractForm,
    LogForm,
    RateForm,
    RateImportConfirmForm,
    RateImportForm,
    ReopenForm,
    StageForm,
)
from consultroom.outcomes.models import OPEN_STAGES, Contract, ExchangeRate
from consultroom.outcomes.money import format_amount
from consultroom.pagination import page_number
from consultroom.request_transaction import attempt, log_access, rollback_on
from consultroom.timeutil import seoul_date

bp = Blueprint("outcomes", __name__)


def _today() -> date:
    return seoul_date(utcnow())


def _stage_form(outcome) -> StageForm:
    form = StageForm(prefix="stage")
    form.stage.choices = [(s, STAGE_LABELS[s]) for s in services.allowed_next(outcome.stage)] if outcome else []
    if request.method == "GET":
        form.changed_on.data = _today()
    return form


def _reopen_form() -> ReopenForm:
    form = ReopenForm(prefix="reopen")
    form.stage.choices = [(s, STAGE_LABELS[s]) for s in OPEN_STAGES]
    if request.method == "GET":
        form.changed_on.data = _today()
    return form


def _consultation_subjects(booking: Booking) -> list[tuple[str, int]]:
    """PIPA access log: a consultation's log and notes are about the company and the buyer it met."""
    subjects = [("company", booking.company_id)]
    if booking.buyer_id is not None:
        subjects.append(("buyer", booking.buyer_id))
    return subjects


def _consultation(booking_id: int, policy) -> Booking:
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policy(current_user, booking))
    return booking


@bp.get("/consultations/<int:consultation_id>")
@login_required
def consultation(consultation_id: int):
    booking = _consultation(consultation_id, policies.can_see_consultation)
    sees_outcome = policies.can_see_outcome(current_user, booking)
    outcome = queries.outcome_of(booking) if sees_outcome else None
    subjects = _consultation_subjects(booking)
    page_html = render_template(
        "outcomes/consultation.html",
        booking=booking,
        log=queries.log_of(booking),
        outcome=outcome,
        sees_outcome=sees_outcome,
        can_log=policies.can_record_log(current_user, booking),
        can_update=policies.can_update_outcome(current_user, booking),
        can_reopen=policies.can_reopen_outcome(current_user, booking),
        can_amend=policies.can_amend_contract(current_user, booking),
        stage_form=_stage_form(outcome),
        reopen_form=_reopen_form(),
        total_krw=services.contracts_total_krw(outcome) if outcome else 0,
        stage_labels=STAGE_LABELS,
        format_amount=format_amount,
    )
    log_access(actor=current_user, subjects=subjects, what="outcomes.consultation")
    return page_html


@bp.route("/consultations/<int:consultation_id>/log", methods=["GET", "POST"])
@login_required
def log(consultation_id: int):
    booking = _consultation(consultation_id, policies.can_record_log)
    existing = queries.log_of(booking)
    form = LogForm(obj=existing)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.record_log(booking=booking, data=form.payload(), actor=current_user, now=utcnow())
        if done:
            flash(_("The consultation log is saved."), "success")
            return redirect(url_for("outcomes.consultation", consultation_id=booking.id))
    subjects = _consultation_subjects(booking)
    page_html = render_template("outcomes/log.html", booking=booking, form=form, existing=existing)
    log_access(actor=current_user, subjects=subjects, what="outcomes.log")
    return page_html


def _outcome_or_back(booking: Booking):
    outcome = services.outcome_for(booking)
    if outcome is None:
        flash(_("This consultation has no outcome yet: it must be logged as held first."), "danger")
    return outcome


@bp.post("/consultations/<int:consultation_id>/stage")
@login_required
def stage(consultation_id: int):
    booking = _consultation(consultation_id, policies.can_update_outcome)
    outcome = _outcome_or_back(booking)
    form = _stage_form(outcome)
    if outcome is not None and form.validate_on_submit():
        with attempt() as done:
            services.change_stage(
                outcome=outcome,
                to_stage=form.stage.data,
                on=form.changed_on.data,
                note=form.note.data or "",
                actor=current_user,
                now=utcnow(),
            )
        if done:
            flash(_("The outcome is updated."), "success")
    elif outcome is not None:
        flash(_("Choose a stage and a date."), "danger")
    return redirect(url_for("outcomes.consultation", consultation_id=booking.id))


@bp.post("/consultations/<int:consultation_id>/reopen")
@login_required
def reopen(consultation_id: int):
    booking = _consultation(consultation_id, policies.can_see_outcome)
    authorize(True, policies.can_reopen_outcome(current_user, booking))
    outcome = _outcome_or_back(booking)
    form = _reopen_form()
    if outcome is not None and form.validate_on_submit():
        with attempt() as done:
            services.reopen(
                outcome=outcome,
                to_stage=form.stage.data,
                on=form.changed_on.data,
                note=form.note.data or "",
                actor=current_user,
                now=utcnow(),
            )
        if done:
            flash(_("The outcome is reopened."), "success")
    elif outcome is not None:
        flash(_("Choose a stage and a date."), "danger")
    return redirect(url_for("outcomes.consultation", consultation_id=booking.id))


@bp.route("/consultations/<int:consultation_id>/contracts/new", methods=["GET", "POST"])
@login_required
def new_contract(consultation_id: int):
    booking = _consultation(consultation_id, policies.can_update_outcome)
    outcome = services.outcome_for(booking)
    if outcome is None:
        abort(404)
    form = ContractForm()
    if request.method == "GET":
        form.signed_on.data = _today()
    if form.validate_on_submit():
        with attempt(form) as done:
            contract = services.record_contract(
                outcome=outcome,
                currency=form.currency.data,
                amount=form.amount.data,
                signed_on=form.signed_on.data,
                items=form.items.data or "",
                actor=current_user,
                now=utcnow(),
            )
        if done:
            flash(
                _(
                    "The contract is recorded: %(amount)s %(currency)s, %(krw)s won.",
                    **_amounts(contract),
                ),
                "success",
            )
            return redirect(url_for("outcomes.consultation", consultation_id=booking.id))
    return render_template("outcomes/contract.html", booking=booking, form=form)


def _amounts(contract: Contract) -> dict[str, str]:
    """A contract's amount, currency and won value as the confirmation messages show them."""
    return {
        "amount": format_amount(contract.amount_minor, contract.currency),
        "currency": contract.currency,
        "krw": f"{contract.krw_value:,}",
    }


def _contract(consultation_id: int, contract_id: int) -> tuple[Booking, Contract]:
    """The consultation's own contract: staff only; the SME sees it but may not amend it (403)."""
    booking = _consultation(consultation_id, policies.can_see_outcome)
    contract = get_or_404(db.session, Contract, contract_id)
    if contract.outcome.booking_id != booking.id:
        abort(404)
    authorize(True, policies.can_amend_contract(current_user, booking))
    return booking, contract


@bp.route("/consultations/<int:consultation_id>/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contract(consultation_id: int, contract_id: int):
    booking, contract = _contract(consultation_id, contract_id)
    if contract.is_withdrawn:
        flash(_("This contract was withdrawn; it can no longer be corrected."), "danger")
        return redirect(url_for("outcomes.consultation", consultation_id=booking.id))
    form = ContractCorrectionForm(obj=contract)
    if request.method == "GET":
        form.amount.data = format_amount(contract.amount_minor, contract.currency).replace(",", "")
    if form.validate_on_submit():
        with attempt(form) as done:
            services.correct_contract(
                contract=contract,
                currency=form.currency.data,
                amount=form.amount.data,
                signed_on=form.signed_on.data,
                items=form.items.data or "",
                reason=form.reason.data or "",
                actor=current_user,
                now=utcnow(),
            )
        if done:
            flash(
                _(
                    "The contract is corrected: %(amount)s %(currency)s, %(krw)s won.",
                    **_amounts(contract),
                ),
                "success",
            )
            return redirect(url_for("outcomes.consultation", consultation_id=booking.id))
    return render_template(
        "outcomes/contract_edit.html", booking=booking, contract=contract, form=form, format_amount=format_amount
    )


@bp.post("/consultations/<int:consultation_id>/contracts/<int:contract_id>/withdraw")
@login_required
def withdraw_contract(consultation_id: int, contract_id: int):
    booking, contract = _contract(consultation_id, contract_id)
    back = redirect(url_for("outcomes.consultation", consultation_id=booking.id))
    if not confirmed():
        return back
    with attempt() as done:
        services.withdraw_contract(
            contract=contract, reason=request.form.get("reason") or "", actor=current_user, now=utcnow()
        )
    if done:
        flash(_("The contract is withdrawn; it no longer counts in the outcome or the report."), "info")
    return back


# --- staff lists ---------------------------------------------------------------------------------


@bp.get("/staff/consultations/missing-logs")
@login_required
def missing_logs():
    authorize(policies.can_review_outcomes(current_user))
    pagination = queries.missing_logs(utcnow(), page=page_number())
    bookings = list(pagination.items)
    page_html = render_template("outcomes/missing_logs.html", bookings=bookings, pagination=pagination)
    # The interpreters named on the list.
    subjects = sorted({("interpreter", b.interpreter_id) for b in bookings if b.interpreter_id is not None})
    log_access(actor=current_user, subjects=subjects, what="outcomes.missing_logs")
    return page_html


@bp.get("/staff/outcomes/overdue")
@login_required
def overdue():
    authorize(policies.can_review_outcomes(current_user))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, pagination = queries.overdue_followups(utcnow(), page=page)
    return render_template("outcomes/overdue.html", rows=rows, pagination=pagination, stage_labels=STAGE_LABELS)


# --- exchange rates (admins) ---------------------------------------------------------------------


@bp.get("/admin/rates")
@login_required
def rates_index():
    authorize(policies.can_manage_rates(current_user))
    currency = (request.args.get("currency") or "").strip().upper()[:3] or None
    page = db.paginate(queries.rates_query(currency), per_page=50, error_out=False)
    return render_template(
        "outcomes/rates.html", page=page, currency=currency or "", currencies=queries.rate_currencies()
    )


@bp.route("/admin/rates/new", methods=["GET", "POST"])
@login_required
def new_rate():
    authorize(policies.can_manage_rates(current_user))
    return _rate_form(None)


@bp.route("/admin/rates/<int:rate_id>/edit", methods=["GET", "POST"])
@login_required
def edit_rate(rate_id: int):
    authorize(policies.can_manage_rates(current_user))
    return _rate_form(get_or_404(db.session, ExchangeRate, rate_id))


def _rate_form(rate: ExchangeRate | None):
    form = RateForm(obj=rate)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.save_rate(
                rate=rate,
                currency=form.currency.data,
                day=form.day.data,
                krw_per_unit=form.krw_per_unit.data,
                actor=current_user,
            )
        if done:
            flash(_("The rate is saved."), "success")
            return redirect(url_for("outcomes.rates_index"))
    return render_template("outcomes/rate_form.html", form=form, rate=rate)


@bp.route("/admin/rates/import", methods=["GET", "POST"])
@login_required
def import_rates():
    authorize(policies.can_manage_rates(current_user))
    form = RateImportForm()
    if form.validate_on_submit():
        try:
            text = rates.read_csv_text(form.file.data.stream.read(rates.MAX_BYTES + 1))
            result = rates.plan_import(rates.parse_rates_csv(text))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            confirm = RateImportConfirmForm(formdata=None, payload=text, digest=result.digest())
            return render_template("outcomes/rate_preview.html", result=result, confirm=confirm)
    return render_template("outcomes/rate_import.html", form=form)


@bp.post("/admin/rates/import/confirm")
@login_required
def confirm_rate_import():
    authorize(policies.can_manage_rates(current_user))
    form = RateImportConfirmForm()
    if not form.validate_on_submit() or not form.payload.data:
        flash(_("Upload the file again."), "danger")
        return redirect(url_for("outcomes.import_rates"))
    with rollback_on() as done:
        result = rates.apply_import(
            text=form.payload.data,
            digest=form.digest.data or "",
            update_existing=bool(form.update_existing.data),
            actor=current_user,
        )
    if done.error is not None:
        form.update_existing.errors = done.error.fields.get("update_existing", [])
        if not form.update_existing.errors:
            flash(done.error.message, "danger")
        try:
            result = rates.plan_import(rates.parse_rates_csv(form.payload.data))
        except DomainError:
            return redirect(url_for("outcomes.import_rates"))
        form.digest.data = result.digest()
        return render_template("outcomes/rate_preview.html", result=result, confirm=form), 422
    flash(
        _(
            "%(new)d rates added, %(updated)d updated, %(same)d unchanged.",
            new=result.new_count,
            updated=len(result.changes),
            same=result.unchanged,
        ),
        "success",
    )
    return redirect(url_for("outcomes.rates_index"))
