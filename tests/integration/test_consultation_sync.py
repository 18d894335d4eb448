"""Issue 13, items 1 and 2: every change to a matched or confirmed consultation reaches every party,
with a calendar update that keeps the UID and raises SEQUENCE; cancelling needs a reason."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from icalendar import Calendar
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.consultations.changes import cancel_booking, cancel_round, move_booking, request_cancellation
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import InterpreterException
from consultroom.matching.services import clear_match, propose_match, set_meeting_url
from consultroom.notifications.delivery import _Due, build_message
from consultroom.notifications.models import OutboxMail
from consultroom.rounds.models import Slot
from consultroom.timeutil import SEOUL
from tests.factories import (
    SlotFactory,
    accept_both,
    make_booking,
    make_buyer,
    make_interpreter,
    make_round,
    make_user,
    propose,
)
from tests.formatting import full_moment


@pytest.fixture(autouse=True)
def _english_messages(app):
    with force_locale("en"):
        yield


@pytest.fixture
def confirmed(app):
    """A confirmed consultation: company (Korean SME user), buyer in New York, Korean-reading interpreter."""
    rnd = make_round(booths=2, slots_per_booth=3)
    booking = make_booking(rnd.slots[0])
    buyer = make_buyer()
    interpreter = make_interpreter(locale="ko")
    staff = make_user("staff", locale="en")
    accept_both(propose(booking, buyer=buyer, interpreter=interpreter, actor=staff))
    assert booking.status == "confirmed"
    sme = db.session.scalar(select(type(staff)).where(type(staff).company_id == booking.company_id))
    db.session.commit()
    return {"round": rnd, "booking": booking, "buyer": buyer, "interpreter": interpreter, "staff": staff, "sme": sme}


def ko(msgid: str, **values) -> str:
    with force_locale("ko"):
        text = gettext(msgid, **values)
    assert text != msgid % values, f"no Korean translation for {msgid!r}"
    return text


def _mails_after(mark: int, template: str | None = None) -> list[OutboxMail]:
    stmt = select(OutboxMail).where(OutboxMail.id > mark).order_by(OutboxMail.id)
    if template:
        stmt = stmt.where(OutboxMail.template == template)
    return list(db.session.scalars(stmt))


def _mark() -> int:
    return db.session.scalar(select(OutboxMail.id).order_by(OutboxMail.id.desc()).limit(1)) or 0


def _event(mail: OutboxMail):
    cal = Calendar.from_ical(mail.ics_body)
    return cal, next(iter(cal.walk("VEVENT")))


def _by_recipient(mails: list[OutboxMail]) -> dict[str, OutboxMail]:
    return {m.to_addr: m for m in mails}


def _link(mail: OutboxMail, kind: str) -> str:
    for url in re.findall(r"https?://\S+", mail.body_text):
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        if path.startswith("/respond/") and f"answer={kind}" in path:
            return path.split("?", 1)[0]
    raise AssertionError(f"no {kind} link in {mail.body_text}")


# --- cancellation --------------------------------------------------------------------------------


def test_sme_cancel_of_confirmed_consultation_tells_every_party_and_staff(confirmed):
    s = confirmed
    booking = s["booking"]
    sequence_before = booking.ics_sequence
    mark = _mark()

    cancel_booking(booking=booking, actor=s["sme"], reason="공장 점검")

    parties = _by_recipient(_mails_after(mark, "consultation_cancelled"))
    assert set(parties) == {s["buyer"].email, s["interpreter"].email}
    assert parties[s["buyer"].email].locale == "en"
    assert parties[s["interpreter"].email].locale == "ko"
    # The company's own reason is not passed on to the buyer and the interpreter.
    assert "공장 점검" not in parties[s["buyer"].email].body_text
    (company_mail,) = _mails_after(mark, "booking_cancelled")
    assert company_mail.to_addr == s["sme"].email and "공장 점검" in company_mail.body_text
    (staff_mail,) = _mails_after(mark, "booking_cancelled_staff")
    assert staff_mail.to_addr == s["staff"].email
    assert staff_mail.subject == f"Booking cancelled by the company: {booking.company.display_name}"
    assert "공장 점검" in staff_mail.body_text
    for mail in [*parties.values(), company_mail]:
        cal, event = _event(mail)
        assert mail.ics_method == "CANCEL" and cal["method"] == "CANCEL"
        assert str(event["uid"]) == f"booking-{booking.id}@consultroom"
        assert event["sequence"] == sequence_before + 1
        assert str(event["status"]) == "CANCELLED"
    assert booking.cancel_reason == "공장 점검"


def test_staff_cancel_tells_parties_and_company_but_not_staff(confirmed):
    s = confirmed
    mark = _mark()

    cancel_booking(booking=s["booking"], actor=s["staff"], reason="Typhoon")

    templates = sorted(m.template for m in _mails_after(mark))
    assert templates == ["booking_cancelled", "consultation_cancelled", "consultation_cancelled"]


def test_cancel_without_reason_is_invalid_and_changes_nothing(confirmed):
    s = confirmed
    mark = _mark()
    with pytest.raises(Invalid) as exc:
        cancel_booking(booking=s["booking"], actor=s["sme"], reason="  ")
    assert exc.value.fields == {"reason": ["Give a reason for the cancellation."]}
    assert s["booking"].status == "confirmed"
    assert _mails_after(mark) == []


def test_round_cancel_tells_buyer_and_interpreter_too(confirmed):
    s = confirmed
    mark = _mark()

    cancel_round(rnd=s["round"], actor=s["staff"], reason="Typhoon")

    by_template = sorted((m.template, m.to_addr) for m in _mails_after(mark))
    assert by_template == sorted(
        [
            ("consultation_cancelled", s["buyer"].email),
            ("consultation_cancelled", s["interpreter"].email),
            ("round_cancelled", s["sme"].email),
        ]
    )
    assert all(m.ics_method == "CANCEL" for m in _mails_after(mark))


def test_sme_after_deadline_asks_staff_who_are_mailed(app):
    now = datetime.now(UTC)
    rnd = make_round(day=(now + timedelta(days=1)).date(), cancel_hours=72)
    slot = next(x for x in rnd.slots if x.starts_at > now + timedelta(hours=2))
    booking = make_booking(slot)
    staff = make_user("staff", locale="en")
    sme = booking.company.users[0]
    with pytest.raises(Conflict, match="deadline has passed"):
        cancel_booking(booking=booking, actor=sme, reason="late")
    mark = _mark()

    request_cancellation(booking=booking, actor=sme, reason="수출 일정")

    assert booking.status == "requested" and booking.cancel_request_reason == "수출 일정"
    (mail,) = _mails_after(mark)
    assert (mail.template, mail.to_addr) == ("cancel_request_staff", staff.email)
    assert "수출 일정" in mail.body_text
    with pytest.raises(Conflict, match="already asked"):
        request_cancellation(booking=booking, actor=sme, reason="again")
    # Staff decide: they may cancel after the deadline.
    cancel_booking(booking=booking, actor=staff, reason="Agreed with the company")
    assert booking.status == "cancelled"


# --- moving ---------------------------------------------------------------------------------------


def test_move_of_confirmed_consultation_asks_buyer_and_interpreter_again(confirmed, client):
    s = confirmed
    booking = s["booking"]
    old_accept = {}
    for party in ("buyer", "interpreter"):
        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.template == "match_proposed", OutboxMail.to_addr == s[party].email)
        )
        old_accept[party] = _link(mail, "accept")
    version, sequence = booking.match_version, booking.ics_sequence
    new_slot = s["round"].slots[2]
    mark = _mark()

    move_booking(booking=booking, slot=new_slot, actor=s["staff"])

    assert booking.starts_at == new_slot.starts_at
    assert booking.status == "matched"
    assert (booking.buyer_response, booking.interpreter_response) == ("pending", "pending")
    assert booking.match_version == version + 1
    moved = _by_recipient(_mails_after(mark, "match_moved"))
    assert set(moved) == {s["buyer"].email, s["interpreter"].email}
    (company_mail,) = _mails_after(mark, "booking_moved")
    assert company_mail.locale == "ko"
    reconfirm = (
        "We have asked the buyer and the interpreter to confirm the new time, and will write again when they have."
    )
    assert ko(reconfirm) in company_mail.body_text
    for mail in [*moved.values(), company_mail]:
        cal, event = _event(mail)
        assert cal["method"] == "REQUEST"
        assert str(event["uid"]) == f"booking-{booking.id}@consultroom"
        assert event["sequence"] == sequence + 1
        assert event["dtstart"].dt == new_slot.starts_at
    db.session.commit()
    # The old links no longer answer; the new ones do, and both answers confirm it again.
    assert client.submit(old_accept["buyer"], {"answer": "accept"}).status_code == 410
    for party in ("buyer", "interpreter"):
        assert client.submit(_link(moved[s[party].email], "accept"), {"answer": "accept"}).status_code == 302
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def test_decline_of_moved_time_returns_booking_to_staff(confirmed, client):
    s = confirmed
    booking = s["booking"]
    move_booking(booking=booking, slot=s["round"].slots[2], actor=s["staff"])
    db.session.commit()
    decline = _link(_mails_after(0, "match_moved")[0], "decline")
    mark = _mark()

    assert client.submit(decline, {"answer": "decline"}).status_code == 302

    db.session.refresh(booking)
    assert booking.status == "requested" and booking.buyer_id is None
    templates = sorted(m.template for m in _mails_after(mark))
    assert templates == ["match_off", "match_off_company", "match_staff"]
    (company_mail,) = _mails_after(mark, "match_off_company")
    assert company_mail.locale == "ko"
    declined = (
        "The buyer or the interpreter declined your consultation on %(when)s. "
        "We are looking for another match and will write again."
    )
    assert ko(declined, when="X").split("X")[-1] in company_mail.body_text


def test_move_refused_when_buyer_is_busy_at_the_new_time(confirmed):
    s = confirmed
    other = make_booking(s["round"].slots[2])
    propose_match(booking=other, buyer=s["buyer"], interpreter=make_interpreter(), actor=s["staff"])
    mark = _mark()
    with pytest.raises(Conflict, match=f"The buyer {s['buyer'].company_name} already has a consultation"):
        move_booking(booking=s["booking"], slot=s["round"].slots[3], actor=s["staff"])
    assert s["booking"].slot_id == s["round"].slots[0].id
    assert _mails_after(mark) == []


def test_move_refused_when_the_interpreter_does_not_work_at_the_new_time(confirmed):
    s = confirmed
    new_slot = s["round"].slots[2]
    seoul_start = new_slot.starts_at.astimezone(SEOUL)
    away = InterpreterException(
        interpreter_id=s["interpreter"].id,
        day=seoul_start.date(),
        available=False,
        start=seoul_start.time(),
        end=(seoul_start + timedelta(minutes=30)).time(),
        note="dentist",
    )
    db.session.add(away)
    db.session.flush()
    db.session.expire(s["interpreter"], ["exceptions"])
    version, sequence = s["booking"].match_version, s["booking"].ics_sequence
    mark = _mark()

    with pytest.raises(Conflict, match=f"The interpreter {s['interpreter'].name} does not work at the new time"):
        move_booking(booking=s["booking"], slot=new_slot, actor=s["staff"])

    booking = s["booking"]
    assert (booking.slot_id, booking.status, booking.interpreter_id) == (
        s["round"].slots[0].id,
        "confirmed",
        s["interpreter"].id,
    )
    assert (booking.match_version, booking.ics_sequence) == (version, sequence)
    assert _mails_after(mark) == []


def _slot_next_day(rnd, booth: int, hours_later: int) -> Slot:
    start = rnd.slots[0].starts_at + timedelta(days=1, hours=hours_later)
    return SlotFactory(round=rnd, booth=booth, starts_at=start)


def test_move_refused_when_the_interpreter_has_the_new_days_most_sessions(confirmed):
    s = confirmed
    s["interpreter"].max_sessions_per_day = 1
    busy_day = make_booking(_slot_next_day(s["round"], 5, 0))
    propose_match(booking=busy_day, buyer=make_buyer(), interpreter=s["interpreter"], actor=s["staff"])
    target = _slot_next_day(s["round"], 6, 2)
    mark = _mark()

    with pytest.raises(Conflict, match="already has 1 sessions on the day of the new time"):
        move_booking(booking=s["booking"], slot=target, actor=s["staff"])

    assert s["booking"].slot_id == s["round"].slots[0].id
    assert _mails_after(mark) == []


def test_move_within_the_day_does_not_count_the_booking_twice(confirmed):
    s = confirmed
    s["interpreter"].max_sessions_per_day = 1

    move_booking(booking=s["booking"], slot=s["round"].slots[2], actor=s["staff"])

    assert s["booking"].slot_id == s["round"].slots[2].id


def test_move_forgets_reminders_of_the_old_time(confirmed):
    from consultroom.bookings.models import ReminderSent

    s = confirmed
    db.session.add(ReminderSent(booking_id=s["booking"].id, kind="day", recipient="company"))
    db.session.flush()
    move_booking(booking=s["booking"], slot=s["round"].slots[2], actor=s["staff"])
    assert db.session.scalars(select(ReminderSent)).all() == []


# --- unmatch, new party, new link ---------------------------------------------------------------


def test_clear_match_cancels_the_parties_events_and_updates_the_companys(confirmed):
    s = confirmed
    sequence = s["booking"].ics_sequence
    mark = _mark()

    clear_match(booking=s["booking"], actor=s["staff"], reason="wrong buyer")

    mails = _mails_after(mark)
    assert sorted((m.template, m.ics_method) for m in mails) == [
        ("match_off", "CANCEL"),
        ("match_off", "CANCEL"),
        ("match_off_company", "REQUEST"),
    ]
    assert {_event(m)[1]["sequence"] for m in mails} == {sequence + 1}


def test_new_buyer_tells_the_old_one_with_a_cancel(confirmed):
    s = confirmed
    s["booking"].status = "matched"  # a proposal can be replaced before confirmation
    new_buyer = make_buyer()
    mark = _mark()

    propose_match(booking=s["booking"], buyer=new_buyer, interpreter=s["interpreter"], actor=s["staff"])

    (off,) = _mails_after(mark, "match_off")
    assert off.to_addr == s["buyer"].email and off.ics_method == "CANCEL"
    assert {m.to_addr for m in _mails_after(mark, "match_proposed")} == {new_buyer.email, s["interpreter"].email}


def test_new_meeting_link_sends_a_request_with_the_link_and_a_higher_sequence(confirmed):
    s = confirmed
    sequence = s["booking"].ics_sequence
    mark = _mark()

    set_meeting_url(booking=s["booking"], url="https://zoom.example/j/123", actor=s["staff"])

    mails = _mails_after(mark)
    assert sorted(m.template for m in mails) == ["match_confirmed", "match_confirmed", "match_confirmed_company"]
    for mail in mails:
        _cal, event = _event(mail)
        assert mail.ics_method == "REQUEST"
        assert event["sequence"] == sequence + 1
        assert str(event["location"]) == "https://zoom.example/j/123"
        assert str(event["url"]) == "https://zoom.example/j/123"


def test_audit_has_the_cancel_reason(confirmed):
    s = confirmed
    cancel_booking(booking=s["booking"], actor=s["staff"], reason="Typhoon")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booking.cancel"))
    assert entry.after["reason"] == "Typhoon"


# --- delivery --------------------------------------------------------------------------------------


def test_delivered_mail_carries_the_calendar_part_with_its_method(confirmed):
    s = confirmed
    mark = _mark()
    cancel_booking(booking=s["booking"], actor=s["staff"], reason="Typhoon")
    row = _mails_after(mark, "consultation_cancelled")[0]
    claimed = _Due.of(db.session.get(OutboxMail, row.id))

    parsed = email.message_from_bytes(build_message(claimed, "Consultroom <no-reply@consultroom.local>").as_bytes())

    parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == "CANCEL"
    assert Calendar.from_ical(parts[0].get_payload(decode=True))["method"] == "CANCEL"


def test_booking_ics_download_keeps_the_stored_sequence(confirmed, client, login_as):
    s = confirmed
    login_as(s["sme"])
    first = Calendar.from_ical(client.get(f"/bookings/{s['booking'].id}.ics").data)
    second = Calendar.from_ical(client.get(f"/bookings/{s['booking'].id}.ics").data)
    event = next(iter(first.walk("VEVENT")))
    assert first["method"] == "PUBLISH"
    assert (
        event["sequence"]
        == next(iter(second.walk("VEVENT")))["sequence"]
        == db.session.get(Booking, s["booking"].id).ics_sequence
    )
    assert str(event["location"]) == s["booking"].meeting_url
    assert s["buyer"].company_name in str(event["description"])
    assert s["interpreter"].name in str(event["description"])


# --- reminders (item 6) ----------------------------------------------------------------------------


def _reminders() -> list[tuple[str, str]]:
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.template.like("reminder_%")).order_by(OutboxMail.id))
    return sorted((m.template, m.to_addr) for m in mails)


def test_reminders_reach_all_three_parties_once_across_restarts(confirmed):
    from consultroom.scheduler.models import JobRun
    from consultroom.scheduler.runner import run_job

    s = confirmed
    starts = s["booking"].starts_at
    everyone = (s["sme"].email, s["buyer"].email, s["interpreter"].email)
    day_before = starts - timedelta(hours=23)

    assert run_job("send_reminders", now=day_before).status == "succeeded"
    # A restarted scheduler: a fresh session, and the job-run rows gone as if a new period began.
    db.session.remove()
    db.session.execute(JobRun.__table__.delete())
    db.session.commit()
    assert run_job("send_reminders", now=day_before).status == "succeeded"
    run_job("send_reminders", now=day_before + timedelta(minutes=5))
    hour_before = starts - timedelta(minutes=50)
    run_job("send_reminders", now=hour_before)
    run_job("send_reminders", now=hour_before + timedelta(minutes=5))

    expected = [("reminder_day", everyone[0]), ("reminder_hour", everyone[0])]
    expected += [(f"reminder_{k}_party", who) for k in ("day", "hour") for who in everyone[1:]]
    assert _reminders() == sorted(expected)


def test_party_reminder_is_in_the_readers_language_and_zone_with_the_join_link(confirmed):
    from zoneinfo import ZoneInfo

    from consultroom.scheduler.runner import run_job

    s = confirmed
    run_job("send_reminders", now=s["booking"].starts_at - timedelta(minutes=50))
    buyer_mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == s["buyer"].email, OutboxMail.template == "reminder_hour_party")
    )
    interp_mail = db.session.scalar(
        select(OutboxMail).where(
            OutboxMail.to_addr == s["interpreter"].email, OutboxMail.template == "reminder_hour_party"
        )
    )
    company_mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "reminder_hour"))

    ny = full_moment(s["booking"].starts_at, ZoneInfo("America/New_York"), "en")
    assert buyer_mail.locale == "en" and f"Time: {ny}" in buyer_mail.body_text
    assert interp_mail.locale == "ko"
    for mail in (buyer_mail, interp_mail, company_mail):
        assert s["booking"].meeting_url in mail.body_text


def test_unconfirmed_proposal_reminds_only_the_company(app):
    from consultroom.scheduler.runner import run_job

    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    propose(booking)
    db.session.commit()

    run_job("send_reminders", now=booking.starts_at - timedelta(minutes=50))

    assert [t for t, _to in _reminders()] == ["reminder_day", "reminder_hour"]


# --- before the call (item 4) ------------------------------------------------------------------------


def test_company_page_after_confirmation_shows_the_buyer_profile_and_interpreter(confirmed, client, login_as):
    s = confirmed
    s["sme"].timezone = "Europe/Berlin"
    s["sme"].locale = "en"
    login_as(s["sme"])

    html = client.get(f"/bookings/{s['booking'].id}").get_data(as_text=True)

    profile = html.split('id="buyer-profile"', 1)[1].split("</dl>", 1)[0]
    assert s["buyer"].company_name in profile and "United States" in profile and "English" in profile
    assert f"Interpreter: {s['interpreter'].name}" in html
    assert s["booking"].meeting_url in html
    assert "What to prepare" in html
    assert "Time in Seoul:" in html  # the user reads Berlin time, and Seoul's beside it


def test_company_page_before_confirmation_shows_only_the_buyers_country(app, client, login_as):
    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    buyer = make_buyer()
    propose_match(booking=booking, buyer=buyer, interpreter=make_interpreter(), actor=make_user("staff"))
    sme = booking.company.users[0]
    sme.locale = "en"
    login_as(sme)

    html = client.get(f"/bookings/{booking.id}").get_data(as_text=True)

    assert "A buyer from United States has been proposed" in html
    assert buyer.company_name not in html and 'id="buyer-profile"' not in html


def test_company_page_of_another_company_is_404(confirmed, client, login_as):
    from tests.factories import make_sme_with_company

    other, _company = make_sme_with_company()
    login_as(other)
    assert client.get(f"/bookings/{confirmed['booking'].id}").status_code == 404


def test_calendar_links_lead_to_each_partys_own_page(confirmed):
    s = confirmed
    mark = _mark()
    set_meeting_url(booking=s["booking"], url="https://zoom.example/j/9", actor=s["staff"])
    mails = _by_recipient(_mails_after(mark))
    company_event = _event(mails[s["sme"].email])[1]
    buyer_event = _event(mails[s["buyer"].email])[1]
    assert f"http://localhost/bookings/{s['booking'].id}" in str(company_event["description"])
    assert "http://localhost/respond/" in str(buyer_event["description"])
    assert s["booking"].company.name_en in str(buyer_event["summary"])
    assert s["buyer"].company_name in str(buyer_event["summary"])


def test_move_audit_has_the_match_going_back_to_its_parties(confirmed):
    s = confirmed
    version = s["booking"].match_version
    move_booking(booking=s["booking"], slot=s["round"].slots[2], actor=s["staff"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booking.move"))
    assert entry.actor_id == s["staff"].id
    assert entry.before["status"] == "confirmed" and entry.after["status"] == "matched"
    assert (entry.before["match_version"], entry.after["match_version"]) == (version, version + 1)
    assert entry.after["buyer_response"] == "pending"


def test_proposal_mail_never_ends_a_sentence_with_the_company_name(app):
    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    booking.company.name_en = "Seoul Foods Co., Ltd."
    buyer = make_buyer()
    buyer.company_name = "Acme Imports Inc."
    interpreter = make_interpreter(locale="en")
    propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=make_user("staff"))

    for to in (buyer.email, interpreter.email):
        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.template == "match_proposed", OutboxMail.to_addr == to)
        )
        assert ".." not in mail.body_text
        assert "Company: Seoul Foods Co., Ltd.\n" in mail.body_text
    interp_mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == interpreter.email))
    assert "Buyer: Acme Imports Inc.\n" in interp_mail.body_text
