from tests.factories import make_sme_with_company


def test_home_anonymous_shows_korean_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="ko">' in response.get_data(as_text=True)


def test_company_detail_owner_sees_own_company(client, login_as):
    user, company = make_sme_with_company()
    login_as(user)
    response = client.get(f"/companies/{company.id}")
    assert response.status_code == 200
    assert company.name_ko in response.get_data(as_text=True)
