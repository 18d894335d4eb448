"""Companies through the API, with the UI's permission predicates (consultroom.companies.policies)."""

from __future__ import annotations

from flask import current_app, g, jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import false

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import check_storable, json_object, query_int, query_text, unit_of_work
from consultroom.companies import policies, services
from consultroom.companies.models import Company
from consultroom.companies.queries import CompanyFilter, company_search
from consultroom.companies.schemas import dump_company
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.privacy import access_log, consent, notices

MAX_PER_PAGE = 100
# Far beyond any real list; keeps OFFSET well inside what both databases accept.
MAX_PAGE = 1_000_000


def _english_filter(errors: dict[str, list[str]]) -> bool:
    value = query_text("english", 10, errors)
    if value not in ("", "missing"):
        errors["english"] = [_("Use english=missing, or leave it out.")]
    return value == "missing"


@bp.get("/companies")
@api_auth
def list_companies():
    user = g.api_user
    errors: dict[str, list[str]] = {}
    f = CompanyFilter(
        q=query_text("q", 100, errors),
        industry=query_text("industry", 100, errors),
        country=query_text("country", 2, errors),
        hs=query_text("hs", 6, errors),
        english_missing=_english_filter(errors),
    )
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    stmt = company_search(f)
    if not policies.can_list_companies(user):
        # Without the right to list, a user's list holds what can_view_company lets it see: its own company.
        stmt = stmt.where(Company.id == user.company_id) if user.company_id is not None else stmt.where(false())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    response = jsonify(
        {
            "items": [dump_company(c) for c in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )
    # PIPA access log, as on the pages: staff reading companies' contact persons (see access_log).
    subjects = access_log.companies(pagination.items)
    return access_log.commit_logged(response, actor=user, subjects=subjects, what="api.list_companies", via="api")


@bp.post("/companies")
@api_auth
def create_company():
    user = g.api_user
    authorize(user.is_sme, policies.can_create_company(user))
    data = json_object()
    check_storable(data)
    # PIPA: the SME agrees to the company-profile notice (GET /privacy/) as it does on the form; the
    # refusal is reported with the profile's own errors, and nothing is saved without it.
    agreed = data.pop("consent_company_profile", None) is True
    missing = _("Agree to the notice on the company's contact data (consent_company_profile: true).")
    with unit_of_work():
        try:
            company = services.create_company(owner=user, data=data, actor=user)
        except Invalid as exc:
            if not agreed:
                exc.fields = {**(exc.fields or {}), "consent_company_profile": [missing]}
            raise
        if not agreed:
            raise Invalid(missing, fields={"consent_company_profile": [missing]})
        consent.record_consent(
            subject_type="company",
            subject_id=company.id,
            user=user,
            purpose=notices.COMPANY_PROFILE,
            granted=True,
            via="api",
        )
    return jsonify(dump_company(company)), 201, {"Location": url_for("api.get_company", company_id=company.id)}


@bp.get("/companies/<int:company_id>")
@api_auth
def get_company(company_id: int):
    company = get_or_404(db.session, Company, company_id)
    authorize(policies.can_view_company(g.api_user, company))
    return access_log.commit_logged(
        jsonify(dump_company(company)),
        actor=g.api_user,
        subjects=[("company", company_id)],
        what="api.get_company",
        via="api",
    )


@bp.patch("/companies/<int:company_id>")
@api_auth
def update_company(company_id: int):
    company = get_or_404(db.session, Company, company_id)
    authorize(policies.can_view_company(g.api_user, company), policies.can_edit_company(g.api_user, company))
    data = json_object()
    check_storable(data)
    with unit_of_work():
        services.update_company(company=company, data=data, actor=g.api_user, partial=True)
    return jsonify(dump_company(company))
