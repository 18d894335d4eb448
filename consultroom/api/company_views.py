"""Companies through the API, with the UI's permission predicates (consultroom.companies.policies)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask_babel import gettext as _
from sqlalchemy import false

from consultroom.access import authorize
from consultroom.api import bp, registry
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import unit_of_work
from consultroom.api.spec import NUL_QUERY, errors
from consultroom.companies import policies, services
from consultroom.companies.models import Company
from consultroom.companies.queries import CompanyFilter, company_search
from consultroom.companies.schemas import (
    CompanyInputSchema,
    CompanyListArgs,
    CompanyListSchema,
    CompanyPatchSchema,
    CompanySchema,
    dump_company,
)
from consultroom.errors import Invalid
from consultroom.privacy import access_log, consent, notices

_NOT_VISIBLE = "No such company, or not one you may see."
_PATCH_CONFLICT = "The business number is registered to another company."


@bp.get("/companies", tags=["companies"])
@api_auth
@bp.doc(
    operationId="listCompanies",
    summary="Companies (staff: all, filtered; an SME: only its own)",
    responses=errors(401, e422=NUL_QUERY + " Or a filter or page number is not valid."),
)
@bp.arguments(CompanyListArgs, location="query")
@bp.response(200, CompanyListSchema, description="One page of companies.")
def list_companies(args: dict[str, Any]):
    user = g.api_user
    f = CompanyFilter(
        q=args["q"],
        industry=args["industry"],
        country=args["country"],
        hs=args["hs"],
        english_missing=args["english"] == "missing",
    )
    stmt = company_search(f)
    if not policies.can_list_companies(user):
        # Without the right to list, a user's list holds what can_view_company lets it see: its own company.
        stmt = stmt.where(Company.id == user.company_id) if user.company_id is not None else stmt.where(false())
    # PIPA access log, as on the pages: staff reading companies' contact persons (see access_log).
    return registry.page(stmt, args, dump_company, subjects=access_log.companies, what="api.list_companies")


@bp.post("/companies", tags=["companies"])
@api_auth
# Only an SME account registers a company (404 for staff), and only one without a company (403).
@api_requires(policies.can_create_company, visible=lambda user: user.is_sme)
@bp.doc(
    operationId="createCompany",
    summary="Register your company (an SME account without one)",
    responses=errors(
        401,
        415,
        e400=registry.NOT_JSON,
        e403="Your account already has a company, or its e-mail is not confirmed.",
        e404="Staff and admins do not register companies.",
        e409="The business number is registered to another company.",
        e422="Fields missing or not valid, each named in `fields`; also without the notice agreed.",
    ),
)
@bp.documents_body(CompanyInputSchema)
@bp.response(
    201,
    CompanySchema,
    description="Registered; you are its account holder.",
    headers={"Location": {"schema": {"type": "string"}}},
)
def create_company():
    user = g.api_user
    data = registry.body()
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
    return registry.created(dump_company(company), "api.get_company", company_id=company.id)


@bp.get("/companies/<int:company_id>", tags=["companies"])
@api_auth
@bp.doc(operationId="getCompany", summary="One company", responses=errors(401, e404=_NOT_VISIBLE, e422=NUL_QUERY))
@bp.response(200, CompanySchema, description="The company.")
def get_company(company_id: int):
    company = registry.visible(Company, company_id, policies.can_view_company)
    return registry.one(dump_company(company), subject=("company", company_id), what="api.get_company")


@bp.patch("/companies/<int:company_id>", tags=["companies"])
@api_auth
@bp.doc(
    operationId="updateCompany",
    summary="Change some fields of a company",
    responses=registry.patch_errors(
        e403="You may see the company but not change it.", e404=_NOT_VISIBLE, e409=_PATCH_CONFLICT
    ),
)
@bp.documents_body(CompanyPatchSchema(partial=True))
@bp.response(200, CompanySchema, description="The company as saved.")
def update_company(company_id: int):
    company = registry.visible(Company, company_id, policies.can_view_company)
    authorize(True, policies.can_edit_company(g.api_user, company))
    data = registry.body()
    with unit_of_work():
        services.update_company(company=company, data=data, actor=g.api_user, partial=True)
    return jsonify(dump_company(company))
