import re

import pytest
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.companies.models import Company
from consultroom.extensions import db
from tests.factories import make_company, make_sme_with_company, make_user

FORM = {
    "name_ko": "한빛코스메틱",
    "name_en": "Hanbit Cosmetics",
    "business_number": "220-81-62517",
    "representative": "김영수",
    "address": "부산광역시 해운대구 센텀중앙로 48",
    "industry": "화장품",
    "products": "기초화장품\n마스크팩",
    "hs_codes": "3304.99, 330410",
    "export_markets": ["CN", "VN"],
    "target_countries": ["US", "TH"],
    "languages": ["ko", "en"],
    "website": "https://hanbit.example.kr",
    "contact_name": "김영수",
    "contact_email": "export@hanbit.example.kr",
    "contact_phone": "051-123-4567",
    "consent_company_profile": "y",
}


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown beside {field}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


def test_sme_registers_company_and_becomes_owner(client, login_as):
    user = login_as("sme")
    response = client.submit("/companies/new", FORM)
    assert response.status_code == 302
    company = db.session.scalar(select(Company))
    db.session.refresh(user)
    assert user.company_id == company.id
    assert company.business_number == "2208162517"
    assert company.hs_codes == ["330410", "330499"]
    assert company.target_countries == ["TH", "US"]
    assert company.export_markets == ["CN", "VN"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "220-81-62517" in page and "한빛코스메틱" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_number", "220-81-62518"),
        ("business_number", "12345"),
        ("hs_codes", "330499, 12345"),
        ("hs_codes", "990000"),
        ("contact_email", "export@"),
        ("website", "javascript:alert(1)"),
        ("name_ko", ""),
        ("representative", ""),
    ],
)
def test_company_bad_field_error_beside_field_and_nothing_saved(client, login_as, field, value):
    login_as("sme")
    response = client.submit("/companies/new", {**FORM, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, field)
    assert db.session.scalar(select(func.count(Company.id))) == 0
    # What the user typed elsewhere is kept.
    assert "Hanbit Cosmetics" in html


def test_company_form_reports_consent_and_field_errors_in_one_pass(client, login_as):
    """Issue 15 item 7: the refused consent and every bad field show after the same submit."""
    login_as("sme")
    form = {k: v for k, v in FORM.items() if k != "consent_company_profile"}
    form.update(business_number="220-81-62518", name_ko="", contact_email="export@", hs_codes="12")

    response = client.submit("/companies/new", form)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please agree to the collection of the contact data" in _field_error(html, "consent_company_profile")
    assert "check digit" in _field_error(html, "business_number")
    assert _field_error(html, "name_ko") == "This field is required."
    assert _field_error(html, "contact_email") == "Not a valid e-mail address."
    assert _field_error(html, "hs_codes") == "Not a valid 6-digit HS code: 12"
    assert db.session.scalar(select(func.count(Company.id))) == 0


def test_company_bad_country_code_is_refused(client, login_as):
    login_as("sme")
    response = client.submit("/companies/new", {**FORM, "target_countries": ["XX"]})
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), "target_countries") == "Not an ISO 3166 country code: XX"
    assert db.session.scalar(select(func.count(Company.id))) == 0


def test_company_duplicate_business_number_is_refused_without_naming_the_other(client, login_as):
    make_company(name_ko="비밀기업", business_number="2208162517")
    login_as("sme")
    response = client.submit("/companies/new", FORM)
    html = response.get_data(as_text=True)
    assert _field_error(html, "business_number")
    assert "비밀기업" not in html
    assert db.session.scalar(select(func.count(Company.id))) == 1


def test_sme_with_company_cannot_register_a_second(client):
    user, _company = make_sme_with_company()
    db.session.commit()
    from tests.conftest import login

    login(client, user.email)
    assert client.get("/companies/new").status_code == 403


def test_sme_sees_only_own_company(client, login_as):
    user, mine = make_sme_with_company()
    other = make_company()
    login_as(user)
    assert client.get(f"/companies/{mine.id}").status_code == 200
    assert client.get(f"/companies/{other.id}").status_code == 404
    assert client.get(f"/companies/{other.id}/edit").status_code == 404
    assert client.submit(f"/companies/{other.id}/edit", FORM).status_code == 404
    assert client.get("/companies").status_code == 404
    assert client.get("/company").headers["Location"] == f"/companies/{mine.id}"


def test_owner_edits_company(client, login_as):
    user, company = make_sme_with_company()
    login_as(user)
    data = {**FORM, "business_number": company.business_number, "products": "새 제품"}
    assert client.submit(f"/companies/{company.id}/edit", data).status_code == 302
    db.session.refresh(company)
    assert company.products == "새 제품"


def test_staff_edit_is_in_the_audit_log_with_before_and_after(client, login_as):
    _user, company = make_sme_with_company(industry="식품")
    staff = login_as("staff")
    data = {**FORM, "business_number": company.business_number, "industry": "화장품"}
    assert client.submit(f"/companies/{company.id}/edit", data).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.update"))
    assert entry.actor_id == staff.id
    assert entry.object_id == company.id
    assert entry.before["industry"] == "식품"
    assert entry.after["industry"] == "화장품"
    assert client.get("/staff/audit").status_code == 200


def test_staff_list_search_and_filters(client, login_as):
    make_company(name_ko="한빛코스메틱", hs_codes=("330499",), target_countries=("US",), industry="화장품")
    make_company(name_ko="서해식품", hs_codes=("200899",), target_countries=("JP",), industry="식품")
    b = make_company(name_ko="대성정밀", hs_codes=("848340",), target_countries=("MX",), industry="기계부품")
    login_as("staff")

    def names(query: str) -> list[str]:
        html = client.get("/companies" + query).get_data(as_text=True)
        return re.findall(r'<a href="/companies/\d+">([^<]+)</a>', html)

    assert names("") == ["대성정밀", "서해식품", "한빛코스메틱"]
    assert names("?q=서해") == ["서해식품"]
    assert names("?hs=33") == ["한빛코스메틱"]
    assert names("?hs=8483") == ["대성정밀"]
    assert names("?country=jp") == ["서해식품"]
    assert names("?industry=화장품") == ["한빛코스메틱"]
    assert names(f"?q={b.business_number[:5]}") == ["대성정밀"]
    assert names("?q=%25") == []  # LIKE wildcards are literal


def test_staff_list_paginates(client, login_as, app):
    for i in range(30):
        make_company(name_ko=f"기업{i:02d}")
    login_as("staff")
    first = client.get("/companies").get_data(as_text=True)
    second = client.get("/companies?page=2").get_data(as_text=True)
    per_page = app.config["COMPANIES_PER_PAGE"]
    assert len(re.findall(r'<a href="/companies/\d+">', first)) == per_page
    assert len(re.findall(r'<a href="/companies/\d+">', second)) == 30 - per_page
    assert client.get("/companies?page=99").status_code == 200
    assert client.get("/companies?page=-1").status_code == 200


def test_staff_list_query_count_is_the_same_for_1_and_25_rows(client, login_as, count_queries):
    make_company()
    login_as("staff")
    client.get("/companies")  # warm-up: caches, first-request work
    with count_queries() as one:
        assert client.get("/companies").status_code == 200
    for _ in range(24):
        make_company()
    db.session.commit()
    with count_queries() as many:
        assert client.get("/companies").status_code == 200
    assert one.count == many.count


def test_company_detail_query_count_is_bounded(client, login_as, count_queries):
    user, company = make_sme_with_company(hs_codes=("330499", "330410", "330420"))
    login_as(user)
    url = f"/companies/{company.id}"
    with count_queries() as q:
        client.get(url)
    # The user, the company, and one query each for its HS codes, countries and languages.
    assert q.count == 5


def test_unconfirmed_sme_cannot_register_company(client):
    user = make_user("sme", confirmed=False)
    db.session.commit()
    from consultroom.companies.policies import can_create_company

    assert can_create_company(user) is False
