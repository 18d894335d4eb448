"""Retention settings, anonymisation dry run and erasure requests (staff, admins)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.forms_util import confirmed
from consultroom.interpreters.models import Interpreter
from consultroom.pagination import Window, page_number, paginate
from consultroom.privacy import anonymise, erasure, export, retention, subject_export
from consultroom.privacy.blueprint import bp
from consultroom.privacy.forms import HandleErasureForm, RecordErasureForm, RetentionRulesForm, RunRetentionForm
from consultroom.privacy.models import RETENTION_KINDS, ErasureRequest, RetentionKind
from consultroom.request_transaction import attempt, log_access
from consultroom.timeutil import seoul_date

SHOWN_PER_KIND = 100  # the dry run lists this many names per kind and page, and counts them all


# --- admin: retention periods and the dry run --------------------------------------------------------


def _settings_page(form: RetentionRulesForm) -> str:
    page = page_number()
    due = retention.preview(now=utcnow(), offset=(page - 1) * SHOWN_PER_KIND, limit=SHOWN_PER_KIND)
    shown = {k: due.items.get(k, []) for k in RETENTION_KINDS}
    listed = [n for k, n in due.counts().items() if k != RetentionKind.ACCESS_LOG.value]
    html = render_template(
        "privacy/retention.html",
        form=form,
        run_form=RunRetentionForm(),
        plan=due,
        shown=shown,
        # one page number walks every kind's list at once: page N shows each kind's N-th hundred
        window=Window(page=page, per_page=SHOWN_PER_KIND, total=max(listed, default=0)),
        kinds=RETENTION_KINDS,
        kind_label=retention.kind_label,
        access_log_kind=RetentionKind.ACCESS_LOG.value,
        per_kind=SHOWN_PER_KIND,
    )
    # Names of people are on the page: the admin has seen their personal data.
    seen = [(i.subject_type, i.subject_id) for items in shown.values() for i in items]
    log_access(
        actor=current_user,
        subjects=[s for s in seen if s[0] in anonymise.MODELS],
        action="view",
        what="privacy.retention",
    )
    return html


@bp.route("/staff/privacy/retention", methods=["GET", "POST"], endpoint="retention")
@login_required
def settings():
    authorize(retention.can_manage_retention(current_user))
    form = RetentionRulesForm()
    if form.is_submitted():
        if form.validate():
            with attempt(form) as done:
                retention.update_rules(data=form.values(), actor=current_user)
            if done:
                flash(_("The retention periods are saved."), "success")
                return redirect(url_for("privacy.retention"))
    else:
        for kind, months in retention.get_rules().items():
            getattr(form, kind).data = str(months)
    return _settings_page(form)


@bp.post("/staff/privacy/retention/run", endpoint="run_retention")
@login_required
def run():
    authorize(retention.can_manage_retention(current_user))
    if not RunRetentionForm().validate_on_submit():
        flash(_("Your form expired. Please reload the page and try again."), "danger")
        return redirect(url_for("privacy.retention"))
    if not confirmed():
        return redirect(url_for("privacy.retention"))
    done = retention.apply(now=utcnow(), actor=current_user)
    counts = done.counts()
    flash(
        _(
            "Anonymised: %(sme)d SME accounts and companies, %(buyers)d buyers, %(interpreters)d interpreters, "
            "free text of %(texts)d records; %(log)d access log entries deleted.",
            sme=counts[RetentionKind.SME_ACCOUNTS.value],
            buyers=counts[RetentionKind.BUYER_CONTACTS.value],
            interpreters=counts[RetentionKind.INTERPRETER_CONTACTS.value],
            texts=counts[RetentionKind.FREE_TEXT.value],
            log=counts[RetentionKind.ACCESS_LOG.value],
        ),
        "success",
    )
    return redirect(url_for("privacy.retention"))


# --- staff: erasure requests -------------------------------------------------------------------------


ERASURE_REQUESTS_PER_PAGE = 50


def _subject_choices(search: str) -> list[tuple[str, str]]:
    """Buyers and interpreters not yet anonymised, by name: those the search finds, a page of them."""
    buyers, interpreters = erasure.subject_candidates(search)
    choices = [("", _("Choose…"))]
    choices += [(f"buyer:{b.id}", _("Buyer: %(name)s", name=anonymise.display_name("buyer", b))) for b in buyers]
    choices += [(f"interpreter:{i.id}", _("Interpreter: %(name)s", name=i.name)) for i in interpreters]
    return choices


def _requests_page(form: RecordErasureForm, search: str):
    pagination = paginate(erasure.requests_for_staff(), per_page=ERASURE_REQUESTS_PER_PAGE)
    rows = list(pagination.items)
    labels = erasure.subject_labels(rows)
    html = render_template(
        "privacy/erasure_requests.html",
        form=form,
        rows=rows,
        labels=labels,
        pagination=pagination,
        search=search,
        shown_max=erasure.SUBJECT_CHOICES,
    )
    log_access(
        actor=current_user,
        subjects=[(r.subject_type, r.subject_id) for r in rows],
        action="view",
        what="privacy.erasure_requests",
    )
    return html


@bp.route("/staff/privacy/erasure-requests", methods=["GET", "POST"], endpoint="erasure_requests")
@login_required
def requests():
    authorize(erasure.can_handle_erasure(current_user))
    form = RecordErasureForm()
    search = (request.args.get("q") or "")[:100]
    form.subject.choices = _subject_choices(search)
    if form.validate_on_submit():
        kind, ident = form.subject_pair()
        with attempt(form) as done:
            req = erasure.request_erasure(subject_type=kind, subject_id=ident, note=form.note.data, actor=current_user)
        if done:
            flash(_("The deletion request is recorded."), "success")
            return redirect(url_for("privacy.erasure_request", request_id=req.id))
        form.subject.choices = _subject_choices(search)  # read again after the rollback
    return _requests_page(form, search)


@bp.route("/staff/privacy/erasure-requests/<int:request_id>", methods=["GET", "POST"], endpoint="erasure_request")
@login_required
def request_detail(request_id: int):
    authorize(erasure.can_handle_erasure(current_user))
    req = get_or_404(db.session, ErasureRequest, request_id)
    form = HandleErasureForm()
    if req.status == erasure.OPEN and form.validate_on_submit():
        with attempt(form) as done:
            if form.decision.data == "carry_out":
                erasure.carry_out(request=req, actor=current_user, response=form.response.data or "")
                message = _("The data is deleted (anonymised) and the request is closed.")
            elif form.decision.data == "refuse":
                erasure.refuse(request=req, actor=current_user, response=form.response.data or "")
                message = _("The request is refused.")
            else:
                form.decision.errors = [_("Choose to delete or to refuse.")]
                message = None
        if not done:
            req = get_or_404(db.session, ErasureRequest, request_id)  # read again after the rollback
        elif message is not None:
            flash(message, "success")
            return redirect(url_for("privacy.erasure_request", request_id=req.id))
    upcoming = []
    if req.status == erasure.OPEN:
        upcoming = anonymise.upcoming_bookings(req.subject_type, req.subject_id, now=utcnow())
    html = render_template(
        "privacy/erasure_request.html", req=req, label=erasure.subject_label(req), form=form, upcoming=upcoming
    )
    log_access(
        actor=current_user, subjects=[(req.subject_type, req.subject_id)], action="view", what="privacy.erasure_request"
    )
    return html


_EXPORTS = {
    "buyer": (Buyer, subject_export.collect_buyer_data, subject_export.BUYER_SECTIONS),
    "interpreter": (Interpreter, subject_export.collect_interpreter_data, subject_export.INTERPRETER_SECTIONS),
}


@bp.get("/staff/privacy/subjects/<subject_type>/<int:subject_id>/export.<fmt>")
@login_required
def export_subject(subject_type: str, subject_id: int, fmt: str):
    """A buyer's or an interpreter's data for staff answering that person's access request; SME
    users download their own at /my-data/."""
    authorize(erasure.can_handle_erasure(current_user))
    if subject_type not in _EXPORTS or fmt not in ("json", "xlsx"):
        abort(404)
    model, collect, sections = _EXPORTS[subject_type]
    subject = get_or_404(db.session, model, subject_id)
    data = collect(**{subject_type: subject})
    body = export.to_json(data) if fmt == "json" else export.to_xlsx(data, sections)
    filename = f"consultroom-{subject_type}-{subject_id}-{seoul_date(utcnow()).isoformat()}.{fmt}"
    response = Response(
        body,
        mimetype="application/json" if fmt == "json" else export.XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    log_access(
        actor=current_user, subjects=[(subject_type, subject_id)], what="privacy.export_subject", action="export"
    )
    return response
