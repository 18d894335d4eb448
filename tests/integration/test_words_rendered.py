"""The Korean the pages render for words issue 15 (item 6) found wrong: interest "Medium" as 중기업,
stage history "From/To" as a mail's sender and recipient, seconds on times, raw job ids and
"1440분", ISO country codes in lists."""

from __future__ import annotations

import re
from datetime import timedelta

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes import services
from consultroom.scheduler.models import JobRun
from tests.factories import make_buyer, make_company, make_consultation, make_user, past_round


def _korean_staff(login_as):
    return login_as(make_user("staff", locale="ko"))


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_consultation_page_says_interest_level_and_stage_words_in_korean(client, login_as):
    staff = make_user("staff")
    booking = make_consultation(past_round(days_ago=5), 0)
    services.record_log(
        booking=booking, data={"attendance": "held", "buyer_interest": "medium"}, actor=staff, now=booking.ends_at
    )
    outcome = services.outcome_for(booking)
    services.change_stage(
        outcome=outcome, to_stage="negotiating", on=outcome.stage_on, note="", actor=staff, now=utcnow()
    )
    _korean_staff(login_as)

    html = _html(client.get(f"/consultations/{booking.id}"))

    assert "보통" in html and "중기업" not in html
    assert "이전 단계" in html and "새 단계" in html
    assert "보낸 사람" not in html and "받는 사람" not in html
    assert not re.search(r"\d+초", html)  # times to the minute


def test_buyer_size_medium_stays_a_company_size(client, login_as):
    buyer = make_buyer(size="medium")
    _korean_staff(login_as)
    html = _html(client.get(f"/staff/buyers/{buyer.id}"))
    assert "중기업" in html


def test_jobs_page_names_jobs_and_says_periods_in_days_and_hours(client, login_as):
    db.session.add(JobRun(job="deliver_mail", period="p1", status="failed", started_at=utcnow(), error="boom"))
    db.session.add(
        JobRun(job="deliver_mail", period="p0", status="failed", started_at=utcnow() - timedelta(days=8), error="old")
    )
    _korean_staff(login_as)

    html = _html(client.get("/staff/jobs"))

    row = re.search(r'<tr data-job="outcome_followups">(.*?)</tr>', html, re.S).group(1)
    assert "계약 진행 확인 요청" in row and "1일" in row and "1440" not in row
    assert "<code>" not in html
    assert re.findall(r'<tr class="failure"><td>([^<]+)</td>', html) == ["메일 발송"]  # the 8-day-old one is gone


def test_companies_list_names_target_countries_in_the_viewers_language(client, login_as):
    make_company(target_countries=("US", "JP"), name_ko="국가표시기업")
    _korean_staff(login_as)
    html = _html(client.get("/companies"))
    row = re.search(r"국가표시기업.*?</tr>", html, re.S).group(0)
    assert "미국" in row and "일본" in row
    assert not re.search(r">\s*US, JP\s*<", row)
