"""Surveys (issue 5 item 3): versioned question sets, invitations and reminders, the answer page
behind a signed link, results and exports, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consultroom.audit.models import AuditEntry
from consultroom.bookings.services import book_slot
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.scheduler.runner import run_job
from consultroom.signing import make_token
from consultroom.spreadsheets import guard
from consultroom.surveys import queries as survey_queries
from consultroom.surveys import services as survey_services
from consultroom.surveys.models import SurveyInvitation, SurveyQuestion, SurveyResponse, SurveyVersion
from consultroom.surveys.services import (
    Gone,
    average_satisfaction,
    edit_question,
    make_survey_token,
    submit_response,
)
from consultroom.timeutil import SEOUL, seoul_date
from tests.conftest import login
from tests.factories import SurveyQuestionFactory, make_buyer, make_round, make_sme_with_company, make_user
from tests.undone import half_write_kept, writes_then_refuses

SME_QUESTIONS = (
    ("scale5", "전반적으로 만족하셨습니까?", "How satisfied were you overall?", True),
    ("scale5", "통역에 만족하셨습니까?", "How satisfied were you with the interpreter?", False),
    ("text", "의견을 적어 주세요.", "Any comments?", False),
)


def _questions(audience: str = "sme", admin=None) -> list[SurveyQuestion]:
    admin = admin or make_user("admin")
    return [
        SurveyQuestionFactory(audience=audience, kind=k, text_ko=ko, text_en=en, required=req, actor=admin)
        for k, ko, en, req in SME_QUESTIONS
    ]


def _held(rnd, slot_index: int, *, buyer: bool = True, status: str = "held"):
    user, company = make_sme_with_company()
    booking = book_slot(company=company, slot=rnd.slots[slot_index], request={"products": "김"}, actor=user)
    booking.buyer_id = make_buyer().id if buyer else None
    booking.status = status
    db.session.flush()
    return user, booking


def _invitation(booking, respondent: str = "sme") -> SurveyInvitation:
    return db.session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.booking_id == booking.id, SurveyInvitation.respondent == respondent
        )
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _mails(template: str) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.template == template).order_by(OutboxMail.id)))


def _invite(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    outcome = run_job("survey_invitations", now=now)
    assert outcome.status == "succeeded", outcome.detail
    return now


def _url(invitation: SurveyInvitation, lang: str | None = None) -> str:
    return f"/survey/{make_survey_token(invitation)}" + (f"?lang={lang}" if lang else "")


def _answers(questions, *scores_and_text) -> dict[str, str]:
    return {f"q{q.id}": str(v) for q, v in zip(questions, scores_and_text, strict=False) if v is not None}


# --- question sets and versions ----------------------------------------------------------------------


def test_question_edit_before_any_answer_changes_version_1_in_place(client, login_as):
    admin = login_as("admin")
    questions = _questions(admin=admin)
    response = client.submit(
        f"/admin/surveys/questions/{questions[0].id}/edit",
        {"kind": "scale5", "text_ko": "만족도", "text_en": "Satisfaction", "required": "y"},
    )
    assert response.status_code == 302
    versions = db.session.scalars(select(SurveyVersion)).all()
    assert [(v.audience, v.number, v.active) for v in versions] == [("sme", 1, True)]
    db.session.refresh(questions[0])
    assert (questions[0].text_ko, questions[0].text_en) == ("만족도", "Satisfaction")


def test_question_edit_after_an_answer_creates_version_2_and_old_answers_keep_version_1(client, login_as):
    admin = login_as("admin")
    questions = _questions(admin=admin)
    rnd = make_round()
    _user, booking = _held(rnd, 0)
    _invite()
    invitation = _invitation(booking)
    html = client.get(_url(invitation)).get_data(as_text=True)
    # An SME's survey link without ?lang= opens in Korean, the SMEs' language.
    assert "전반적으로 만족하셨습니까?" in html
    assert "How satisfied were you overall?" not in html
    answered = client.submit(
        _url(invitation), {"version_id": str(questions[0].version_id), **_answers(questions, 5, 4, "좋음")}
    )
    assert answered.status_code == 200

    edited = client.submit(
        f"/admin/surveys/questions/{questions[0].id}/edit",
        {"kind": "scale5", "text_ko": "만족도", "text_en": "Satisfaction", "required": "y"},
    )

    assert edited.status_code == 302
    v1, v2 = db.session.scalars(select(SurveyVersion).order_by(SurveyVersion.number)).all()
    assert (v1.number, v1.active, v2.number, v2.active) == (1, False, 2, True)
    assert [q.text_en for q in v1.questions] == [q[2] for q in SME_QUESTIONS]
    assert [q.text_en for q in v2.questions] == ["Satisfaction", SME_QUESTIONS[1][2], SME_QUESTIONS[2][2]]
    response = db.session.scalar(select(SurveyResponse))
    assert response.version_id == v1.id
    assert sorted(a.question_id for a in response.answers) == sorted(q.id for q in v1.questions)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("survey%")).order_by(AuditEntry.id)
    ).all()
    assert actions[-2:] == ["survey_version.created", "survey_question.updated"]
    # A second edit, still unanswered in v2, stays in v2.
    client.submit(
        f"/admin/surveys/questions/{v2.questions[1].id}/edit",
        {"kind": "text", "text_ko": "통역", "text_en": "Interpreter", "required": ""},
    )
    assert _count(SurveyVersion) == 2


def test_only_one_active_version_per_audience_is_enforced_by_the_database():
    db.session.add(SurveyVersion(audience="sme", number=1, active=True))
    db.session.flush()
    db.session.add(SurveyVersion(audience="sme", number=2, active=True))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_admin_adds_moves_and_removes_questions_with_audit(client, login_as):
    login_as("admin")
    for n in (1, 2):
        response = client.submit(
            "/admin/surveys/questions/new?audience=buyer",
            {"kind": "scale5", "text_ko": f"질문 {n}", "text_en": f"Question {n}", "required": "y"},
        )
        assert response.status_code == 302
    first, second = db.session.scalars(select(SurveyQuestion).order_by(SurveyQuestion.id)).all()
    client.submit(f"/admin/surveys/questions/{second.id}/move", {"direction": "up"})
    db.session.expire_all()
    assert [q.text_en for q in db.session.get(SurveyVersion, first.version_id).questions] == [
        "Question 2",
        "Question 1",
    ]
    client.submit(f"/admin/surveys/questions/{first.id}/delete", {"confirm": "1"})
    assert db.session.scalars(select(SurveyQuestion.text_en)).all() == ["Question 2"]
    bad = client.submit(
        "/admin/surveys/questions/new?audience=buyer", {"kind": "scale5", "text_ko": "", "text_en": "x"}
    )
    assert bad.status_code == 200 and 'id="text_ko-error"' in bad.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "survey_version.created",
        "survey_question.added",
        "survey_question.added",
        "survey_question.moved",
        "survey_question.deleted",
    ]


# --- invitations and reminders -----------------------------------------------------------------------


def test_invitation_job_invites_each_booking_and_respondent_once(app):
    _questions("sme")
    _questions("buyer")
    rnd = make_round()
    user, booking = _held(rnd, 0)
    user.locale = "ko"
    _other_user, not_held = _held(rnd, 1, status="confirmed")
    now = utcnow()

    _invite(now)
    _invite(now + timedelta(hours=1))  # the next hourly period: nothing new

    invitations = db.session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.respondent)).all()
    assert [(i.booking_id, i.respondent) for i in invitations] == [(booking.id, "buyer"), (booking.id, "sme")]
    mails = _mails("survey_invitation")
    assert [(m.to_addr, m.locale) for m in mails] == [(user.email, "ko"), (booking.buyer.email, "en")]
    assert all("/survey/" in m.body_text for m in mails)
    assert "lang=ko" in mails[0].body_text
    assert _invitation(not_held) is None
    assert invitations[0].expires_at - invitations[0].invited_at == timedelta(days=21)


def test_invitation_job_without_buyer_invitations_when_configured_off(app):
    _questions("sme")
    _questions("buyer")
    rnd = make_round()
    _held(rnd, 0)
    app.config["SURVEY_INVITE_BUYERS"] = False
    try:
        _invite()
    finally:
        app.config["SURVEY_INVITE_BUYERS"] = True
    assert db.session.scalars(select(SurveyInvitation.respondent)).all() == ["sme"]


def test_invitation_unique_per_booking_and_respondent_in_the_database():
    rnd = make_round()
    _user, booking = _held(rnd, 0)
    now = utcnow()
    for _ in range(2):
        db.session.add(
            SurveyInvitation(
                booking_id=booking.id, respondent="sme", invited_at=now, expires_at=now + timedelta(days=1)
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_reminders_after_3_and_7_days_once_each_and_none_after_answering(client):
    questions = _questions("sme")
    _questions("buyer")
    rnd = make_round()
    _user, booking = _held(rnd, 0)
    t0 = _invite(utcnow().replace(minute=0, second=0, microsecond=0))
    sent = []
    for offset in (timedelta(days=2), timedelta(days=3), timedelta(days=3, hours=1), timedelta(days=5)):
        run_job("survey_reminders", now=t0 + offset)
        sent.append(len(_mails("survey_reminder")))
    assert sent == [0, 2, 2, 2]  # the company's user and the buyer, on day 3 only

    sme = _invitation(booking)
    assert (
        client.submit(_url(sme), {"version_id": str(questions[0].version_id), **_answers(questions, 4)}).status_code
        == 200
    )
    for offset in (timedelta(days=7), timedelta(days=7, hours=1), timedelta(days=10)):
        run_job("survey_reminders", now=t0 + offset)
        sent.append(len(_mails("survey_reminder")))
    assert sent[4:] == [3, 3, 3]  # on day 7 the buyer only: the company answered
    buyer = _invitation(booking, "buyer")
    assert (buyer.reminded_3_at, buyer.reminded_7_at) == (t0 + timedelta(days=3), t0 + timedelta(days=7))
    assert sme.reminded_7_at is None
    assert [m.to_addr for m in _mails("survey_reminder")][-1] == booking.buyer.email


def test_reminders_skip_the_3_day_one_when_the_7_day_one_is_already_due():
    _questions("sme")
    rnd = make_round()
    _user, booking = _held(rnd, 0, buyer=False)
    t0 = _invite()
    run_job("survey_reminders", now=t0 + timedelta(days=8))
    run_job("survey_reminders", now=t0 + timedelta(days=9))
    assert len(_mails("survey_reminder")) == 1
    invitation = _invitation(booking)
    assert invitation.reminded_3_at == invitation.reminded_7_at == t0 + timedelta(days=8)
    run_job("survey_reminders", now=t0 + timedelta(days=22))  # expired: nothing more
    assert len(_mails("survey_reminder")) == 1


# --- the answer page --------------------------------------------------------------------------------


def _setup_answerable(*, buyer: bool = False):
    questions = _questions("sme")
    if buyer:
        _questions("buyer")
    rnd = make_round()
    user, booking = _held(rnd, 0, buyer=buyer)
    _invite()
    return questions, user, booking


def test_answer_page_in_korean_for_companies_english_for_buyers_and_switchable(client):
    _questions("sme")
    buyer_questions = _questions("buyer")
    rnd = make_round()
    _user, booking = _held(rnd, 0)
    _invite()
    sme_page = client.get(_url(_invitation(booking))).get_data(as_text=True)
    buyer_url = _url(_invitation(booking, "buyer"))
    buyer_page = client.get(buyer_url).get_data(as_text=True)
    switched = client.get(buyer_url + "?lang=ko").get_data(as_text=True)
    assert '<html lang="ko">' in sme_page and "전반적으로 만족하셨습니까?" in sme_page
    assert '<html lang="en">' in buyer_page and buyer_questions[0].text_en in buyer_page
    assert 'type="radio"' in buyer_page and "Very satisfied" in buyer_page
    assert '<html lang="ko">' in switched and buyer_questions[0].text_ko in switched


def test_required_questions_are_enforced_with_errors_beside_the_field(client):
    questions, _user, booking = _setup_answerable()
    url = _url(_invitation(booking), lang="en")
    version = str(questions[0].version_id)

    missing = client.submit(url, {"version_id": version, **_answers(questions, None, 3, "fine")})
    out_of_range = client.submit(url, {"version_id": version, **_answers(questions, 6)})

    for response in (missing, out_of_range):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="q{questions[0].id}-error"' in html and "Choose one of the five answers." in html
        assert f'id="q{questions[1].id}-error"' not in html
    assert 'value="3"\n                   checked' in missing.get_data(as_text=True)  # the answer given is kept
    assert _count(SurveyResponse) == 0
    ok = client.submit(url, {"version_id": version, **_answers(questions, 5)})
    assert ok.status_code == 200 and 'data-status="answered"' in ok.get_data(as_text=True)
    response = db.session.scalar(select(SurveyResponse))
    assert [(a.question_id, a.score, a.text) for a in response.answers] == [(questions[0].id, 5, None)]


def test_second_submit_is_refused_with_a_clear_page(client):
    questions, _user, booking = _setup_answerable()
    url = _url(_invitation(booking), lang="en")
    data = {"version_id": str(questions[0].version_id), **_answers(questions, 4)}
    first = client.submit(url, data)
    second = client.submit(url, data)
    again = client.get(url)
    assert first.status_code == 200
    assert second.status_code == 409 and "This survey has already been answered." in second.get_data(as_text=True)
    assert again.status_code == 409
    assert _count(SurveyResponse) == 1


def test_concurrent_double_submit_gives_one_response_and_no_500(app, make_client):
    questions, _user, booking = _setup_answerable()
    url = _url(_invitation(booking), lang="en")
    data = {"version_id": str(questions[0].version_id), **_answers(questions, 5, 5, "둘 다")}
    db.session.commit()
    clients = [make_client() for _ in range(2)]
    tokens = [c.csrf_token() for c in clients]
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(c, token):
        barrier.wait(timeout=30)
        status = c.post(url, data={**data, "csrf_token": token}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    db.session.rollback()
    assert sorted(statuses) == [200, 409]
    assert _count(SurveyResponse) == 1


def test_expired_invitation_shows_the_expiry_page_and_counts_as_expired(client):
    questions, _user, booking = _setup_answerable()
    invitation = _invitation(booking)
    invitation.invited_at = utcnow() - timedelta(days=30)
    invitation.expires_at = utcnow() - timedelta(days=9)
    db.session.commit()
    url = _url(invitation, lang="en")
    page = client.get(url)
    post = client.submit(url, {"version_id": str(questions[0].version_id), **_answers(questions, 5)})
    for response in (page, post):
        assert response.status_code == 410
        assert "This survey link has expired." in response.get_data(as_text=True)
    assert invitation.status(utcnow()) == "expired"
    assert _count(SurveyResponse) == 0


def test_token_misuse_gives_clear_4xx_pages_never_500(client, login_as):
    _qs, _user, booking = _setup_answerable(buyer=True)
    sme = _invitation(booking)
    buyer = _invitation(booking, "buyer")
    good = make_survey_token(sme)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_purpose = make_token("match-response", {"i": sme.id, "r": "sme"})
    wrong_kind = make_token("survey", {"i": sme.id, "r": "buyer"})
    missing = make_token("survey", {"i": 999999, "r": "sme"})
    malformed = make_token("survey", ["not", "a", "dict"])
    cases = {
        tampered: 400,
        other_purpose: 400,
        wrong_kind: 400,
        malformed: 400,
        "not-a-token": 400,
        missing: 410,
    }
    got = {t: client.get(f"/survey/{t}?lang=en").status_code for t in cases}
    posted = {t: client.submit(f"/survey/{t}?lang=en", {"q1": "5"}).status_code for t in cases}
    assert got == cases and posted == cases

    # Someone else's link: another company's user, logged in, cannot open it; nor a buyer's link.
    login_as("sme")
    make_sme_with_company()
    db.session.commit()
    for token in (good, make_survey_token(buyer)):
        response = client.get(f"/survey/{token}?lang=en")
        assert response.status_code == 403
        assert "This survey belongs to someone else." in response.get_data(as_text=True)
    assert _count(SurveyResponse) == 0


def test_bookings_page_lists_the_companys_own_surveys_to_answer(client, login_as):
    questions, user, booking = _setup_answerable(buyer=True)
    _held(booking.round, 1, buyer=False)
    _invite(utcnow() + timedelta(hours=1))
    login_as(user)
    html = client.get("/bookings").get_data(as_text=True)
    ids = re.findall(r'data-survey="(\d+)"', html)
    assert ids == [str(_invitation(booking).id)]
    link = re.search(r'href="(/survey/[^"]+)"', html).group(1).replace("&amp;", "&")
    page = client.get(link)
    assert page.status_code == 200 and questions[0].text_en in page.get_data(as_text=True)
    client.submit(link, {"version_id": str(questions[0].version_id), **_answers(questions, 3)})
    assert db.session.scalar(select(SurveyResponse.user_id)) == user.id
    assert re.findall(r'data-survey="(\d+)"', client.get("/bookings").get_data(as_text=True)) == []


# --- results and exports --------------------------------------------------------------------------------


def _constructed_set():
    """Three company responses and one unanswered invitation in one round, a buyer response, and a
    company response in another round. Figures worked out by hand in the tests below."""
    questions = _questions("sme")
    buyer_questions = _questions("buyer")
    rnd = make_round(booths=2, slots_per_booth=3)
    bookings = [_held(rnd, i)[1] for i in range(4)]
    day = rnd.day
    later = make_round(day=day + timedelta(days=62), booths=1, slots_per_booth=1)
    elsewhere = _held(later, 0, buyer=False)[1]
    now = _invite()
    v_sme, v_buyer = questions[0].version, buyer_questions[0].version

    def answer(booking, respondent, version, qs, *values):
        submit_response(
            invitation=_invitation(booking, respondent),
            version=version,
            answers=_answers(qs, *values),
            locale="ko",
            user=None,
            now=now,
        )

    answer(bookings[0], "sme", v_sme, questions, 5, 4, "좋았습니다")  # mean 4.5
    answer(bookings[1], "sme", v_sme, questions, 4, None, None)  # mean 4
    answer(bookings[2], "sme", v_sme, questions, 1, 3, "=cmd")  # mean 2
    answer(bookings[0], "buyer", v_buyer, buyer_questions, 2, 2, "ok")
    answer(elsewhere, "sme", v_sme, questions, 1, None, None)
    db.session.commit()
    return questions, rnd, later


def test_results_figures_on_a_constructed_set(client, login_as):
    questions, rnd, _later = _constructed_set()
    login_as("staff")
    html = client.get(f"/staff/surveys/results?audience=sme&round_id={rnd.id}").get_data(as_text=True)

    def figure(name):
        return re.search(rf'data-figure="{name}">([^<]*)<', html).group(1)

    def dist(q):
        section = html.split(f'data-question="{q.id}"')[1].split("</section>")[0]
        return [int(n) for n in re.findall(r'data-score="\d">(\d+)<', section)]

    # invited 4, answered 3; mean of per-response means (4.5 + 4 + 2) / 3 = 3.5 (all answers: 17/5 = 3.4)
    assert (figure("invited"), figure("answered"), figure("rate"), figure("average")) == ("4", "3", "75.0%", "3.50")
    assert dist(questions[0]) == [1, 0, 0, 1, 1]
    assert dist(questions[1]) == [0, 0, 1, 1, 0]
    assert "Average: 3.33" in html and "Average: 3.50" in html  # (5+4+1)/3 and (4+3)/2
    assert "좋았습니다" in html and "=cmd" in html
    assert "ok</li>" not in html  # the buyer's text is in the buyers' results
    assert '<svg width="200" height="14"' in html and "<script" not in html.split("</main>")[0]


def test_average_satisfaction_uses_the_mean_of_per_response_means():
    _qs, rnd, later = _constructed_set()
    assert average_satisfaction(start=None, end=None, round_id=rnd.id) == Decimal("3.50")
    # with the other round's response (mean 1): (4.5 + 4 + 2 + 1) / 4 = 2.875 -> 2.88
    assert average_satisfaction(start=None, end=None) == Decimal("2.88")
    assert average_satisfaction(start=rnd.day, end=rnd.day) == Decimal("3.50")
    assert average_satisfaction(start=later.day, end=None) == Decimal("1.00")
    assert average_satisfaction(start=None, end=rnd.day - timedelta(days=1)) is None
    assert average_satisfaction(start=None, end=None, round_id=rnd.id, audience="buyer") == Decimal("2.00")


def test_results_page_query_count_is_constant(client, login_as, count_queries):
    _questions("sme")
    rnd = make_round(booths=2, slots_per_booth=3)
    login_as("staff")
    counts = []
    bookings = [_held(rnd, i)[1] for i in range(5)]
    now = _invite()
    for n, booking in enumerate(bookings, start=1):
        version = db.session.scalar(select(SurveyVersion))
        qs = version.questions
        submit_response(
            invitation=_invitation(booking),
            version=version,
            answers=_answers(qs, 4, 5, f"t{n}"),
            locale="ko",
            user=None,
            now=now,
        )
        db.session.commit()
        if n in (1, 5):
            with count_queries() as q:
                assert client.get(f"/staff/surveys/results?round_id={rnd.id}").status_code == 200
            counts.append(q.count)
    assert counts[0] == counts[1]


def test_xlsx_export_keeps_numbers_and_dates_typed(client, login_as):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    response = client.get(f"/staff/surveys/results.xlsx?round_id={rnd.id}")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    summary, answers = wb.worksheets
    assert [row[1].value for row in summary.iter_rows(min_row=1, max_row=5)] == [4, 3, 0, 75.0, 3.5]
    q1_row = next(r for r in summary.iter_rows(min_row=8) if r[1].value == 1)
    assert [c.value for c in q1_row[3:]] == [3, 3.33, 1, 0, 0, 1, 1]
    rows = list(answers.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 7  # 3 + 1 + 3 answers
    first = rows[0]
    assert isinstance(first[1], datetime) and first[1].date() == rnd.day
    assert isinstance(first[8], int) and first[8] == 5
    assert isinstance(first[10], datetime)
    assert answers["B2"].is_date and answers["K2"].is_date
    assert "'=cmd" in [r[9] for r in rows]


def test_csv_export_is_utf8_with_bom(client, login_as):
    _qs, rnd, _later = _constructed_set()
    login_as("staff")
    response = client.get(f"/staff/surveys/results.csv?round_id={rnd.id}&start={rnd.day.isoformat()}")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 8  # the header and 3 + 1 + 3 answers
    assert "좋았습니다" in [r[9] for r in rows] and "'=cmd" in [r[9] for r in rows]
    assert rows[1][1] == rnd.day.isoformat()


def test_results_refuse_bad_filters_with_a_message_beside_the_field(client, login_as):
    login_as("staff")
    response = client.get("/staff/surveys/results?start=2026-13-01&round_id=abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="start-error"' in html and 'id="round_id-error"' in html
    assert client.get("/staff/surveys/results.csv?end=nope").status_code == 400


def test_smes_never_see_results_or_question_sets(client, login_as):
    _constructed_set()
    user = login_as("sme")
    assert user.is_sme
    for url in (
        "/staff/surveys/results",
        "/staff/surveys/results.xlsx",
        "/staff/surveys/results.csv",
        "/admin/surveys",
    ):
        assert client.get(url).status_code == 404
    staff = make_user("staff")
    db.session.commit()
    fresh = client.application.test_client()
    login(fresh, staff.email)
    assert fresh.get("/admin/surveys").status_code == 404
    assert fresh.get("/staff/surveys/results").status_code == 200


def test_average_satisfaction_with_no_answers_is_none():
    assert average_satisfaction(start=date(2026, 1, 1), end=date(2026, 12, 31)) is None


@pytest.mark.parametrize(
    ("error", "status", "shown"),
    [
        (Invalid("Check your answers.", fields={"q1": ["Choose one."]}), 200, 'name="version_id"'),
        (Gone("This survey link has expired."), 410, "This survey link has expired."),
        (Conflict("This survey has already been answered."), 409, "This survey has already been answered."),
    ],
)
def test_a_refused_answer_keeps_nothing_written_before_the_refusal(client, monkeypatch, error, status, shown):
    questions, _user, booking = _setup_answerable()
    monkeypatch.setattr(survey_services, "submit_response", writes_then_refuses(error))

    response = client.submit(
        _url(_invitation(booking), lang="en"), {"version_id": str(questions[0].version_id), **_answers(questions, 5)}
    )

    assert response.status_code == status and shown in response.get_data(as_text=True)
    assert not half_write_kept()


def test_csv_export_rows_name_each_answer_in_the_readers_language(client, login_as):
    """Every cell of every row, worked out from the records: the export reads names by id, so a
    company, buyer, question or version attached to the wrong answer shows here."""
    questions, rnd, _later = _constructed_set()
    # one company without an English name: the (English) export falls back to its Korean one
    responses = list(
        db.session.scalars(
            select(SurveyResponse)
            .join(SurveyResponse.invitation)
            .where(SurveyInvitation.respondent == "sme")
            .order_by(SurveyResponse.id)
        )
    )
    responses[1].invitation.booking.company.name_ko = "한빛식품"
    responses[1].invitation.booking.company.name_en = ""
    db.session.commit()
    login_as("staff")

    rows = list(
        csv.reader(io.StringIO(client.get(f"/staff/surveys/results.csv?round_id={rnd.id}").data.decode("utf-8-sig")))
    )

    expected = []
    in_round = [r for r in responses if r.invitation.booking.round_id == rnd.id]
    in_round.sort(key=lambda r: (r.invitation.booking.starts_at, r.id))
    for response in in_round:
        booking = response.invitation.booking
        company = booking.company.name_en or booking.company.name_ko
        buyer = db.session.get(Buyer, booking.buyer_id).company_name if booking.buyer_id else ""
        submitted = response.submitted_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
        for answer in sorted(response.answers, key=lambda a: (a.question.position, a.question.id)):
            q = answer.question
            expected.append(
                [f"Export consultations, {rnd.day:%B %Y}", seoul_date(booking.starts_at).isoformat(), company, buyer,
                 "Company", str(response.version.number), str(q.position), q.text_en, "" if answer.score is None else
                 str(answer.score), guard(answer.text) or "", submitted]
            )  # fmt: skip
    assert len(expected) == 7 and "한빛식품" in {row[2] for row in expected}
    assert rows[1:] == expected
    assert {row[7] for row in rows[1:]} == {q.text_en for q in questions}


# --- the question page's earlier versions ------------------------------------------------------------


def _answered_version(questions: list[SurveyQuestion], rnd, slots: range, admin) -> list[SurveyQuestion]:
    """Responses on the questions' version for the consultations in these slots, then an edit, which
    makes that version an earlier one; returns the questions of the new active version."""
    for i in slots:
        _user, booking = _held(rnd, i)
        invitation = SurveyInvitation(booking_id=booking.id, respondent="sme", expires_at=utcnow() + timedelta(days=7))
        db.session.add(invitation)
        db.session.flush()
        db.session.add(SurveyResponse(invitation_id=invitation.id, version_id=questions[0].version_id))
    db.session.flush()
    edited = edit_question(
        question=questions[0], data={"kind": "scale5", "text_ko": "만족도", "text_en": "Satisfaction"}, actor=admin
    )
    return edited.version.questions


def _earlier_versions(html: str) -> dict[str, str]:
    return {n: " ".join(text.split()) for n, text in re.findall(r'<li data-version="(\d+)">(.*?)</li>', html, re.S)}


def test_question_page_counts_an_earlier_versions_responses_up_to_a_bound(client, login_as, monkeypatch):
    # Counting stops at the bound (1,000 in production), so the page costs the same with 10 or 100,000
    # responses; beyond it the page says "or more".
    monkeypatch.setattr(survey_queries, "RESPONSES_SHOWN_UP_TO", 3)
    admin = login_as("admin")
    rnd = make_round(booths=3, slots_per_booth=3)
    v2 = _answered_version(_questions(admin=admin), rnd, range(2), admin)
    _answered_version(v2, rnd, range(2, 7), admin)

    versions = _earlier_versions(client.get("/admin/surveys").get_data(as_text=True))

    assert versions == {
        "2": "version 2: 3 questions, 3 or more responses",
        "1": "version 1: 3 questions, 2 responses",
    }


def test_question_page_takes_the_same_queries_with_one_or_three_earlier_versions(client, login_as, count_queries):
    admin = login_as("admin")
    rnd = make_round(booths=3, slots_per_booth=3)
    active = _answered_version(_questions(admin=admin), rnd, range(1), admin)
    db.session.commit()
    client.get("/admin/surveys")
    with count_queries() as few:
        first = client.get("/admin/surveys").get_data(as_text=True)
    active = _answered_version(active, rnd, range(1, 4), admin)
    _answered_version(active, rnd, range(4, 8), admin)
    db.session.commit()
    with count_queries() as more:
        second = client.get("/admin/surveys").get_data(as_text=True)

    assert (len(_earlier_versions(first)), len(_earlier_versions(second))) == (1, 3)
    assert more.count == few.count
