"""Erasure requests: asked by an SME user or recorded by staff, carried out (anonymised) or refused."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consultroom.accounts.models import ApiToken, User
from consultroom.api.tokens import issue_token
from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.notifications.services import queue_mail
from consultroom.privacy.anonymise import anonymise_subject
from consultroom.privacy.erasure import carry_out, open_request_for, refuse, request_erasure
from consultroom.privacy.models import Anonymisation, ErasureRequest, PersonalDataAccess
from tests.conftest import login, recent
from tests.factories import make_buyer, make_company, make_interpreter, make_user
from tests.factories.privacy import build_past_year, upcoming_consultation


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Service messages outside a request follow the default locale (Korean); read them in English."""
    with force_locale("en"):
        yield


def _sme(email: str = "kim@alpha.example.kr") -> tuple[User, Company]:
    user = make_user("sme", email=email, name="김알파")
    user.phone = "010-1234-5678"
    company = make_company(
        owner=user, contact_name="김알파", contact_email=email, contact_phone="010-1234-5678", representative="김대표"
    )
    return user, company


def _actions() -> list[str]:
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


# --- services ----------------------------------------------------------------------------------------


def test_request_erasure_by_sme_user_opens_one_request():
    user, _company = _sme()

    req = request_erasure(subject_type="user", subject_id=user.id, note="Please delete my account", actor=user)

    assert (req.status, req.subject_type, req.subject_id, req.requested_by_id, req.note) == (
        "open",
        "user",
        user.id,
        user.id,
        "Please delete my account",
    )
    assert open_request_for(subject_type="user", subject_id=user.id) == req
    assert "erasure_request.create" in _actions()


def test_request_erasure_twice_while_open_is_refused():
    user, _company = _sme()
    request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    with pytest.raises(Conflict) as exc:
        request_erasure(subject_type="user", subject_id=user.id, note="again", actor=user)

    assert exc.value.message == "A deletion request for this person is already open."
    assert db.session.scalar(select(func.count()).select_from(ErasureRequest)) == 1


def test_request_erasure_for_someone_else_is_not_allowed():
    user, _company = _sme()
    other, _other_company = _sme("lee@beta.example.kr")
    buyer = make_buyer()

    with pytest.raises(NotAllowed):
        request_erasure(subject_type="user", subject_id=other.id, note="", actor=user)
    with pytest.raises(NotAllowed):
        request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=user)


def test_carry_out_for_the_only_user_anonymises_user_and_company_contacts():
    user, company = _sme()
    staff = make_user("staff")
    _token, _raw = issue_token(user=user, name="laptop")
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    done = carry_out(request=req, actor=staff, response="Done as asked")

    assert done == ["sme_accounts", "company:sme_accounts", "company:free_text"]
    assert (user.name, user.email, user.phone, user.active) == (
        f"Deleted user #{user.id}",
        f"deleted-user-{user.id}@invalid.example",
        None,
        False,
    )
    assert (company.representative, company.contact_name, company.contact_email, company.contact_phone) == (
        "",
        "",
        "",
        "",
    )
    assert recent(db.session.scalar(select(ApiToken.revoked_at)))
    assert (req.status, req.handled_by_id, req.response) == ("done", staff.id, "Done as asked")
    assert recent(req.handled_at)
    rows = db.session.execute(
        select(Anonymisation.subject_type, Anonymisation.kind, Anonymisation.reason, Anonymisation.erasure_request_id)
    ).all()
    assert sorted(rows) == [
        ("company", "free_text", "erasure", req.id),
        ("company", "sme_accounts", "erasure", req.id),
        ("user", "sme_accounts", "erasure", req.id),
    ]
    assert _actions()[-4:] == ["privacy.anonymise", "privacy.anonymise", "privacy.anonymise", "erasure_request.done"]


def test_carry_out_keeps_the_company_while_another_active_user_remains():
    user, company = _sme()
    colleague = make_user("sme", company=company)
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    done = carry_out(request=req, actor=make_user("staff"))

    assert done == ["sme_accounts"]
    assert company.contact_email == "kim@alpha.example.kr"
    assert colleague.active is True


def test_carry_out_erases_the_company_free_text_of_past_consultations():
    w = build_past_year(2022)
    user = w.users["u1"]
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    carry_out(request=req, actor=w.staff)
    db.session.expire_all()

    k1 = db.session.get(Booking, w.bookings["k1"].id)
    k2 = db.session.get(Booking, w.bookings["k2"].id)
    assert (k1.products, k1.notes) == ("", "")
    assert k2.notes == "Please call 010-1234-5678 before"  # another company's consultation


def test_refuse_needs_a_response():
    user, _company = _sme()
    staff = make_user("staff")
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    with pytest.raises(Invalid) as exc:
        refuse(request=req, actor=staff, response="   ")
    assert exc.value.fields == {"response": ["Give the reason for refusing."]}
    assert req.status == "open"

    refuse(request=req, actor=staff, response="Contract records must be kept for 5 years.")

    assert (req.status, req.response, req.handled_by_id) == (
        "refused",
        "Contract records must be kept for 5 years.",
        staff.id,
    )
    assert user.email == "kim@alpha.example.kr" and user.active is True
    assert _actions()[-1] == "erasure_request.refused"


def test_a_handled_request_cannot_be_handled_again():
    user, _company = _sme()
    staff = make_user("staff")
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)
    refuse(request=req, actor=staff, response="No")

    with pytest.raises(Conflict):
        carry_out(request=req, actor=staff)


def test_only_staff_carry_out():
    user, _company = _sme()
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)

    with pytest.raises(NotAllowed):
        carry_out(request=req, actor=user)


def test_buyer_with_an_upcoming_confirmed_consultation_is_refused_with_conflict():
    staff = make_user("staff")
    buyer = make_buyer(email="future@acme.example.com")
    upcoming = upcoming_consultation(buyer_=buyer)
    req = request_erasure(subject_type="buyer", subject_id=buyer.id, note="By phone", actor=staff)

    with pytest.raises(Conflict) as exc:
        carry_out(request=req, actor=staff)

    assert "1 upcoming consultation(s)" in exc.value.message
    assert (buyer.email, buyer.active, req.status) == ("future@acme.example.com", True, "open")
    assert db.session.scalar(select(func.count()).select_from(Anonymisation)) == 0
    # Once the consultation is cancelled, the request goes through.
    upcoming.status = "cancelled"
    carry_out(request=req, actor=staff)
    assert buyer.email == f"deleted-buyer-{buyer.id}@invalid.example"


def test_buyer_erasure_drops_pending_mail_and_keeps_business_data():
    staff = make_user("staff")
    buyer = make_buyer(email="john@acme.example.com", country="US", languages=("en",), notes="VIP")
    name = buyer.company_name
    mail = queue_mail(to="John@Acme.example.com", template="confirm_email", context={"link": "x"}, locale="en")
    req = request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff)

    assert carry_out(request=req, actor=staff) == ["buyer_contacts"]

    assert (buyer.contact_name, buyer.phone, buyer.notes, buyer.active) == ("", "", "", False)
    assert (buyer.company_name, buyer.country, buyer.languages) == (name, "US", ["en"])
    db.session.refresh(mail)
    assert (mail.status, mail.to_addr, mail.body_text) == (
        "failed",
        f"deleted-buyer-{buyer.id}@invalid.example",
        "",
    )


def test_interpreter_erasure_unlinks_and_anonymises_its_account():
    staff = make_user("staff")
    account = make_user("sme", email="park@interp.example.kr")
    interpreter = make_interpreter(name="Park", email="park@interp.example.kr", user=account)
    req = request_erasure(subject_type="interpreter", subject_id=interpreter.id, note="", actor=staff)

    carry_out(request=req, actor=staff)

    assert (interpreter.name, interpreter.email, interpreter.user_id, interpreter.active) == (
        f"Deleted interpreter #{interpreter.id}",
        f"deleted-interpreter-{interpreter.id}@invalid.example",
        None,
        False,
    )
    assert (account.email, account.active) == (f"deleted-user-{account.id}@invalid.example", False)


def test_anonymise_subject_twice_does_nothing_the_second_time():
    buyer = make_buyer()

    first = anonymise_subject(subject_type="buyer", subject_id=buyer.id, reason="erasure", actor=None)
    second = anonymise_subject(subject_type="buyer", subject_id=buyer.id, reason="erasure", actor=None)

    assert (first, second) == (["buyer_contacts"], [])
    assert db.session.scalar(select(func.count()).select_from(Anonymisation)) == 1


def test_request_for_an_already_deleted_person_is_refused():
    staff = make_user("staff")
    buyer = make_buyer()
    anonymise_subject(subject_type="buyer", subject_id=buyer.id, reason="erasure", actor=staff)

    with pytest.raises(Conflict):
        request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff)


# --- after the erasure --------------------------------------------------------------------------------


def test_an_erased_user_is_logged_out_and_cannot_log_in(client, make_client):
    user, _company = _sme()
    staff = make_user("staff")
    db.session.commit()
    assert login(client, user.email).status_code == 302
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)
    carry_out(request=req, actor=staff)
    db.session.commit()

    # The old session is gone: the next page asks for a login.
    response = client.get("/my-data/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    again = login(make_client(), "kim@alpha.example.kr")
    assert again.status_code == 200


# --- pages -------------------------------------------------------------------------------------------


def test_staff_record_a_buyer_request_and_carry_it_out(client, login_as):
    staff = login_as("staff")
    buyer = make_buyer(email="john@acme.example.com", contact_name="John Doe")
    interpreter = make_interpreter(name="Park")
    db.session.commit()

    page = client.get("/staff/privacy/erasure-requests").get_data(as_text=True)
    assert f'value="buyer:{buyer.id}"' in page and f'value="interpreter:{interpreter.id}"' in page
    made = client.submit(
        "/staff/privacy/erasure-requests", {"subject": f"buyer:{buyer.id}", "note": "E-mail of 3 March"}
    )
    assert made.status_code == 302
    req = db.session.scalar(select(ErasureRequest))
    assert (req.subject_type, req.subject_id, req.requested_by_id, req.note) == (
        "buyer",
        buyer.id,
        staff.id,
        "E-mail of 3 March",
    )
    detail = client.get(f"/staff/privacy/erasure-requests/{req.id}").get_data(as_text=True)
    assert "John Doe" in detail
    seen = db.session.execute(
        select(PersonalDataAccess.actor_id, PersonalDataAccess.subject_type, PersonalDataAccess.subject_id).where(
            PersonalDataAccess.what == "privacy.erasure_request"
        )
    ).all()
    assert seen == [(staff.id, "buyer", buyer.id)]

    done = client.submit(f"/staff/privacy/erasure-requests/{req.id}", {"decision": "carry_out", "response": ""})

    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(ErasureRequest, req.id).status == "done"
    assert db.session.get(Buyer, buyer.id).email == f"deleted-buyer-{buyer.id}@invalid.example"
    listing = client.get("/staff/privacy/erasure-requests").get_data(as_text=True)
    assert f'value="buyer:{buyer.id}"' not in listing  # no longer offered


def test_refusing_without_a_response_shows_the_error_beside_the_field(client, login_as):
    login_as("staff")
    user, _company = _sme()
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)
    db.session.commit()

    response = client.submit(f"/staff/privacy/erasure-requests/{req.id}", {"decision": "refuse", "response": ""})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give the reason for refusing." in html and 'id="response-error"' in html
    assert db.session.get(ErasureRequest, req.id).status == "open"


def test_carrying_out_with_an_upcoming_consultation_flashes_the_conflict(client, login_as):
    login_as("staff")
    buyer = make_buyer()
    upcoming_consultation(buyer_=buyer)
    req = request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=make_user("staff"))
    db.session.commit()

    page = client.get(f"/staff/privacy/erasure-requests/{req.id}").get_data(as_text=True)
    assert "This person has 1 upcoming consultation. Cancel it" in page
    response = client.submit(
        f"/staff/privacy/erasure-requests/{req.id}", {"decision": "carry_out"}, follow_redirects=True
    )

    assert response.status_code == 200
    assert "Cancel them or assign someone else first." in response.get_data(as_text=True)
    assert db.session.get(ErasureRequest, req.id).status == "open"


def test_erasure_pages_are_staff_only(client, login_as):
    user, _company = _sme()
    req = request_erasure(subject_type="user", subject_id=user.id, note="", actor=user)
    db.session.commit()
    login_as(user)

    assert client.get("/staff/privacy/erasure-requests").status_code == 404
    assert client.get(f"/staff/privacy/erasure-requests/{req.id}").status_code == 404


def test_erasure_request_list_shows_open_first(client, login_as):
    staff = login_as("staff")
    first, second = make_buyer(), make_buyer()
    handled = request_erasure(subject_type="buyer", subject_id=first.id, note="", actor=staff)
    refuse(request=handled, actor=staff, response="Legal hold")
    pending = request_erasure(subject_type="buyer", subject_id=second.id, note="", actor=staff)
    db.session.commit()

    html = client.get("/staff/privacy/erasure-requests").get_data(as_text=True)

    assert html.index(f">#{pending.id}<") < html.index(f">#{handled.id}<")


def test_erasure_request_form_offers_the_people_the_search_finds(client, login_as):
    login_as("staff")
    wanted = make_buyer(company_name="Zephyr Foods", email="ops@zephyr.example.com")
    other = make_buyer(company_name="Acme Imports")
    interpreter = make_interpreter(name="Park Zephyrine")
    db.session.commit()

    found = client.get("/staff/privacy/erasure-requests?q=zephyr").get_data(as_text=True)
    made = client.submit(
        "/staff/privacy/erasure-requests?q=acme", {"subject": f"buyer:{wanted.id}", "note": "By phone"}
    )

    assert f'value="buyer:{wanted.id}"' in found and f'value="interpreter:{interpreter.id}"' in found
    assert f'value="buyer:{other.id}"' not in found
    # a person the current search does not show can still be recorded: the service checks them
    assert made.status_code == 302
    assert db.session.scalar(select(ErasureRequest.subject_id)) == wanted.id


def test_erasure_request_list_pages_in_its_order(client, login_as, monkeypatch):
    from consultroom.privacy import retention_views

    monkeypatch.setattr(retention_views, "ERASURE_REQUESTS_PER_PAGE", 2)
    staff = login_as("staff")
    handled = []
    for _ in range(2):
        req = request_erasure(subject_type="buyer", subject_id=make_buyer().id, note="", actor=staff)
        refuse(request=req, actor=staff, response="Legal hold")
        handled.append(req)
    pending = [request_erasure(subject_type="buyer", subject_id=make_buyer().id, note="", actor=staff)]
    db.session.commit()

    pages = [client.get(f"/staff/privacy/erasure-requests?page={n}").get_data(as_text=True) for n in (1, 2)]

    order = [pending[0], handled[1], handled[0]]  # open first, then handled newest first
    assert [r.id for r in order if f">#{r.id}<" in pages[0]] == [order[0].id, order[1].id]
    assert [r.id for r in order if f">#{r.id}<" in pages[1]] == [order[2].id]


def _requests_for(staff, n: int) -> None:
    for _ in range(n):
        request_erasure(subject_type="buyer", subject_id=make_buyer().id, note="", actor=staff)
        request_erasure(subject_type="interpreter", subject_id=make_interpreter().id, note="", actor=staff)
    db.session.commit()


def test_erasure_request_list_queries_stay_the_same_for_1_and_many_requests(client, login_as, count_queries):
    staff = login_as("staff")
    _requests_for(staff, 1)
    with count_queries() as one:
        assert client.get("/staff/privacy/erasure-requests").status_code == 200
    _requests_for(staff, 10)

    with count_queries() as many:
        assert client.get("/staff/privacy/erasure-requests").status_code == 200

    assert many.count == one.count


def test_erasure_pages_in_korean(client, login_as):
    staff = login_as(make_user("staff", locale="ko"))
    buyer = make_buyer()
    req = request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff)
    db.session.commit()

    listing = client.get("/staff/privacy/erasure-requests").get_data(as_text=True)
    detail = client.get(f"/staff/privacy/erasure-requests/{req.id}").get_data(as_text=True)
    refused = client.submit(f"/staff/privacy/erasure-requests/{req.id}", {"decision": "refuse"}).get_data(as_text=True)

    assert "바이어 또는 통역사의 요청 등록" in listing
    assert f"삭제 요청 #{req.id}" in detail and "개인정보 삭제(익명 처리)" in detail
    assert "거절 사유를 입력해 주세요." in refused


def test_erased_buyers_company_can_be_registered_again_with_a_new_contact():
    from consultroom.buyers.services import create_buyer

    staff = make_user("staff")
    buyer = make_buyer(company_name="Acme Imports", email="john@acme.example.com", country="US")
    carry_out(request=request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff), actor=staff)

    again = create_buyer(
        data={
            "company_name": "Acme Imports",
            "country": "US",
            "email": "mary@acme.example.com",
            "timezone": "America/New_York",
        },
        actor=staff,
    )

    assert (again.company_name, again.country, again.active) == ("Acme Imports", "US", True)
    assert buyer.company_name == "Acme Imports" and buyer.id != again.id
