"""Survey pages: the answer page behind the signed link (no login), staff results and exports,
admin question sets. A broken link answers 400, an expired one 410, another party's 403, a
second answer 409: never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import force_locale, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.companies.profile import profile_for
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.exports import pages as export_pages
from consultroom.extensions import db
from consultroom.forms_util import confirmed, small_int
from consultroom.languages import PARTY_LOCALES, supported
from consultroom.request_transaction import attempt, rollback_on
from consultroom.signing import LinkExpired, LinkInvalid
from consultroom.surveys import export, policies, queries, services
from consultroom.surveys.forms import KIND_LABELS, AnswerForm, PlainForm, QuestionForm
from consultroom.surveys.models import AUDIENCES, SurveyInvitation, SurveyQuestion, SurveyVersion

bp = Blueprint("surveys", __name__)


class _Stop(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _stop_page(exc: _Stop):
    return render_template("surveys/stop.html", status=exc.status, message=exc.message), exc.status


def _chosen_locale(default: str) -> str:
    languages = PARTY_LOCALES
    for choice in (request.args.get("lang"), session.get("lang")):
        if choice in languages:
            return choice
    return default


@contextmanager
def _in_locale(default: str) -> Iterator[str]:
    locale = _chosen_locale(default)
    with force_locale(locale):
        yield locale


def _default_locale(token: str) -> str:
    try:
        data = services.read_survey_token(token)
    except LinkInvalid:
        return "ko"
    if data["r"] == "sme":
        return "ko"
    # A buyer's page opens in the language the invitation was mailed in (the buyer's preferred one).
    invitation = db.session.get(SurveyInvitation, data["i"])
    return supported(invitation.locale) if invitation is not None else "en"


def _load(token: str) -> SurveyInvitation:
    try:
        data = services.read_survey_token(token)
    except LinkExpired as exc:
        raise _Stop(410, _("This survey link has expired. Thank you for your interest.")) from exc
    except LinkInvalid as exc:
        raise _Stop(400, _("This link is not valid. Please use the link exactly as it was sent to you.")) from exc
    invitation = db.session.get(SurveyInvitation, data["i"])
    if invitation is None:
        raise _Stop(410, _("This survey is no longer available."))
    if invitation.respondent != data["r"]:
        raise _Stop(400, _("This link is not valid. Please use the link exactly as it was sent to you."))
    if not policies.can_open_invitation(current_user, invitation):
        raise _Stop(403, _("This survey belongs to someone else. Please use the link sent to you."))
    if invitation.response is not None:
        raise _Stop(409, _("This survey has already been answered. Thank you."))
    if utcnow() >= invitation.expires_at:
        raise _Stop(410, _("This survey link has expired. Thank you for your interest."))
    return invitation


def _answer_page(invitation, version, token, form, locale, *, errors=None, values=None, status=200):
    booking = invitation.booking
    company = booking.company
    return (
        render_template(
            "surveys/answer.html",
            invitation=invitation,
            version=version,
            token=token,
            form=form,
            locale=locale,
            errors=errors or {},
            values=values or {},
            field_name=services.field_name,
            company_name=profile_for(company, locale).name,
            consulted_on=booking.starts_at,
        ),
        status,
    )


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    with _in_locale(_default_locale(token)) as locale:
        try:
            invitation = _load(token)
            version = services.active_version(invitation.respondent)
            if version is None:
                raise _Stop(410, _("This survey is no longer available."))
        except _Stop as exc:
            return _stop_page(exc)
        form = AnswerForm()
        if request.method == "GET":
            form.version_id.data = str(version.id)
            return _answer_page(invitation, version, token, form, locale)
        values = {k: v for k, v in request.form.items() if k.startswith("q")}
        if not form.validate_on_submit():
            return _answer_page(invitation, version, token, form, locale, values=values, status=400)
        version_id = small_int(form.version_id.data)
        shown = db.session.get(SurveyVersion, version_id) if version_id is not None else None
        if shown is None or shown.id != version.id:
            flash(_("The questions were updated while you were answering. Please check your answers."), "warning")
            form.version_id.data = str(version.id)
            return _answer_page(invitation, version, token, form, locale, values=values, status=409)
        user = current_user if getattr(current_user, "is_authenticated", False) and current_user.is_sme else None
        with rollback_on(Invalid, services.Gone, Conflict) as done:
            services.submit_response(
                invitation=invitation, version=version, answers=values, locale=locale, user=user, now=utcnow()
            )
        if isinstance(done.error, Invalid):
            return _answer_page(invitation, version, token, form, locale, errors=done.error.fields, values=values)
        if done.error is not None:
            return _stop_page(_Stop(410 if isinstance(done.error, services.Gone) else 409, done.error.message))
        return render_template("surveys/thanks.html")


def surveys_to_answer(user) -> list[tuple[SurveyInvitation, str]]:
    """For the "my bookings" page: the company's open surveys, each with its signed link."""
    if not policies.can_list_own_surveys(user):
        return []
    invitations = queries.pending_for_company(user.company_id, now=utcnow())
    return [(i, url_for("surveys.answer", token=services.make_survey_token(i), lang=user.locale)) for i in invitations]


bp.add_app_template_global(surveys_to_answer, "surveys_to_answer")


# --- staff results ---------------------------------------------------------------------------------


def _scope() -> tuple[queries.Scope | None, dict[str, str]]:
    errors: dict[str, str] = {}
    audience = request.args.get("audience", "sme")
    if audience not in AUDIENCES:
        errors["audience"] = _("Choose companies or buyers.")
        audience = "sme"
    round_id = None
    raw_round = request.args.get("round_id", "")[:12]
    if raw_round:
        if raw_round.isdigit() and int(raw_round) <= 2**31 - 1:
            round_id = int(raw_round)
        else:
            errors["round_id"] = _("Choose a round from the list.")
    dates: dict[str, date | None] = {}
    for name in ("start", "end"):
        raw = request.args.get(name, "")[:20].strip()
        dates[name] = None
        if raw:
            try:
                dates[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = _("Give the date as YYYY-MM-DD.")
    if dates["start"] and dates["end"] and dates["start"] > dates["end"]:
        errors["end"] = _("The end date is before the start date.")
    if errors:
        return None, errors
    return queries.Scope(audience=audience, round_id=round_id, start=dates["start"], end=dates["end"]), errors


@bp.get("/staff/surveys/results")
@login_required
def results():
    authorize(policies.can_see_results(current_user))
    scope, errors = _scope()
    data = queries.results(scope, now=utcnow()) if scope is not None else None
    return (
        render_template(
            "surveys/results.html",
            results=data,
            errors=errors,
            rounds=queries.rounds_for_filter(),
            args=request.args,
            locale=str(get_locale() or "ko"),
        ),
        400 if errors else 200,
    )


def _export_scope() -> queries.Scope:
    scope, errors = _scope()
    if scope is None:
        from flask import abort

        abort(400, description=" ".join(errors.values()))
    return scope


# The most answers an export is written for within the request; a larger scope is prepared by the
# prepare_exports job. Measured on bench/scale.py's 200,000 consultations (PostgreSQL, two busy cores),
# the whole view: a month of 2025 (4,419 answers) 231 ms for the .xlsx and 124 ms for the CSV; the
# writers cost about 36 and 19 µs an answer, the capped count 12-32 ms. So 5,000 keeps the slower .xlsx
# near 255 ms, under the 300 ms a page may take, and a month's round at national scale is still sent
# at once; the page said instead for a year takes 17 ms.
INLINE_ANSWERS = 5_000


def _too_large(scope: queries.Scope) -> bool:
    return queries.answer_count_capped(scope, INLINE_ANSWERS) > INLINE_ANSWERS


def _large_export_page(ext: str):
    message = _(
        "This export holds more than %(limit)s answers: too many to write while you wait.",
        limit=format_decimal(INLINE_ANSWERS),
    )
    return export_pages.offer(message, f"surveys.prepare_results_{ext}")


def _prepare(kind: str):
    authorize(policies.can_see_results(current_user))
    return export_pages.queue(kind, export.params(_export_scope(), str(get_locale() or "ko")))


@bp.get("/staff/surveys/results.xlsx")
@login_required
def results_xlsx():
    authorize(policies.can_see_results(current_user))
    scope = _export_scope()
    if _too_large(scope):
        return _large_export_page("xlsx")
    workbook = export.xlsx_file(scope, str(get_locale() or "ko"), now=utcnow())
    return send_file(
        workbook,
        mimetype=export.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=export.filename(scope, "xlsx"),
        max_age=0,
    )


@bp.post("/staff/surveys/results.xlsx")
@login_required
def prepare_results_xlsx():
    return _prepare(export.RESULTS_XLSX.name)


@bp.get("/staff/surveys/results.csv")
@login_required
def results_csv():
    authorize(policies.can_see_results(current_user))
    scope = _export_scope()
    if _too_large(scope):
        return _large_export_page("csv")
    body = export.csv_file(scope, str(get_locale() or "ko"))
    return Response(
        body,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.filename(scope, "csv")}"',
        },
    )


@bp.post("/staff/surveys/results.csv")
@login_required
def prepare_results_csv():
    return _prepare(export.ANSWERS_CSV.name)


# --- admin: question sets ----------------------------------------------------------------------------


def _admin() -> None:
    authorize(policies.can_edit_questions(current_user))


@bp.get("/admin/surveys")
@login_required
def questions():
    _admin()
    sets = []
    for audience in AUDIENCES:
        history = queries.version_history(audience)
        # Only the earlier versions show their responses.
        used = queries.responses_per_version([v.id for v in history if not v.active])
        sets.append({"audience": audience, "history": history, "used": used})
    return render_template(
        "surveys/questions.html",
        sets=sets,
        kinds=KIND_LABELS,
        form=PlainForm(),
        shown_up_to=queries.RESPONSES_SHOWN_UP_TO,
    )


@bp.route("/admin/surveys/questions/new", methods=["GET", "POST"])
@login_required
def new_question():
    _admin()
    audience = request.args.get("audience", "sme")
    authorize(audience in AUDIENCES)
    form = QuestionForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            services.add_question(audience=audience, data=form.payload(), actor=current_user)
        if done:
            flash(_("The question was added."), "success")
            return redirect(url_for("surveys.questions"))
    return render_template("surveys/question_form.html", form=form, audience=audience, question=None)


@bp.route("/admin/surveys/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    _admin()
    question = get_or_404(db.session, SurveyQuestion, question_id)
    form = QuestionForm(obj=question if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt(form) as done:
            saved = services.edit_question(question=question, data=form.payload(), actor=current_user)
        if done:
            copied = saved.id != question_id
            if copied:
                flash(_("Answers use the earlier version, so the change was saved in a new version."), "info")
            else:
                flash(_("The question was saved."), "success")
            return redirect(url_for("surveys.questions"))
    return render_template(
        "surveys/question_form.html", form=form, audience=question.version.audience, question=question
    )


# Its own parameter name: the authorization matrix walks delete before edit, each on its own question.
@bp.post("/admin/surveys/questions/<int:qid>/delete")
@login_required
def delete_question(qid: int):
    _admin()
    question = get_or_404(db.session, SurveyQuestion, qid)
    if not confirmed():
        return redirect(url_for("surveys.questions"))
    with attempt() as done:
        services.delete_question(question=question, actor=current_user)
    if done:
        flash(_("The question was removed."), "info")
    return redirect(url_for("surveys.questions"))


@bp.post("/admin/surveys/questions/<int:question_id>/move")
@login_required
def move_question(question_id: int):
    _admin()
    question = get_or_404(db.session, SurveyQuestion, question_id)
    with attempt():
        services.move_question(question=question, direction=request.form.get("direction", ""), actor=current_user)
    return redirect(url_for("surveys.questions"))
