from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.companies import policies, services
from consultroom.companies.forms import CompanyForm
from consultroom.companies.models import Company
from consultroom.companies.profile import missing_english
from consultroom.companies.queries import CompanyFilter, company_search, industries, market_countries
from consultroom.companies.schemas import COMPANY_LABELS
from consultroom.companies.validation import country_name
from consultroom.extensions import db
from consultroom.privacy import access_log, consent, notices
from consultroom.request_transaction import attempt, log_access

bp = Blueprint("companies", __name__)


@bp.context_processor
def _field_labels():
    # Company pages name fields with the schema's labels (said once, in companies.schemas).
    return {"company_labels": COMPANY_LABELS}


@bp.get("/company")
@login_required
def my_company():
    if not current_user.is_sme:
        abort(404)
    if current_user.company_id is None:
        return redirect(url_for("companies.new"))
    return redirect(url_for("companies.detail", company_id=current_user.company_id))


@bp.route("/companies/new", methods=["GET", "POST"])
@login_required
def new():
    authorize(current_user.is_sme, policies.can_create_company(current_user))
    form = CompanyForm(ask_consent=True)
    if request.method == "GET":
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
    if form.validate_on_submit():
        with attempt(form) as done:
            company = services.create_company(owner=current_user, data=form.payload(), actor=current_user)
            consent.record_consent(
                subject_type="company",
                subject_id=company.id,
                user=current_user,
                purpose=notices.COMPANY_PROFILE,
                granted=True,
            )
        if done:
            flash(_("Your company is registered."), "success")
            return redirect(url_for("companies.detail", company_id=company.id))
    return render_template("companies/form.html", form=form, company=None, notice=notices.view(notices.COMPANY_PROFILE))


@bp.get("/companies")
@login_required
def index():
    authorize(policies.can_list_companies(current_user))
    f = CompanyFilter(
        q=request.args.get("q", "")[:100],
        industry=request.args.get("industry", "")[:100],
        country=request.args.get("country", "")[:2],
        hs=request.args.get("hs", "")[:6],
        english_missing=request.args.get("english") == "missing",
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(
        company_search(f), page=max(page, 1), per_page=current_app.config["COMPANIES_PER_PAGE"], error_out=False
    )
    page_html = render_template(
        "companies/index.html",
        pagination=pagination,
        filters=f,
        industries=db.session.scalars(industries()).all(),
        countries=sorted(db.session.scalars(market_countries()), key=lambda c: country_name(c, str(get_locale()))),
        missing_english=missing_english,
    )
    # PIPA access log: every staff or admin view of another person's personal data is recorded (who,
    # whose, what, when); a list records the subjects of the page shown. An SME seeing its own company
    # is not logged (access_log.should_log).
    log_access(actor=current_user, subjects=access_log.companies(pagination.items), what="companies.index")
    return page_html


@bp.get("/companies/<int:company_id>")
@login_required
def detail(company_id: int):
    company = get_or_404(db.session, Company, company_id)
    authorize(policies.can_view_company(current_user, company))
    page_html = render_template("companies/detail.html", company=company)
    log_access(actor=current_user, subjects=[("company", company_id)], what="companies.detail")
    return page_html


@bp.route("/companies/<int:company_id>/edit", methods=["GET", "POST"])
@login_required
def edit(company_id: int):
    company = get_or_404(db.session, Company, company_id)
    authorize(policies.can_view_company(current_user, company), policies.can_edit_company(current_user, company))
    ask_consent = consent.company_consent_due(current_user, company.id)
    form = CompanyForm(ask_consent=ask_consent)
    if request.method == "GET":
        form.load(company)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.update_company(company=company, data=form.payload(), actor=current_user)
            if ask_consent:
                consent.record_consent(
                    subject_type="company",
                    subject_id=company.id,
                    user=current_user,
                    purpose=notices.COMPANY_PROFILE,
                    granted=True,
                )
        if done:
            flash(_("The company profile is saved."), "success")
            return redirect(url_for("companies.detail", company_id=company.id))
    page_html = render_template(
        "companies/form.html", form=form, company=company, notice=notices.view(notices.COMPANY_PROFILE)
    )
    log_access(actor=current_user, subjects=[("company", company_id)], what="companies.edit")
    return page_html
