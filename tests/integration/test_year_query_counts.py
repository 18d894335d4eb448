"""The year pages send as many SQL statements with one consultation as with many: the report page, the
public program page, the report API, the survey results and their .csv and .xlsx exports (timings stay
in bench/scale.py)."""

from __future__ import annotations

from datetime import timedelta

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.timeutil import seoul_date
from tests.factories import SurveyQuestionFactory, make_company, make_consultation, make_user, past_round, survey
from tests.integration.test_api_support import bearer


def _add_consultations(rnd, indexes, staff, question) -> None:
    now = utcnow()
    for i in indexes:
        booking = make_consultation(rnd, i, company=make_company(hs_codes=(f"{10 + i}0000",)))
        record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=now)
        record_contract(outcome=outcome_for(booking), currency="KRW", amount=str(1_000_000 * (i + 1)),
                        signed_on=seoul_date(booking.starts_at), items="", actor=staff, now=now)  # fmt: skip
        survey(booking, "sme", {question: 1 + i % 5}, now=now, invited_at=now - timedelta(days=1),
               expires_at=now + timedelta(days=13))  # fmt: skip
    db.session.commit()


def test_year_pages_send_the_same_number_of_queries_at_one_and_at_six_consultations(client, login_as, count_queries):
    staff = login_as("staff")
    admin = make_user("admin")
    question = SurveyQuestionFactory(text_ko="만족", text_en="Satisfied", required=True, actor=admin)
    rnd = past_round(days_ago=3, booths=3, slots_per_booth=3)
    year = rnd.day.year
    headers = bearer(make_user("staff"))
    urls = [
        f"/staff/reports?year={year}",
        "/staff/reports",  # opens on the latest year with data
        f"/program/{year}",
        f"/api/v1/reports/program?year={year}",
        f"/staff/surveys/results?start={year}-01-01&end={year}-12-31",
        f"/staff/surveys/results.csv?start={year}-01-01&end={year}-12-31",
        f"/staff/surveys/results.xlsx?start={year}-01-01&end={year}-12-31",
    ]
    counts: dict[str, list[int]] = {url: [] for url in urls}
    for indexes in ([0], [1, 2, 3, 4, 5]):
        _add_consultations(rnd, indexes, staff, question)
        for url in urls:
            # A warm-up request first: the token's first use records its use time, once.
            client.get(url, headers=headers if url.startswith("/api/") else {})
            with count_queries() as q:
                response = client.get(url, headers=headers if url.startswith("/api/") else {})
            assert response.status_code == 200, url
            counts[url].append(q.count)
        if indexes == [0]:
            assert "1,000,000" in client.get(f"/program/{year}").get_data(as_text=True)
    assert {url: n[0] for url, n in counts.items()} == {url: n[1] for url, n in counts.items()}
