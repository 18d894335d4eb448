"""Staff pages for interpreters: list, detail with assignments, create, edit, deactivate,
weekly hours, dated exceptions, the portal link mail, the monthly report and the import from a file."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime as babel_datetime
from babel.dates import get_day_names
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.accounts.models import User
from consultroom.companies.validation import language_choices
from consultroom.db import utcnow
from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.forms_util import confirmed
from consultroom.import_pages import ImportPages
from consultroom.interpreters import importing, policies, reports, services
from consultroom.interpreters.blueprint import bp
from consultroom.interpreters.forms import (
    ActiveForm,
    ConfirmImportForm,
    ExceptionForm,
    HoursForm,
    InterpreterForm,
    PlainForm,
)
from consultroom.interpreters.models import Interpreter, InterpreterException
from consultroom.interpreters.queries import STATUSES, InterpreterFilter, assignment_page, interpreter_search
from consultroom.interpreters.schemas import INTERPRETER_LABELS
from consultroom.pagination import Window, page_number
from consultroom.privacy import access_log
from consultroom.request_transaction import attempt, log_access
from consultroom.timeutil import SEOUL


@bp.context_processor
def _field_labels():
    # Interpreter pages name fields with the schema's labels (said once, in interpreters.schemas).
    return {"interpreter_labels": INTERPRETER_LABELS}


def _staff() -> None:
    authorize(policies.can_manage_interpreters(current_user))


def _load(interpreter_id: int, *, edit: bool = False) -> Interpreter:
    _staff()
    interpreter = get_or_404(db.session, Interpreter, interpreter_id)
    authorize(
        policies.can_view_interpreter(current_user, interpreter),
        policies.can_edit_interpreter(current_user, interpreter) if edit else True,
    )
    return interpreter


def seoul_time(moment: datetime, fmt: str = "EEE yyyy-MM-dd HH:mm") -> str:
    """A moment on the program's clock (Asia/Seoul), in the viewer's language."""
    return babel_datetime(moment, fmt, tzinfo=SEOUL, locale=str(get_locale() or "ko"))


@bp.get("/staff/interpreters")
@login_required
def index():
    _staff()
    status = request.args.get("status", "active")
    f = InterpreterFilter(
        q=request.args.get("q", "")[:100],
        language=request.args.get("language", "")[:8],
        status=status if status in STATUSES else "active",
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(
        interpreter_search(f),
        page=max(page, 1),
        per_page=current_app.config.get("INTERPRETERS_PER_PAGE", 25),
        error_out=False,
    )
    locale = str(get_locale() or "ko")
    page_html = render_template(
        "interpreters/index.html",
        pagination=pagination,
        filters=f,
        languages=[(c, n) for c, n in language_choices(locale) if c != "ko"],
    )
    # PIPA access log: the interpreters on the page shown (written with the request's commit).
    log_access(actor=current_user, subjects=access_log.interpreters(pagination.items), what="interpreters.index")
    return page_html


@bp.route("/staff/interpreters/new", methods=["GET", "POST"])
@login_required
def new():
    _staff()
    form = InterpreterForm()
    if request.method == "GET":
        form.load_defaults()
    if form.validate_on_submit():
        with attempt(form) as done:
            interpreter = services.create_interpreter(data=form.payload(), actor=current_user)
        if done:
            flash(_("The interpreter is registered."), "success")
            return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    return render_template("interpreters/form.html", form=form, interpreter=None)


def _account_email(interpreter: Interpreter) -> str:
    if interpreter.user_id is None:
        return ""
    user = db.session.get(User, interpreter.user_id)
    return user.email if user is not None else ""


@bp.get("/staff/interpreters/<int:interpreter_id>")
@login_required
def detail(interpreter_id: int):
    interpreter = _load(interpreter_id)
    now = utcnow()
    page_html = render_template(
        "interpreters/detail.html",
        interpreter=interpreter,
        account_email=_account_email(interpreter),
        upcoming=assignment_page(interpreter.id, now=now, upcoming=True, page=page_number("upcoming_page")),
        past=assignment_page(interpreter.id, now=now, upcoming=False, page=page_number("past_page")),
        seoul_time=seoul_time,
        weekday_names=get_day_names("wide", locale=str(get_locale() or "ko")),
        active_form=ActiveForm(active="0" if interpreter.active else "1"),
        link_form=PlainForm(),
    )
    log_access(actor=current_user, subjects=[("interpreter", interpreter_id)], what="interpreters.detail")
    return page_html


@bp.route("/staff/interpreters/<int:interpreter_id>/edit", methods=["GET", "POST"])
@login_required
def edit(interpreter_id: int):
    interpreter = _load(interpreter_id, edit=True)
    form = InterpreterForm()
    if request.method == "GET":
        form.load(interpreter, _account_email(interpreter))
    if form.validate_on_submit():
        with attempt(form) as done:
            services.update_interpreter(interpreter=interpreter, data=form.payload(), actor=current_user)
        if done:
            flash(_("The interpreter is saved."), "success")
            return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    page_html = render_template("interpreters/form.html", form=form, interpreter=interpreter)
    log_access(actor=current_user, subjects=[("interpreter", interpreter_id)], what="interpreters.edit")
    return page_html


@bp.post("/staff/interpreters/<int:interpreter_id>/active")
@login_required
def set_active(interpreter_id: int):
    interpreter = _load(interpreter_id, edit=True)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        flash(_("Nothing was changed. Please try again."), "danger")
        return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    active = form.active.data == "1"
    if not active and not confirmed():
        return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    with attempt() as done:
        services.set_interpreter_active(interpreter=interpreter, active=active, actor=current_user)
    if done:
        flash(_("The interpreter is active again.") if active else _("The interpreter is deactivated."), "success")
    return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))


@bp.route("/staff/interpreters/<int:interpreter_id>/hours", methods=["GET", "POST"])
@login_required
def hours(interpreter_id: int):
    interpreter = _load(interpreter_id, edit=True)
    form = HoursForm()
    if request.method == "GET":
        form.load(interpreter)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.set_weekly_hours(interpreter=interpreter, data=form.payload(), actor=current_user)
        if done:
            flash(_("The weekly hours are saved."), "success")
            return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    return render_template("interpreters/hours.html", form=form, interpreter=interpreter)


@bp.route("/staff/interpreters/<int:interpreter_id>/exceptions", methods=["GET", "POST"])
@login_required
def exceptions(interpreter_id: int):
    interpreter = _load(interpreter_id, edit=True)
    form = ExceptionForm()
    if request.method == "GET":
        form.kind.data = "away_all_day"
    if form.validate_on_submit():
        with attempt(form) as done:
            services.add_exception(interpreter=interpreter, data=form.payload(), actor=current_user)
        if done:
            flash(_("The exception is added."), "success")
            return redirect(url_for("interpreters.exceptions", interpreter_id=interpreter.id))
    page_html = render_template(
        "interpreters/exceptions.html", form=form, interpreter=interpreter, delete_form=PlainForm()
    )
    log_access(actor=current_user, subjects=[("interpreter", interpreter_id)], what="interpreters.exceptions")
    return page_html


@bp.post("/staff/interpreters/<int:interpreter_id>/exceptions/<int:exception_id>/delete")
@login_required
def delete_exception(interpreter_id: int, exception_id: int):
    interpreter = _load(interpreter_id, edit=True)
    exception = get_or_404(db.session, InterpreterException, exception_id)
    authorize(exception.interpreter_id == interpreter.id)
    if not PlainForm().validate_on_submit():
        flash(_("Nothing was changed. Please try again."), "danger")
        return redirect(url_for("interpreters.exceptions", interpreter_id=interpreter.id))
    with attempt() as done:
        services.delete_exception(interpreter=interpreter, exception=exception, actor=current_user)
    if done:
        flash(_("The exception is removed."), "success")
    return redirect(url_for("interpreters.exceptions", interpreter_id=interpreter.id))


@bp.post("/staff/interpreters/<int:interpreter_id>/portal-link")
@login_required
def send_link(interpreter_id: int):
    interpreter = _load(interpreter_id, edit=True)
    if not PlainForm().validate_on_submit():
        flash(_("Nothing was sent. Please try again."), "danger")
        return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))
    with attempt() as done:
        services.send_portal_link(interpreter=interpreter, actor=current_user)
    if done:
        flash(_("A link to the assignments page is on its way to %(email)s.", email=interpreter.email), "success")
    return redirect(url_for("interpreters.detail", interpreter_id=interpreter.id))


# --- monthly report ------------------------------------------------------------------------------


REPORT_ROWS_PER_PAGE = 50


def _month_arg() -> tuple[int, int]:
    raw = request.args.get("month")
    if raw is None or raw == "":
        today = utcnow().astimezone(SEOUL)
        return today.year, today.month
    return reports.parse_month(raw[:20])


@bp.get("/staff/interpreters/report")
@login_required
def report():
    _staff()
    try:
        year, month = _month_arg()
    except DomainError as exc:
        month_value = request.args.get("month", "")[:20]
        return render_template("interpreters/report.html", report=None, error=exc.message, month=month_value), 400
    # The totals are the whole month's; the page shows, and the access log records, one page of the
    # interpreters, read from the database a page at a time (the CSV has every row).
    page = page_number()
    result = reports.month_report(year, month, page=page, per_page=REPORT_ROWS_PER_PAGE)
    window = Window(page=page, per_page=REPORT_ROWS_PER_PAGE, total=result.interpreters)
    rows = result.rows
    page_html = render_template(
        "interpreters/report.html", report=result, rows=rows, pagination=window, error=None, month=result.label
    )
    subjects = [("interpreter", row.interpreter.id) for row in rows]
    log_access(actor=current_user, subjects=subjects, what="interpreters.report")
    return page_html


@bp.get("/staff/interpreters/report.csv")
@login_required
def report_csv():
    _staff()
    try:
        year, month = _month_arg()
    except DomainError as exc:
        return render_template("errors/error.html", status=400, message=exc.message), 400
    result = reports.month_report(year, month)
    body = reports.report_csv(result, str(get_locale() or "ko"))
    subjects = [("interpreter", row.interpreter.id) for row in result.rows]
    log_access(actor=current_user, subjects=subjects, action="export", what="interpreters.report_csv")
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="interpreters-{result.label}.csv"',
        },
    )


# --- import --------------------------------------------------------------------------------------


ImportPages(
    importer=importing.IMPORTER,
    parse=importing.parse_upload,
    staff=_staff,
    uploader=policies.can_use_import_batch,
    folder="interpreters",
    index="interpreters.index",
    confirm_form=ConfirmImportForm,
    aliases=importing.COLUMN_ALIASES,
    required=importing.REQUIRED_COLUMNS,
    subject="interpreter",
    imported=lambda created, skipped: _(
        "%(created)d interpreters imported; %(skipped)d duplicates skipped.", created=created, skipped=skipped
    ),
).register(bp, "/staff/interpreters/import")
