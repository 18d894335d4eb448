"""The home page as a to-do list (issue 15, item 1): each count equals the rows of the page it links
to, the counts cost the same number of queries at any size, and an empty list says so."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.main import todo
from consultroom.notifications.models import OutboxMail
from consultroom.outcomes import services as outcome_services
from consultroom.privacy.models import ErasureRequest
from consultroom.scheduler.models import JobRun
from tests.factories import (
    make_booking,
    make_buyer,
    make_consultation,
    make_round,
    make_sme_with_company,
    make_user,
    past_round,
)

_seq = itertools.count(1)
STAFF_KEYS = ["expiring", "rematch", "match", "failed_mails", "failed_jobs", "erasure", "missing_logs", "overdue"]


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _counts(html: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(r'data-todo="(\w+)" data-count="(\d+)"', html)}


def _links(html: str) -> dict[str, str]:
    found = re.findall(r'data-todo="(\w+)" data-count="\d+">\s*<a href="([^"]+)"', html)
    return {key: href.replace("&amp;", "&") for key, href in found}


def _staff_world(n: int, *, second: bool = False) -> None:
    """n of everything the staff home counts, and one of each near miss that it must not count
    (`second`: in other months, as rounds are one a month)."""
    now = utcnow()
    shift = 40 if second else 0
    rnd = make_round(day=(now + timedelta(days=30 + shift)).date(), booths=n, slots_per_booth=4)
    slots = iter(rnd.slots)
    for _ in range(n):
        make_booking(next(slots))  # never proposed: to match
        back = make_booking(next(slots))  # proposed once, then declined or lapsed
        back.match_version = 1
        soon = make_booking(next(slots))  # the buyer has until tomorrow morning to answer
        soon.status, soon.buyer_id, soon.match_version = "matched", make_buyer().id, 1
        soon.respond_by = now + timedelta(hours=12)
    later = make_booking(next(slots))  # answer due in three days: not yet urgent
    later.status, later.buyer_id, later.match_version = "matched", make_buyer().id, 1
    later.respond_by = now + timedelta(days=3)

    staff = make_user("staff")
    recent_round = past_round(days_ago=3 + shift, booths=n, slots_per_booth=1)
    for index in range(n):
        make_consultation(recent_round, index)  # held three days ago, no log yet
    old_round = past_round(days_ago=200 + shift, booths=n, slots_per_booth=1)
    for index in range(n):
        booking = make_consultation(old_round, index)
        outcome_services.record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=booking.ends_at)

    for _ in range(n):
        k = next(_seq)
        db.session.add(
            OutboxMail(
                message_id=f"<todo{k}@test>",
                to_addr=f"x{k}@example.test",
                template="t",
                locale="ko",
                subject="s",
                body_text="b",
                status="failed",
            )
        )
        db.session.add(JobRun(job="deliver_mail", period=f"p{k}", status="failed", started_at=now, error="boom"))
        db.session.add(ErasureRequest(subject_type="buyer", subject_id=make_buyer().id))
    k = next(_seq)
    db.session.add(
        OutboxMail(
            message_id=f"<todo{k}@test>",
            to_addr="y@example.test",
            template="t",
            locale="ko",
            subject="s",
            body_text="b",
            status="sent",
        )
    )
    db.session.add(JobRun(job="deliver_mail", period=f"p{k}", status="failed", started_at=now - timedelta(days=8)))
    db.session.flush()


def _rows_on(client, href: str, key: str) -> int:
    """The number of rows the linked page shows for the item."""
    html = _html(client.get(href))
    if key in ("expiring", "rematch", "match"):
        return len(re.findall(r'class="work-row"', html))
    if key == "failed_mails":
        return len(re.findall(r'href="/admin/outbox/\d+"', html))
    if key == "failed_jobs":
        return len(re.findall(r'class="failure"', html))
    if key == "erasure":
        return len(re.findall(r'data-status="open"', html))
    if key == "missing_logs":
        return len(re.findall(r'class="missing-log"', html))
    if key == "overdue":
        return len(re.findall(r'class="overdue"', html))
    raise AssertionError(key)


def test_home_staff_counts_equal_the_rows_of_each_linked_page(client, login_as):
    _staff_world(2)
    login_as("admin")

    html = _html(client.get("/"))
    counts, links = _counts(html), _links(html)

    assert list(counts) == STAFF_KEYS  # most urgent first
    assert counts == dict.fromkeys(STAFF_KEYS, 2)
    for key in STAFF_KEYS:
        assert _rows_on(client, links[key], key) == counts[key], key


def test_home_staff_without_admin_rights_sees_no_outbox_jobs_or_requests(client, login_as):
    _staff_world(1)
    login_as("staff")

    counts = _counts(_html(client.get("/")))

    assert counts == {"expiring": 1, "rematch": 1, "match": 1, "missing_logs": 1, "overdue": 1}


def test_home_staff_counts_take_the_same_queries_at_one_and_ten(client, login_as, count_queries):
    login_as("admin")
    q_last = []

    def measure() -> tuple[int, set[int]]:
        db.session.commit()
        with count_queries() as q:
            counts = _counts(_html(client.get("/")))
        q_last[:] = q.statements
        return q.count, set(counts.values())

    _staff_world(1)
    one = measure()
    _staff_world(9, second=True)
    ten = measure()

    assert one[1] == {1} and ten[1] == {10}
    assert ten[0] == one[0]
    # The signed-in user, every count in one SELECT, and the outbox health behind the mail alert (3).
    assert ten[0] == 5
    assert sum("FROM bookings" in statement for statement in q_last) == 1


def test_home_staff_counts_stop_at_a_bound_and_say_or_more(client, login_as, monkeypatch):
    # The bound is 1,000 in production: the home reads at most that many rows per count, however many
    # overdue follow-ups or missing logs the years hold; the linked page has the exact figure.
    monkeypatch.setattr(todo, "STAFF_COUNT_UP_TO", 2)
    _staff_world(3)
    login_as("admin")

    html = _html(client.get("/"))

    assert _counts(html) == dict.fromkeys(STAFF_KEYS, 2)
    assert "Overdue follow-ups: 2 or more" in html
    assert "Missing logs: 2 or more" in html
    assert _rows_on(client, _links(html)["overdue"], "overdue") == 3


def test_home_empty_state_says_there_is_nothing_to_do(client, login_as):
    login_as("staff")
    html = _html(client.get("/"))
    assert "data-todo-empty" in html
    assert "Nothing to do right now." in html
    assert _counts(html) == {}


def _sme_world(user, company) -> dict[str, int]:
    now = utcnow()
    rnd = make_round(booths=1, slots_per_booth=3)
    first = make_booking(rnd.slots[0], company=company)
    proposed = make_booking(rnd.slots[1], company=company)
    proposed.status, proposed.buyer_id, proposed.match_version = "matched", make_buyer().id, 1
    proposed.respond_by = now + timedelta(days=2)
    staff = make_user("staff")
    old_round = past_round(days_ago=200, booths=1, slots_per_booth=2)
    for index in range(2):
        booking = make_consultation(old_round, index, company=company)
        outcome_services.record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=booking.ends_at)
    # Another company's overdue outcome is not this company's business.
    other = make_consultation(past_round(days_ago=240, booths=1, slots_per_booth=1), 0)
    outcome_services.record_log(booking=other, data={"attendance": "held"}, actor=staff, now=other.ends_at)
    db.session.flush()
    return {"next": first.id}


def test_home_sme_shows_next_consultation_and_counts_equal_its_bookings_page(client, login_as):
    user, company = make_sme_with_company()
    made = _sme_world(user, company)
    login_as(user)

    html = _html(client.get("/"))
    counts = _counts(html)

    assert f'href="/bookings/{made["next"]}"' in html
    assert counts == {"awaiting": 1, "followups": 2}  # no survey sent yet: not listed
    bookings = _html(client.get("/bookings"))
    assert len(re.findall(r"data-followup=", bookings)) == counts["followups"]
    assert bookings.count('class="small text-muted match-state"') == counts["awaiting"]


def test_home_sme_without_bookings_says_none_is_booked(client, login_as):
    user, _company = make_sme_with_company()
    login_as(user)
    html = _html(client.get("/"))
    assert "No consultation is booked." in html
    assert "Nothing to do right now." in html


@pytest.mark.parametrize("need", ["expiring", "rematch", "match"])
def test_matching_work_list_is_for_staff_only(client, login_as, need):
    user, _company = make_sme_with_company()
    login_as(user)
    assert client.get(f"/staff/matching/work?need={need}").status_code in (403, 404)


def test_matching_work_list_takes_the_same_queries_at_one_and_ten(client, login_as, count_queries):
    login_as("staff")

    def measure() -> tuple[int, int]:
        db.session.commit()
        with count_queries() as q:
            html = _html(client.get("/staff/matching/work?need=match"))
        return q.count, len(re.findall(r'class="work-row"', html))

    _staff_world(1)
    one = measure()
    _staff_world(9, second=True)
    ten = measure()

    assert (one[1], ten[1]) == (1, 10)
    assert ten[0] == one[0]


def test_bookings_to_match_page_down_the_requests_index(app):
    """The "bookings to match" list reads the partial index of requests in its order (a national open
    round holds 1,500 of them) instead of reading and sorting them all for a page of fifty; the
    planner is told to avoid a sequential scan, as it would with 200,000 bookings."""
    from sqlalchemy import text

    from consultroom.matching.queries import work_stmt
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("the plan is PostgreSQL's; SQLite's data sets stay small")
    _staff_world(1)
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    stmt = work_stmt("match", utcnow()).limit(50)
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    plan = "\n".join(r[0] for r in db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert "ix_bookings_requested_starts" in plan
