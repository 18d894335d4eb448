"""Interpreter registry, weekly hours and exceptions, the signed-link portal and the monthly report."""

from __future__ import annotations

import csv
import html as html_module
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import Conflict, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.availability import Exception_, WeeklyHours, is_available
from consultroom.interpreters.models import Interpreter, InterpreterException, InterpreterHours
from consultroom.interpreters.services import (
    create_interpreter,
    portal_token,
    set_interpreter_active,
    update_interpreter,
)
from consultroom.notifications.models import OutboxMail
from consultroom.rounds.models import Round
from consultroom.signing import make_token
from tests.conftest import outbox_links
from tests.factories import (
    BookingRowFactory,
    RoundFactory,
    SlotFactory,
    make_company,
    make_interpreter,
    make_sme_with_company,
    make_user,
)

FORM = {
    "name": "Lee  Minji",
    "email": "Minji.Lee@Interpret.example.com",
    "phone": "+82 10 1234 5678",
    "languages": ["en", "vi"],
    "specialties": "cosmetics, food",
    "max_sessions_per_day": "5",
    "locale": "ko",
    "account_email": "",
}


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown beside {field}"
    return html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1)).strip())


def _count(model=Interpreter) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _assignment(
    interpreter: Interpreter | None,
    *,
    starts_at: datetime,
    minutes: int = 50,
    status: str = "confirmed",
    company=None,
    buyer=None,
    products: str = "김 스낵",
    meeting_url: str = "",
    response: str | None = "accepted",
) -> Booking:
    """A booking of a fresh company on a slot of its own, with the interpreter (direct rows: figures matter here)."""
    local_day = starts_at.date()
    rnd = db.session.scalar(select(Round).where(Round.year == local_day.year, Round.month == local_day.month))
    if rnd is None:
        now = utcnow()
        rnd = RoundFactory(
            day=local_day,
            status="held",
            booking_opens_at=now - timedelta(days=60),
            booking_closes_at=now - timedelta(days=30),
            slots_per_booth=0,
        )
    slot = SlotFactory(round=rnd, booth=len(rnd.slots) + 1, starts_at=starts_at, minutes=minutes)
    return BookingRowFactory(
        slot=slot,
        company=company or make_company(),
        status=status,
        products=products,
        interpreter=interpreter,
        interpreter_response=response,
        buyer=buyer,
        meeting_url=meeting_url,
    )


def seoul(year, month, day, hour, minute=0) -> datetime:
    from consultroom.timeutil import SEOUL

    return datetime(year, month, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


# --- create, edit, deactivate --------------------------------------------------------------------


def test_staff_creates_interpreter_normalised_and_audited(client, login_as):
    staff = login_as("staff")
    response = client.submit("/staff/interpreters/new", FORM)
    assert response.status_code == 302
    interpreter = db.session.scalar(select(Interpreter))
    assert response.headers["Location"] == f"/staff/interpreters/{interpreter.id}"
    assert (interpreter.name, interpreter.email) == ("Lee Minji", "minji.lee@interpret.example.com")
    assert interpreter.languages == ["en", "vi"]
    assert (interpreter.max_sessions_per_day, interpreter.locale, interpreter.active) == (5, "ko", True)
    assert interpreter.user_id is None
    [entry] = _audit("interpreter.create")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (staff.id, "interpreters", interpreter.id)
    assert entry.after["email"] == "minji.lee@interpret.example.com"
    assert entry.after["languages"] == ["en", "vi"]
    page = client.get(f"/staff/interpreters/{interpreter.id}").get_data(as_text=True)
    assert "Lee Minji" in page and "Vietnamese" in page and "cosmetics, food" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "minji@", "Not a valid e-mail address."),
        ("email", "", "This field is required."),
        ("languages", [], "Choose at least one language the interpreter works in with Korean."),
        ("languages", ["en", "klingon"], "Not a known language: klingon"),
        ("languages", ["ko", "en"], "Leave Korean out: every language listed is interpreted to and from Korean."),
        ("max_sessions_per_day", "0", "Give a whole number from 1 to 12."),
        ("max_sessions_per_day", "13", "Give a whole number from 1 to 12."),
        ("max_sessions_per_day", "four", "Give a whole number from 1 to 12."),
        ("locale", "fr", "Choose one of the offered languages."),
        (
            "account_email",
            "nobody@example.test",
            "No account has this e-mail address. The interpreter can register first, or use signed links.",
        ),
    ],
)
def test_create_interpreter_bad_field_error_beside_field_and_nothing_saved(client, login_as, field, value, message):
    login_as("staff")
    response = client.submit("/staff/interpreters/new", {**FORM, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, field) == message
    assert _count() == 0
    assert "+82 10 1234 5678" in html  # what was typed elsewhere is kept


def test_interpreter_form_reports_every_bad_field_in_one_pass(client, login_as):
    """Issue 15 item 7: every bad field of the form shows after the same submit."""
    login_as("staff")
    form = {**FORM, "name": "", "languages": ["ko", "en"], "max_sessions_per_day": "13", "locale": "fr"}

    html = client.submit("/staff/interpreters/new", form).get_data(as_text=True)

    assert _field_error(html, "name") == "This field is required."
    assert _field_error(html, "languages") == (
        "Leave Korean out: every language listed is interpreted to and from Korean."
    )
    assert _field_error(html, "max_sessions_per_day") == "Give a whole number from 1 to 12."
    assert _field_error(html, "locale") == "Choose one of the offered languages."
    assert _count() == 0


def test_create_interpreter_names_every_bad_field_at_once(app):
    from consultroom.errors import Invalid

    with pytest.raises(Invalid) as caught:
        create_interpreter(
            data={"name": "", "email": "x", "languages": "zz", "max_sessions_per_day": 0, "locale": "de", "x": 1},
            actor=make_user("staff"),
        )
    assert sorted(caught.value.fields) == ["email", "languages", "locale", "max_sessions_per_day", "name", "x"]


def test_duplicate_email_refused_beside_the_field(client, login_as):
    existing = make_interpreter(name="Park Jisoo", email="minji.lee@interpret.example.com")
    login_as("staff")
    response = client.submit("/staff/interpreters/new", {**FORM, "email": "MINJI.LEE@interpret.example.com"})
    assert _field_error(response.get_data(as_text=True), "email") == (
        "An interpreter with this e-mail address is already registered (Park Jisoo)."
    )
    assert _count() == 1
    assert existing.name == "Park Jisoo"


def test_staff_edits_interpreter_with_before_and_after_in_audit(client, login_as):
    interpreter = make_interpreter(name="Old Name", languages=("en",), max_sessions_per_day=4)
    staff = login_as("staff")
    form = client.get(f"/staff/interpreters/{interpreter.id}/edit").get_data(as_text=True)
    assert 'value="Old Name"' in form
    data = {**FORM, "email": interpreter.email, "name": "New Name", "languages": ["en", "ja"]}
    assert client.submit(f"/staff/interpreters/{interpreter.id}/edit", data).status_code == 302
    db.session.refresh(interpreter)
    assert (interpreter.name, interpreter.languages, interpreter.max_sessions_per_day) == ("New Name", ["en", "ja"], 5)
    [entry] = _audit("interpreter.update")
    assert entry.actor_id == staff.id
    assert entry.before["name"] == "Old Name" and entry.after["name"] == "New Name"
    assert entry.before["languages"] == ["en"] and entry.after["languages"] == ["en", "ja"]
    assert "email" not in entry.after  # only changed keys are kept


def test_edit_to_another_interpreters_email_is_refused(app):
    make_interpreter(name="A", email="a@interp.example.com")
    b = make_interpreter(name="B", email="b@interp.example.com")
    with pytest.raises(Conflict) as caught, force_locale("en"):
        update_interpreter(
            interpreter=b, data={"email": "A@interp.example.com"}, actor=make_user("staff"), partial=True
        )
    assert caught.value.fields["email"] == ["An interpreter with this e-mail address is already registered (A)."]


def test_update_without_change_writes_no_audit_entry(app):
    interpreter = make_interpreter()
    update_interpreter(interpreter=interpreter, data={"name": interpreter.name}, actor=make_user("staff"), partial=True)
    assert _audit("interpreter.update") == []


def test_account_linked_by_email_and_only_once(client, login_as):
    account = make_user("sme", email="minji@personal.example.com")
    first = make_interpreter(name="First")
    login_as("staff")
    data = {**FORM, "email": first.email, "name": "First", "account_email": "Minji@Personal.example.com"}
    assert client.submit(f"/staff/interpreters/{first.id}/edit", data).status_code == 302
    db.session.refresh(first)
    assert first.user_id == account.id
    [entry] = _audit("interpreter.update")
    assert (entry.before["user_id"], entry.after["user_id"]) == (None, account.id)
    response = client.submit("/staff/interpreters/new", {**FORM, "account_email": "minji@personal.example.com"})
    assert _field_error(response.get_data(as_text=True), "account_email") == (
        "This account is already linked to another interpreter (First)."
    )
    assert _count() == 1


def test_staff_deactivates_and_reactivates_interpreter_with_audit(client, login_as):
    interpreter = make_interpreter(name="Fading Voice")
    login_as("staff")
    assert (
        client.submit(f"/staff/interpreters/{interpreter.id}/active", {"active": "0", "confirm": "1"}).status_code
        == 302
    )
    db.session.refresh(interpreter)
    assert interpreter.active is False
    assert "Fading Voice" not in client.get("/staff/interpreters").get_data(as_text=True)
    assert "Fading Voice" in client.get("/staff/interpreters?status=inactive").get_data(as_text=True)
    assert client.submit(f"/staff/interpreters/{interpreter.id}/active", {"active": "1"}).status_code == 302
    db.session.refresh(interpreter)
    assert interpreter.active is True
    assert [(e.before, e.after) for e in _audit("interpreter.deactivate")] == [({"active": True}, {"active": False})]
    assert [(e.before, e.after) for e in _audit("interpreter.reactivate")] == [({"active": False}, {"active": True})]


def test_services_refuse_non_staff_actor(app):
    sme, _company = make_sme_with_company()
    interpreter = make_interpreter()
    with pytest.raises(NotAllowed):
        create_interpreter(data=FORM, actor=sme)
    with pytest.raises(NotAllowed):
        set_interpreter_active(interpreter=interpreter, active=False, actor=sme)


# --- weekly hours and exceptions -----------------------------------------------------------------


def _hours(interpreter: Interpreter) -> list[tuple[int, time, time]]:
    rows = db.session.scalars(
        select(InterpreterHours)
        .where(InterpreterHours.interpreter_id == interpreter.id)
        .order_by(InterpreterHours.weekday, InterpreterHours.start)
    )
    return [(h.weekday, h.start, h.end) for h in rows]


def test_weekly_hours_with_several_ranges_a_day_are_saved_and_audited(client, login_as):
    interpreter = make_interpreter(hours=((4, "10:00", "12:00"),))
    staff = login_as("staff")
    page = client.get(f"/staff/interpreters/{interpreter.id}/hours").get_data(as_text=True)
    assert 'value="10:00-12:00"' in page and "Friday" in page
    data = {"day_0": "13:00-18:00, 09:00-12:00", "day_2": "9-13", "day_4": ""}
    assert client.submit(f"/staff/interpreters/{interpreter.id}/hours", data).status_code == 302
    assert _hours(interpreter) == [
        (0, time(9), time(12)),
        (0, time(13), time(18)),
        (2, time(9), time(13)),
    ]
    [entry] = _audit("interpreter.hours")
    assert entry.actor_id == staff.id
    assert entry.before == {"hours": ["4 10:00-12:00"]}
    assert entry.after == {"hours": ["0 09:00-12:00", "0 13:00-18:00", "2 09:00-13:00"]}
    detail = client.get(f"/staff/interpreters/{interpreter.id}").get_data(as_text=True)
    assert "Monday: 09:00–12:00, 13:00–18:00" in detail and "Wednesday: 09:00–13:00" in detail
    # What is saved is what availability reads: Monday 13:00-13:50 in Seoul (04:00 UTC) is within the hours.
    db.session.expire_all()
    weekly = [WeeklyHours(h.weekday, h.start, h.end) for h in db.session.get(Interpreter, interpreter.id).hours]
    monday = datetime(2027, 3, 8, 4, 0, tzinfo=UTC)
    assert is_available(weekly, [], monday, monday + timedelta(minutes=50))
    assert not is_available(weekly, [], monday - timedelta(hours=1, minutes=30), monday - timedelta(minutes=40))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("09:00-12:00, 11:00-13:00", "09:00-12:00 and 11:00-13:00 overlap."),
        ("09:00-18:00, 12:00-13:00", "09:00-18:00 and 12:00-13:00 overlap."),
        ("12:00-09:00", "The start must be before the end: 12:00-09:00"),
        ("10:00-10:00", "The start must be before the end: 10:00-10:00"),
        ("25:00-26:00", "Not a time of day such as 09:00: 25:00-26:00"),
        ("morning", "Write each range as start-end, e.g. 09:00-12:00: morning"),
    ],
)
def test_bad_weekly_hours_are_refused_beside_the_day_and_nothing_changes(client, login_as, value, message):
    interpreter = make_interpreter(hours=((1, "09:00", "17:00"),))
    login_as("staff")
    response = client.submit(f"/staff/interpreters/{interpreter.id}/hours", {"day_0": "10:00-12:00", "day_1": value})
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), "day_1") == message
    assert _hours(interpreter) == [(1, time(9), time(17))]
    assert _audit("interpreter.hours") == []


def test_adjacent_ranges_do_not_overlap(client, login_as):
    interpreter = make_interpreter()
    login_as("staff")
    data = {"day_3": "09:00-12:00, 12:00-15:00"}
    assert client.submit(f"/staff/interpreters/{interpreter.id}/hours", data).status_code == 302
    assert _hours(interpreter) == [(3, time(9), time(12)), (3, time(12), time(15))]


def test_exceptions_added_and_removed_with_audit(client, login_as):
    interpreter = make_interpreter(hours=((2, "09:00", "13:00"),))
    login_as("staff")
    url = f"/staff/interpreters/{interpreter.id}/exceptions"
    for data in (
        {"day": "2027-03-10", "kind": "away_all_day", "note": "Conference"},
        {"day": "2027-03-17", "kind": "away", "start": "10:30", "end": "11:00"},
        {"day": "2027-03-13", "kind": "extra", "start": "09:00", "end": "12:00", "note": "Saturday help"},
    ):
        assert client.submit(url, data).status_code == 302, data
    rows = db.session.scalars(
        select(InterpreterException)
        .where(InterpreterException.interpreter_id == interpreter.id)
        .order_by(InterpreterException.day)
    ).all()
    assert [(e.day, e.available, e.start, e.end, e.note) for e in rows] == [
        (date(2027, 3, 10), False, None, None, "Conference"),
        (date(2027, 3, 13), True, time(9), time(12), "Saturday help"),
        (date(2027, 3, 17), False, time(10, 30), time(11), ""),
    ]
    assert [e.after["exception"]["day"] for e in _audit("interpreter.exception_add")] == [
        "2027-03-10",
        "2027-03-17",
        "2027-03-13",
    ]
    # The rows mean what availability expects: away all day, extra hours on a Saturday.
    weekly = [WeeklyHours(2, time(9), time(13))]
    exceptions = [Exception_(e.day, e.available, e.start, e.end) for e in rows]
    wed_10 = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)
    assert not is_available(weekly, exceptions, wed_10, wed_10 + timedelta(minutes=50))
    sat_10 = datetime(2027, 3, 13, 1, 0, tzinfo=UTC)
    assert is_available(weekly, exceptions, sat_10, sat_10 + timedelta(minutes=50))
    page = client.get(url).get_data(as_text=True)
    assert "Conference" in page and "Saturday help" in page
    assert client.submit(f"{url}/{rows[0].id}/delete", {}).status_code == 302
    assert _count(InterpreterException) == 2
    [entry] = _audit("interpreter.exception_delete")
    assert entry.before == {
        "exception": {"day": "2027-03-10", "available": False, "start": None, "end": None, "note": "Conference"}
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"day": "", "kind": "away_all_day"}, "day", "This field is required."),
        ({"day": "10/03/2027", "kind": "away_all_day"}, "day", "Give a date such as 2026-04-01."),
        ({"day": "2027-03-10", "kind": "holiday"}, "kind", "Choose away all day, away for some hours, or extra hours."),
        ({"day": "2027-03-10", "kind": "away", "end": "12:00"}, "start", "This field is required."),
        (
            {"day": "2027-03-10", "kind": "extra", "start": "14:00", "end": "13:00"},
            "end",
            "The end must be after the start.",
        ),
        (
            {"day": "2027-03-10", "kind": "extra", "start": "noon", "end": "13:00"},
            "start",
            "Not a time of day such as 09:00.",
        ),
    ],
)
def test_bad_exception_is_refused_beside_the_field(client, login_as, data, field, message):
    interpreter = make_interpreter()
    login_as("staff")
    response = client.submit(f"/staff/interpreters/{interpreter.id}/exceptions", data)
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), field) == message
    assert _count(InterpreterException) == 0


def test_exception_of_another_interpreter_cannot_be_removed_through_this_one(client, login_as):
    mine = make_interpreter()
    theirs = make_interpreter()
    away = InterpreterException(interpreter_id=theirs.id, day=date(2027, 3, 10), available=False, note="")
    db.session.add(away)
    db.session.flush()
    login_as("staff")
    assert client.submit(f"/staff/interpreters/{mine.id}/exceptions/{away.id}/delete", {}).status_code == 404
    assert _count(InterpreterException) == 1


# --- list, detail --------------------------------------------------------------------------------


def _names(client, query: str = "") -> list[str]:
    html = client.get("/staff/interpreters" + query).get_data(as_text=True)
    return re.findall(r'<a href="/staff/interpreters/\d+">([^<]+)</a>', html)


def test_staff_list_search_and_filters(client, login_as):
    make_interpreter(name="Alpha Kim", email="alpha@voices.example.com", languages=("en",))
    make_interpreter(name="Beta Park", email="bp@lingua.example.com", languages=("ja", "en"))
    make_interpreter(name="Gamma Choi", email="gamma@voices.example.com", languages=("vi",), active=False)
    login_as("staff")
    assert _names(client) == ["Alpha Kim", "Beta Park"]
    assert _names(client, "?status=all") == ["Alpha Kim", "Beta Park", "Gamma Choi"]
    assert _names(client, "?status=inactive") == ["Gamma Choi"]
    assert _names(client, "?q=park") == ["Beta Park"]
    assert _names(client, "?q=voices.example&status=all") == ["Alpha Kim", "Gamma Choi"]
    assert _names(client, "?language=en") == ["Alpha Kim", "Beta Park"]
    assert _names(client, "?language=ja") == ["Beta Park"]
    assert _names(client, "?language=vi&status=all") == ["Gamma Choi"]
    assert _names(client, "?q=%25") == []  # LIKE wildcards are literal
    assert _names(client, "?status=bogus") == ["Alpha Kim", "Beta Park"]


def test_staff_list_paginates(client, login_as):
    for i in range(30):
        make_interpreter(name=f"Interpreter {i:02d}")
    login_as("staff")
    assert len(_names(client)) == 25
    assert len(_names(client, "?page=2")) == 5
    assert client.get("/staff/interpreters?page=99").status_code == 200
    assert client.get("/staff/interpreters?page=-1").status_code == 200


def test_staff_list_query_count_is_the_same_for_1_and_30_rows(client, login_as, count_queries):
    make_interpreter(languages=("en",), hours=((0, "09:00", "18:00"),))
    login_as("staff")
    client.get("/staff/interpreters")  # warm-up
    with count_queries() as one:
        assert client.get("/staff/interpreters").status_code == 200
    for i in range(29):
        interpreter = make_interpreter(languages=("en", "ja"), hours=((i % 7, "09:00", "18:00"),))
        db.session.add(InterpreterException(interpreter_id=interpreter.id, day=date(2027, 1, 1), note=""))
    db.session.commit()
    with count_queries() as many:
        assert client.get("/staff/interpreters").status_code == 200
    assert one.count == many.count
    print(f"interpreter list: {one.count} queries at 1 row, {many.count} at 30")


def test_detail_shows_upcoming_and_past_assignments_in_seoul_time(client, login_as):
    from tests.integration.test_buyers import make_buyer

    interpreter = make_interpreter(name="Kim Tongyeok")
    other = make_interpreter()
    buyer = make_buyer(country="VN", timezone="", languages=["vi"])
    now = utcnow()
    soon = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _assignment(interpreter, starts_at=soon, company=make_company(name_ko="다가올기업"), buyer=buyer)
    _assignment(interpreter, starts_at=seoul(2026, 4, 1, 8), company=make_company(name_ko="지난기업"), status="held")
    _assignment(other, starts_at=soon, company=make_company(name_ko="남의기업"))
    login_as("staff")
    html = client.get(f"/staff/interpreters/{interpreter.id}").get_data(as_text=True)
    upcoming, past = html.split("Past assignments", 1)
    assert "다가올기업" in upcoming and "Vietnam" in upcoming and "Confirmed" in upcoming
    assert "지난기업" in past and "Held" in past and "Wed 2026-04-01 08:00–08:50" in past
    assert "남의기업" not in html


def test_detail_and_portal_page_each_list_of_assignments_apart(client, login_as, monkeypatch):
    from consultroom.interpreters import queries
    from consultroom.interpreters.services import portal_token

    monkeypatch.setattr(queries, "ASSIGNMENTS_PER_PAGE", 2)
    interpreter = make_interpreter(name="Busy")
    days = [seoul(2026, 4, d, 10) for d in (1, 2, 3)]  # past: newest first, so the 1st is on page 2
    for day, name in zip(days, ("첫째기업", "둘째기업", "셋째기업"), strict=True):
        _assignment(interpreter, starts_at=day, company=make_company(name_ko=name), status="held")
    soon = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _assignment(interpreter, starts_at=soon, company=make_company(name_ko="다가올기업"))
    db.session.commit()
    token = portal_token(interpreter)
    login_as("staff")

    for base in (f"/staff/interpreters/{interpreter.id}", f"/interpreter/{token}"):
        first = client.get(base).get_data(as_text=True)
        second = client.get(f"{base}?past_page=2").get_data(as_text=True)

        assert "셋째기업" in first and "둘째기업" in first and "첫째기업" not in first, base
        assert "첫째기업" in second and "셋째기업" not in second and "다가올기업" in second, base
        assert 'aria-label="Pages of past assignments"' in first
        assert 'aria-label="Pages of upcoming assignments"' not in first  # one upcoming: no pager
        assert html_module.escape(f"{base}?past_page=2") in first


# --- portal: signed link and linked account ------------------------------------------------------


def _portal_path(link: str) -> str:
    return link.split("http://localhost", 1)[1]


def test_staff_mails_portal_link_in_the_interpreters_language(client, login_as):
    interpreter = make_interpreter(name="Lee Minji", email="minji@interp.example.com", locale="ko")
    staff = login_as("staff")
    response = client.submit(f"/staff/interpreters/{interpreter.id}/portal-link", {})
    assert response.status_code == 302
    mail = db.session.scalar(select(OutboxMail))
    assert (mail.to_addr, mail.template, mail.locale) == ("minji@interp.example.com", "interpreter_portal", "ko")
    assert "Lee Minji" in mail.body_text and "30" in mail.body_text
    [link] = outbox_links("minji@interp.example.com")
    assert link.startswith("http://localhost/interpreter/") and link.endswith("?lang=ko")
    [entry] = _audit("interpreter.portal_link")
    assert (entry.actor_id, entry.after) == (staff.id, {"mail_id": mail.id})
    page = client.get(_portal_path(link))
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Lee Minji" in page.get_data(as_text=True)


def test_inactive_interpreter_gets_no_link(client, login_as):
    interpreter = make_interpreter(active=False)
    login_as("staff")
    client.submit(f"/staff/interpreters/{interpreter.id}/portal-link", {})
    assert _count(OutboxMail) == 0


def test_portal_lists_own_upcoming_and_past_assignments_only(client):
    from tests.integration.test_buyers import make_buyer

    interpreter = make_interpreter(name="Mine")
    other = make_interpreter(name="Other")
    buyer = make_buyer(country="JP", timezone="Asia/Tokyo", languages=["ja"])
    now = utcnow()
    base = (now + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    _assignment(
        interpreter,
        starts_at=base,
        company=make_company(name_ko="확정기업", name_en="Confirmed Co"),
        buyer=buyer,
        products="유기농 녹차",
        meeting_url="https://meet.example.com/abc",
        response="accepted",
    )
    _assignment(
        interpreter,
        starts_at=base + timedelta(hours=2),
        status="matched",
        company=make_company(name_ko="제안기업"),
        meeting_url="https://meet.example.com/not-yet",
        response="pending",
    )
    _assignment(
        interpreter, starts_at=base + timedelta(hours=4), status="cancelled", company=make_company(name_ko="취소기업")
    )
    _assignment(interpreter, starts_at=now - timedelta(days=2), status="held", company=make_company(name_ko="지난기업"))
    _assignment(
        other, starts_at=base, company=make_company(name_ko="남의기업"), meeting_url="https://meet.example.com/x"
    )
    token = portal_token(interpreter)
    db.session.commit()
    response = client.get(f"/interpreter/{token}?lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "확정기업" in html and "Confirmed Co" in html and "유기농 녹차" in html
    assert "Japan · Japanese" in html
    assert "https://meet.example.com/abc" in html
    assert "제안기업" in html and "Awaiting your answer" in html and "Accepted" in html
    assert "https://meet.example.com/not-yet" not in html  # only a confirmed consultation shows its link
    for absent in ("취소기업", "남의기업", "Other", "https://meet.example.com/x"):
        assert absent not in html, absent
    # Past assignments are listed apart, after the upcoming ones (issue 13, item 7).
    past = html.split("Past assignments", 1)
    assert "지난기업" in past[1] and "지난기업" not in past[0]
    assert response.headers["Cache-Control"] == "no-store"


def test_portal_time_is_shown_in_seoul(client):
    interpreter = make_interpreter()
    starts = (utcnow() + timedelta(days=400)).replace(hour=1, minute=0, second=0, microsecond=0)  # 10:00 in Seoul
    _assignment(interpreter, starts_at=starts)
    token = portal_token(interpreter)
    db.session.commit()
    html = client.get(f"/interpreter/{token}?lang=en").get_data(as_text=True)
    assert f"{starts.date():%Y-%m-%d} 10:00–10:50" in html
    assert f'datetime="{starts.isoformat()}"' in html


def test_portal_tampered_or_foreign_token_is_400(client):
    interpreter = make_interpreter()
    token = portal_token(interpreter)
    db.session.commit()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "not-a-valid-token", make_token("reset-password", {"i": interpreter.id})):
        response = client.get(f"/interpreter/{bad}?lang=en")
        assert response.status_code == 400, bad
        assert "This link is not valid." in response.get_data(as_text=True)


def test_portal_expired_token_is_410(app, client):
    interpreter = make_interpreter()
    token = portal_token(interpreter)
    db.session.commit()
    assert app.config["INTERPRETER_PORTAL_MAX_AGE"] == 30 * 24 * 3600
    app.config["INTERPRETER_PORTAL_MAX_AGE"] = -1  # every token is older than that
    try:
        response = client.get(f"/interpreter/{token}?lang=en")
    finally:
        app.config["INTERPRETER_PORTAL_MAX_AGE"] = 30 * 24 * 3600
    assert response.status_code == 410
    assert "This link has expired." in response.get_data(as_text=True)
    assert client.get(f"/interpreter/{token}").status_code == 200  # 30 days by default


def test_portal_token_stops_working_when_the_email_changes(client):
    interpreter = make_interpreter(email="old@interp.example.com")
    token = portal_token(interpreter)
    update_interpreter(
        interpreter=interpreter, data={"email": "new@interp.example.com"}, actor=make_user("staff"), partial=True
    )
    db.session.commit()
    assert client.get(f"/interpreter/{token}").status_code == 400


def test_portal_token_of_a_removed_interpreter_is_400(client):
    interpreter = make_interpreter()
    token = portal_token(interpreter)
    db.session.delete(interpreter)
    db.session.commit()
    assert client.get(f"/interpreter/{token}").status_code == 400


def test_linked_account_sees_own_assignments_at_me(client, login_as, make_client):
    user = make_user("sme")
    interpreter = make_interpreter(user=user)
    other = make_interpreter()
    base = (utcnow() + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    _assignment(interpreter, starts_at=base, company=make_company(name_ko="내기업"))
    _assignment(other, starts_at=base, company=make_company(name_ko="남의기업"))
    login_as(user)
    response = client.get("/interpreter/me")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "내기업" in html and "남의기업" not in html
    unlinked = make_client()
    login_as("sme", on=unlinked)
    assert unlinked.get("/interpreter/me").status_code == 404
    staff = make_client()
    login_as("staff", on=staff)
    assert staff.get("/interpreter/me").status_code == 404
    assert make_client().get("/interpreter/me").headers["Location"].startswith("/login")


# --- monthly report ------------------------------------------------------------------------------


@pytest.fixture
def april():
    """Hand-computed: Kim has 3 sessions of 50 min in April (Seoul) = 2.5 h; Lee 1 of 90 min = 1.5 h."""
    kim = make_interpreter(name="Kim", languages=("en", "zh"))
    lee = make_interpreter(name="Lee", languages=("ja",))
    idle = make_interpreter(name="Idle", languages=("vi",))
    # 2026-04-01 08:00 in Seoul is 2026-03-31 23:00 UTC: April.
    boundary = _assignment(kim, starts_at=seoul(2026, 4, 1, 8))
    assert boundary.starts_at == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    _assignment(kim, starts_at=seoul(2026, 4, 15, 10), status="held")
    _assignment(kim, starts_at=seoul(2026, 4, 30, 23))  # 14:00 UTC on the 30th, the last hour of April
    _assignment(kim, starts_at=seoul(2026, 4, 15, 14), status="cancelled")  # never counted
    _assignment(kim, starts_at=seoul(2026, 4, 16, 10), status="matched")  # not confirmed yet
    _assignment(kim, starts_at=seoul(2026, 4, 17, 10), status="no_show")  # not interpreted
    _assignment(kim, starts_at=seoul(2026, 5, 1, 0))  # May in Seoul (still April 30 in UTC)
    _assignment(kim, starts_at=seoul(2026, 3, 31, 22))  # March
    _assignment(lee, starts_at=seoul(2026, 4, 20, 10), minutes=90, status="held")
    _assignment(None, starts_at=seoul(2026, 4, 21, 10))  # no interpreter
    gone = make_interpreter(name="Gone", active=False)
    _assignment(gone, starts_at=seoul(2026, 3, 10, 10))  # inactive, worked in March only
    db.session.commit()
    return kim, lee, idle, gone


def _figures(html: str) -> dict[str, tuple[str, str]]:
    sessions = dict(re.findall(r'data-sessions="(\w+)">([^<]*)<', html))
    hours = dict(re.findall(r'data-hours="(\w+)">([^<]*)<', html))
    return {key: (sessions[key], hours[key]) for key in sessions}


def test_report_counts_confirmed_and_held_sessions_in_the_seoul_month(client, login_as, april):
    kim, lee, idle, gone = april
    login_as("staff")
    response = client.get("/staff/interpreters/report?month=2026-04")
    assert response.status_code == 200
    assert _figures(response.get_data(as_text=True)) == {
        str(kim.id): ("3", "2.5"),
        str(lee.id): ("1", "1.5"),
        str(idle.id): ("0", "0"),
        "total": ("4", "4"),
    }
    march = _figures(client.get("/staff/interpreters/report?month=2026-03").get_data(as_text=True))
    assert march == {
        str(kim.id): ("1", "0.83"),
        str(lee.id): ("0", "0"),
        str(idle.id): ("0", "0"),
        str(gone.id): ("1", "0.83"),
        "total": ("2", "1.67"),
    }
    may = _figures(client.get("/staff/interpreters/report?month=2026-05").get_data(as_text=True))
    assert may[str(kim.id)] == ("1", "0.83") and may["total"] == ("1", "0.83")


def test_report_pages_its_rows_and_keeps_the_months_totals(client, login_as, april, monkeypatch):
    from consultroom.interpreters import views

    login_as("staff")
    whole = _figures(client.get("/staff/interpreters/report?month=2026-03").get_data(as_text=True))
    monkeypatch.setattr(views, "REPORT_ROWS_PER_PAGE", 3)

    first = _figures(client.get("/staff/interpreters/report?month=2026-03").get_data(as_text=True))
    second = _figures(client.get("/staff/interpreters/report?month=2026-03&page=2").get_data(as_text=True))

    assert first["total"] == second["total"] == whole["total"] == ("2", "1.67")
    assert (len(first), len(second)) == (4, 2)  # three rows and the total, then the fourth and the total
    assert {**first, **second} == whole


def test_report_csv_has_a_bom_and_the_same_figures(client, login_as, april):
    kim, lee, _idle, _gone = april
    kim.name = "김통역"
    db.session.commit()
    login_as("staff")
    response = client.get("/staff/interpreters/report.csv?month=2026-04")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="interpreters-2026-04.csv"'
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [
        ["Month", "Interpreter", "E-mail", "Languages", "Sessions", "Hours"],
        ["2026-04", "Idle", _idle.email, "Vietnamese", "0", "0"],
        ["2026-04", "Lee", lee.email, "Japanese", "1", "1.5"],
        ["2026-04", "김통역", kim.email, "English, Chinese", "3", "2.5"],
        ["2026-04", "Total", "", "", "4", "4"],
    ]


def test_report_csv_keeps_formulas_as_text(client, login_as):
    make_interpreter(name='=HYPERLINK("http://evil.example")')
    login_as("staff")
    raw = client.get("/staff/interpreters/report.csv?month=2026-04").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in raw


@pytest.mark.parametrize("month", ["2026-13", "2026-4", "April", "0999-01", "2026-04-01"])
def test_report_bad_month_is_a_clear_400(client, login_as, month):
    login_as("staff")
    response = client.get(f"/staff/interpreters/report?month={month}")
    assert response.status_code == 400
    assert _field_error(response.get_data(as_text=True), "month") == "Give the month as YYYY-MM, e.g. 2026-04."
    csv_response = client.get(f"/staff/interpreters/report.csv?month={month}")
    assert csv_response.status_code == 400
    assert "Give the month as YYYY-MM, e.g. 2026-04." in csv_response.get_data(as_text=True)


def test_report_without_month_shows_the_current_seoul_month(client, login_as):
    from consultroom.timeutil import SEOUL

    login_as("staff")
    html = client.get("/staff/interpreters/report").get_data(as_text=True)
    assert f'value="{utcnow().astimezone(SEOUL):%Y-%m}"' in html


def test_report_query_count_is_the_same_for_1_and_30_interpreters(client, login_as, count_queries):
    first = make_interpreter()
    _assignment(first, starts_at=seoul(2026, 4, 2, 10))
    login_as("staff")
    url = "/staff/interpreters/report?month=2026-04"
    csv_url = url.replace("report?", "report.csv?")
    client.get(url)  # warm-up
    with count_queries() as one:
        assert client.get(url).status_code == 200
    with count_queries() as one_csv:
        assert client.get(csv_url).status_code == 200
    for i in range(29):
        interpreter = make_interpreter(languages=("en", "ja"))
        _assignment(interpreter, starts_at=seoul(2026, 4, 3 + i % 20, 10 + i % 5))
    db.session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    with count_queries() as many_csv:
        assert client.get(csv_url).status_code == 200
    assert (many.count, many_csv.count) == (one.count, one_csv.count)
    print(f"interpreter report: {one.count} queries at 1 interpreter, {many.count} at 30")


# --- access --------------------------------------------------------------------------------------


def test_non_staff_get_404_on_every_interpreter_route(client, login_as, make_client):
    interpreter = make_interpreter(hours=())  # no hours: a row after the refused posts would be one they wrote
    away = InterpreterException(interpreter_id=interpreter.id, day=date(2027, 3, 10), available=False, note="")
    db.session.add(away)
    db.session.commit()
    sme, _company = make_sme_with_company()
    login_as(sme)
    base = f"/staff/interpreters/{interpreter.id}"
    for url in (
        "/staff/interpreters",
        "/staff/interpreters/new",
        base,
        base + "/edit",
        base + "/hours",
        base + "/exceptions",
        "/staff/interpreters/report",
        "/staff/interpreters/report.csv",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        ("/staff/interpreters/new", FORM),
        (base + "/edit", FORM),
        (base + "/active", {"active": "0"}),
        (base + "/hours", {"day_0": "09:00-10:00"}),
        (base + "/exceptions", {"day": "2027-03-11", "kind": "away_all_day"}),
        (base + f"/exceptions/{away.id}/delete", {}),
        (base + "/portal-link", {}),
    ):
        assert client.submit(url, data).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(Interpreter, interpreter.id).active is True
    assert (_count(), _count(InterpreterException), _count(InterpreterHours), _count(OutboxMail)) == (1, 1, 0, 0)
    assert _audit("interpreter.update") == []
    assert make_client().get("/staff/interpreters").headers["Location"].startswith("/login")
