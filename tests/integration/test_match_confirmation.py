"""Issue 4, item 5: proposing a buyer and an interpreter, their answers by signed link, lapses."""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.consultations.changes import cancel_booking
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import InterpreterException
from consultroom.matching import confirmation
from consultroom.matching.services import clear_match, propose_match, respond, set_meeting_url
from consultroom.notifications.models import OutboxMail
from consultroom.scheduler.runner import run_job
from consultroom.timeutil import SEOUL
from tests.conftest import recent
from tests.factories import accept_both, make_booking, make_buyer, make_interpreter, make_round, make_user
from tests.factories.matching import use_policy
from tests.formatting import full_moment

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Service messages outside a request follow the default locale (Korean); read them in English."""
    with force_locale("en"):
        yield


@pytest.fixture
def setup(app):
    rnd = make_round(booths=2, slots_per_booth=3)
    booking = make_booking(rnd.slots[0])
    buyer = make_buyer()
    interpreter = make_interpreter(locale="ko")
    staff = make_user("staff", locale="ko")
    return {"round": rnd, "booking": booking, "buyer": buyer, "interpreter": interpreter, "staff": staff}


def _propose(s, **kw):
    args = {"booking": s["booking"], "buyer": s["buyer"], "interpreter": s["interpreter"], "actor": s["staff"]}
    return propose_match(**{**args, **kw})


def _mails(template: str | None = None, to: str | None = None) -> list[OutboxMail]:
    stmt = select(OutboxMail).order_by(OutboxMail.id)
    if template:
        stmt = stmt.where(OutboxMail.template == template)
    if to:
        stmt = stmt.where(OutboxMail.to_addr == to.lower())
    return list(db.session.scalars(stmt))


def ko(msgid: str, **values) -> str:
    """A message as the Korean catalog has it; the catalog must translate it."""
    with force_locale("ko"):
        text = gettext(msgid, **values)
    assert text != msgid % values, f"no Korean translation for {msgid!r}"
    return text


def _link(mail: OutboxMail, kind: str) -> str:
    """The path of a respond link from a mail: kind is accept, decline or ics."""
    for url in re.findall(r"https?://\S+", mail.body_text):
        path = url.split("://", 1)[1].split("/", 1)[1]
        if kind == "ics" and path.endswith("/ics"):
            return "/" + path
        if kind != "ics" and path.startswith("respond/") and f"answer={kind}" in path:
            return "/" + path
    raise AssertionError(f"no {kind} link in {mail.body_text}")


def _answer_path(link: str) -> str:
    return link.split("?", 1)[0]


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- proposing -----------------------------------------------------------------------------------


def test_propose_match_sets_columns_and_queues_mails_to_three_parties(setup):
    s = setup
    now = utcnow()
    booking = _propose(s, score=87, now=now)

    assert booking.status == "matched"
    assert (booking.buyer_id, booking.interpreter_id) == (s["buyer"].id, s["interpreter"].id)
    assert (booking.buyer_response, booking.interpreter_response) == ("pending", "pending")
    assert booking.match_version == 1
    assert booking.match_score == 87
    assert booking.proposed_at == now
    assert booking.respond_by == now + timedelta(hours=48)
    buyer_mail, interp_mail = _mails("match_proposed")
    company_mail = _mails("match_proposed_company")
    assert buyer_mail.to_addr == s["buyer"].email and buyer_mail.locale == "en"
    assert interp_mail.to_addr == s["interpreter"].email and interp_mail.locale == "ko"
    assert len(company_mail) == 1 and company_mail[0].locale == "ko"


def test_proposal_mail_to_buyer_is_english_in_its_own_zone_and_seoul(setup):
    s = setup
    booking = _propose(s)
    mail = _mails("match_proposed", to=s["buyer"].email)[0]
    local = full_moment(booking.starts_at, NY, "en")
    seoul = full_moment(booking.starts_at, SEOUL, "en")

    assert mail.subject == f"Proposed export consultation with {booking.company.name_en}"
    assert f"Time: {local}" in mail.body_text
    assert "Eastern" in local
    assert f"Time in Seoul: {seoul}" in mail.body_text
    assert "Products: Skin care serum" in mail.body_text
    assert "HS codes: 330499" in mail.body_text
    assert "/respond/" in _link(mail, "accept") and "/respond/" in _link(mail, "decline")
    assert _link(mail, "ics").endswith("/ics")


def test_proposal_mails_to_interpreter_and_sme_are_korean_and_hide_buyer_contact(setup):
    s = setup
    booking = _propose(s)
    interp = _mails("match_proposed", to=s["interpreter"].email)[0]
    company = _mails("match_proposed_company")[0]
    seoul_ko = full_moment(booking.starts_at, SEOUL, "ko")

    assert interp.subject == ko("Proposed export consultation with %(company)s", company=booking.company.name_ko)
    assert seoul_ko in interp.body_text
    assert company.subject == ko("A buyer has been proposed for your consultation")
    assert ko("A buyer from %(country)s has been proposed for your consultation.", country="미국") in company.body_text
    assert s["buyer"].email not in company.body_text
    assert s["buyer"].phone not in company.body_text
    assert s["buyer"].company_name not in company.body_text


def test_respond_by_is_never_after_the_slot_start(setup, app):
    s = setup
    start = s["booking"].starts_at
    booking = _propose(s, now=start - timedelta(hours=5))
    assert booking.respond_by == start


def test_propose_is_audited_with_before_and_after(setup):
    s = setup
    booking = _propose(s, score=50)
    (entry,) = _audit("booking.match.propose")
    assert entry.actor_id == s["staff"].id
    assert entry.object_id == booking.id
    assert entry.before["status"] == "requested" and entry.after["status"] == "matched"
    assert entry.before["buyer_id"] is None and entry.after["buyer_id"] == s["buyer"].id
    assert entry.after["interpreter_id"] == s["interpreter"].id
    assert entry.after["match_version"] == 1


def test_no_interpreter_needed_when_buyer_speaks_the_companys_language(app):
    use_policy("needed")
    rnd = make_round()
    booking = make_booking(rnd.slots[0], languages=("ko", "en"))
    booking = propose_match(booking=booking, buyer=make_buyer(), interpreter=None, actor=make_user("staff"))
    assert booking.status == "matched"
    assert booking.interpreter_response is None
    assert len(_mails("match_proposed")) == 1


def test_interpreter_required_when_no_shared_language(setup):
    s = setup
    use_policy("needed")
    with pytest.raises(Conflict, match="share no language: choose an interpreter"):
        _propose(s, interpreter=None)


def test_propose_match_without_interpreter_is_conflict_under_the_default_policy_despite_a_shared_language(app):
    rnd = make_round()
    booking = make_booking(rnd.slots[0], languages=("ko", "en"))
    buyer = make_buyer()

    with pytest.raises(Conflict) as exc:
        propose_match(booking=booking, buyer=buyer, interpreter=None, actor=make_user("staff"))

    assert exc.value.message == (
        f"The program puts an interpreter on every consultation: choose an interpreter (buyer: {buyer.company_name})."
    )
    assert booking.status == "requested"


def test_interpreter_language_mismatch_is_conflict_naming_languages(setup):
    s = setup
    spanish = make_buyer(languages=("es",), country="MX", timezone="America/Mexico_City")
    with pytest.raises(Conflict) as exc:
        _propose(s, buyer=spanish)
    assert exc.value.message == (f"The interpreter {s['interpreter'].name} does not speak the buyer's languages (es).")


def test_interpreter_outside_hours_is_conflict(setup):
    s = setup
    afternoons = make_interpreter(hours=((time(14, 0), time(18, 0)),))
    with pytest.raises(Conflict) as exc:
        _propose(s, interpreter=afternoons)
    assert exc.value.message == f"The interpreter {afternoons.name} is not available at this time."


def test_interpreter_away_that_day_is_conflict(setup):
    s = setup
    day = s["booking"].starts_at.astimezone(SEOUL).date()
    db.session.add(InterpreterException(interpreter_id=s["interpreter"].id, day=day, available=False))
    db.session.flush()
    db.session.expire(s["interpreter"])
    with pytest.raises(Conflict, match="is not available at this time"):
        _propose(s)


def test_interpreter_over_daily_cap_is_conflict(setup):
    s = setup
    capped = make_interpreter(max_per_day=1)
    other = make_booking(s["round"].slots[2])  # 11:00, same day
    propose_match(booking=other, buyer=make_buyer(), interpreter=capped, actor=s["staff"])
    with pytest.raises(Conflict) as exc:
        _propose(s, interpreter=capped)
    assert exc.value.message == f"The interpreter {capped.name} already has 1 session that day, the most allowed."


def test_overlapping_interpreter_is_conflict(setup):
    s = setup
    other = make_booking(s["round"].slots[1])  # same time, other booth
    propose_match(booking=other, buyer=make_buyer(), interpreter=s["interpreter"], actor=s["staff"])
    with pytest.raises(Conflict) as exc:
        _propose(s)
    assert exc.value.message == (f"The interpreter {s['interpreter'].name} already has a consultation at this time.")


def test_overlapping_buyer_is_conflict(setup):
    s = setup
    other = make_booking(s["round"].slots[1])
    propose_match(booking=other, buyer=s["buyer"], interpreter=make_interpreter(), actor=s["staff"])
    with pytest.raises(Conflict) as exc:
        _propose(s)
    assert exc.value.message == f"The buyer {s['buyer'].company_name} already has a consultation at this time."


def test_inactive_buyer_or_interpreter_is_conflict(setup):
    s = setup
    with pytest.raises(Conflict, match="is not active"):
        _propose(s, buyer=make_buyer(active=False))
    with pytest.raises(Conflict, match="is not active"):
        _propose(s, interpreter=make_interpreter(active=False))


def test_overlap_lost_to_the_database_is_conflict_and_transaction_survives(setup, monkeypatch):
    """When the pre-checks miss a race, the constraint decides inside a savepoint."""
    s = setup
    other = make_booking(s["round"].slots[1])
    propose_match(booking=other, buyer=make_buyer(), interpreter=s["interpreter"], actor=s["staff"])
    from consultroom.matching import services

    monkeypatch.setattr(services, "check_proposal", lambda **kw: None)
    with pytest.raises(Conflict, match="already has a consultation at this time"):
        _propose(s)
    assert s["booking"].status == "requested"
    db.session.commit()  # the caller's transaction is still usable
    assert db.session.get(Booking, other.id).interpreter_id == s["interpreter"].id


def test_propose_on_confirmed_or_cancelled_booking_is_conflict(setup):
    s = setup
    cancel_booking(booking=s["booking"], actor=s["staff"], reason="Typhoon")
    with pytest.raises(Conflict, match="can no longer be matched"):
        _propose(s)


# --- answers ---------------------------------------------------------------------------------------


def test_both_accept_confirms_with_meeting_link_and_mails_all_three(setup, client):
    s = setup
    _propose(s)
    buyer_link = _link(_mails("match_proposed", to=s["buyer"].email)[0], "accept")
    interp_link = _link(_mails("match_proposed", to=s["interpreter"].email)[0], "accept")

    first = client.submit(_answer_path(buyer_link), {"answer": "accept"})
    assert first.status_code == 302
    db.session.expire_all()
    assert s["booking"].status == "matched" and s["booking"].buyer_response == "accepted"
    second = client.submit(_answer_path(interp_link), {"answer": "accept"})
    assert second.status_code == 302

    db.session.expire_all()
    booking = db.session.get(Booking, s["booking"].id)
    assert booking.status == "confirmed"
    assert recent(booking.confirmed_at)
    assert re.fullmatch(r"https://meet\.jit\.si/consultroom-[A-Za-z0-9_-]{24}", booking.meeting_url)
    confirmed = _mails("match_confirmed")
    assert {m.to_addr for m in confirmed} == {s["buyer"].email, s["interpreter"].email}
    (company_mail,) = _mails("match_confirmed_company")
    assert booking.meeting_url in company_mail.body_text
    buyer_mail = next(m for m in confirmed if m.to_addr == s["buyer"].email)
    assert full_moment(booking.starts_at, NY, "en") in buyer_mail.body_text
    assert booking.meeting_url in buyer_mail.body_text
    assert [e.after["party"] for e in _audit("booking.match.accept")] == ["buyer", "interpreter"]


def test_decline_sends_booking_back_and_tells_staff_and_the_other_party(setup, client):
    s = setup
    _propose(s)
    respond(booking=s["booking"], party="buyer", accept=True, version=1)
    db.session.commit()
    decline = _link(_mails("match_proposed", to=s["interpreter"].email)[0], "decline")

    response = client.submit(_answer_path(decline), {"answer": "decline"})
    assert response.status_code == 302

    db.session.expire_all()
    booking = db.session.get(Booking, s["booking"].id)
    assert booking.status == "requested"
    assert (booking.buyer_id, booking.interpreter_id) == (None, None)
    (off,) = _mails("match_off")
    assert off.to_addr == s["buyer"].email
    assert "Another participant declined it." in off.body_text
    (staff_mail,) = _mails("match_staff")
    assert staff_mail.to_addr == s["staff"].email
    assert staff_mail.subject == ko("Match declined: %(company)s", company=booking.company.display_name)
    (entry,) = _audit("booking.match.decline")
    assert entry.after["party"] == "interpreter" and entry.after["status"] == "requested"


def test_same_answer_twice_is_idempotent_and_a_changed_answer_is_refused(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))

    assert client.submit(path, {"answer": "accept"}).status_code == 302
    assert client.submit(path, {"answer": "accept"}).status_code == 302
    changed = client.submit(path, {"answer": "decline"})

    assert changed.status_code == 409
    assert "You have already answered this proposal" in changed.get_data(as_text=True)
    assert len(_audit("booking.match.accept")) == 1


def test_decline_twice_is_idempotent(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "decline"))
    assert client.submit(path, {"answer": "decline"}).status_code == 302
    assert client.submit(path, {"answer": "decline"}).status_code == 302
    assert client.submit(path, {"answer": "accept"}).status_code == 409
    page = client.get(path)
    assert page.status_code == 200
    assert "You declined this consultation." in page.get_data(as_text=True)
    assert len(_audit("booking.match.decline")) == 1


def test_buyer_page_is_english_in_buyer_zone_with_accept_and_decline(setup, client):
    s = setup
    booking = _propose(s)
    other = make_booking(s["round"].slots[1])
    link = _link(_mails("match_proposed", to=s["buyer"].email)[0], "accept")

    html = client.get(link).get_data(as_text=True)

    assert '<html lang="en">' in html
    assert full_moment(booking.starts_at, NY, "en") in html
    assert 'value="accept"' in html and 'value="decline"' in html
    assert booking.company.name_en in html
    assert other.company.name_en not in html and other.company.name_ko not in html


def test_interpreter_page_is_in_interpreter_locale_and_seoul_time(setup, client):
    s = setup
    booking = _propose(s)
    link = _link(_mails("match_proposed", to=s["interpreter"].email)[0], "accept")
    html = client.get(link).get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert full_moment(booking.starts_at, SEOUL, "ko") in html


def test_ics_through_signed_link_has_the_buyers_tzid(setup, client):
    s = setup
    _propose(s)
    response = client.get(_link(_mails("match_proposed", to=s["buyer"].email)[0], "ics"))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "DTSTART;TZID=America/New_York:" in response.get_data(as_text=True)


# --- links that no longer apply ----------------------------------------------------------------------


def test_old_version_link_after_reproposal_is_gone(setup, client):
    s = setup
    _propose(s)
    old = _link(_mails("match_proposed", to=s["buyer"].email)[0], "accept")
    new_interpreter = make_interpreter()
    _propose(s, interpreter=new_interpreter)
    db.session.commit()

    page = client.get(old)
    post = client.submit(_answer_path(old), {"answer": "accept"})

    assert page.status_code == 410 and post.status_code == 410
    assert "This proposal has been replaced or withdrawn" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, s["booking"].id).buyer_response == "pending"
    # The replaced interpreter was told it is off.
    (off,) = _mails("match_off")
    assert off.to_addr == s["interpreter"].email


def test_other_partys_token_cannot_answer_for_someone_else(setup, client):
    s = setup
    _propose(s)
    token = confirmation.make_response_token(s["booking"], "interpreter")
    data = confirmation.read_response_token(token)
    assert data["p"] == "interpreter"
    # A token that names the interpreter slot but another interpreter's id is refused.
    forged = confirmation.make_token(confirmation.LINK_PURPOSE, {**data, "i": make_interpreter().id})
    response = client.submit(f"/respond/{forged}", {"answer": "accept"})
    assert response.status_code == 410
    db.session.expire_all()
    assert db.session.get(Booking, s["booking"].id).interpreter_response == "pending"


def test_tampered_token_is_400(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    assert client.submit(tampered, {"answer": "accept"}).status_code == 400
    assert client.get(tampered + "/ics").status_code == 400
    assert "This link is not valid" in client.get(tampered).get_data(as_text=True)


def test_expired_token_is_410(setup, client, app):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    app.config["MATCH_LINK_MAX_AGE"] = -1
    try:
        response = client.get(path)
    finally:
        app.config["MATCH_LINK_MAX_AGE"] = 14 * 24 * 3600
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_cancelled_booking_link_is_gone(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    cancel_booking(booking=s["booking"], actor=s["staff"], reason="Typhoon")

    response = client.submit(path, {"answer": "accept"})
    assert response.status_code == 410
    assert "This consultation has been cancelled." in response.get_data(as_text=True)
    assert client.get(path + "/ics").status_code == 410


def test_answer_after_respond_by_is_gone(setup, client):
    s = setup
    booking = _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    booking.respond_by = utcnow() - timedelta(minutes=1)

    response = client.submit(path, {"answer": "accept"})
    assert response.status_code == 410
    assert "The time to answer this proposal has passed." in response.get_data(as_text=True)
    with pytest.raises(Conflict, match="time to answer"):
        respond(booking=booking, party="buyer", accept=True, version=1)


def test_answer_without_choice_is_400(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    assert client.submit(path, {"answer": "maybe"}).status_code == 400


# --- lapse, clear, meeting link -----------------------------------------------------------------------


def test_lapse_job_sends_back_once_and_tells_staff(setup):
    s = setup
    booking = _propose(s)
    respond(booking=booking, party="buyer", accept=True, version=1)
    db.session.commit()
    after = booking.respond_by + timedelta(minutes=1)

    first = run_job("match_lapse", now=after)
    second = run_job("match_lapse", now=after + timedelta(minutes=15))

    assert first.status == "succeeded" and first.detail == f"lapsed [{booking.id}]"
    assert second.status == "succeeded" and second.detail == "lapsed []"
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "requested" and booking.buyer_id is None
    assert len(_mails("match_staff")) == 1
    assert {m.to_addr for m in _mails("match_off")} == {s["buyer"].email, s["interpreter"].email}
    assert len(_audit("booking.match.lapse")) == 1


def test_lapse_job_leaves_open_and_confirmed_proposals(setup):
    s = setup
    booking = _propose(s)
    db.session.commit()
    assert run_job("match_lapse", now=booking.respond_by - timedelta(minutes=1)).detail == "lapsed []"
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "matched"


def test_clear_match_kills_links_and_is_audited(setup, client):
    s = setup
    _propose(s)
    path = _answer_path(_link(_mails("match_proposed", to=s["buyer"].email)[0], "accept"))
    booking = clear_match(booking=s["booking"], actor=s["staff"], reason="buyer asked by phone")

    assert booking.status == "requested" and booking.buyer_id is None and booking.match_version == 2
    assert client.get(path).status_code == 410
    (entry,) = _audit("booking.match.clear")
    assert entry.after["reason"] == "buyer asked by phone"
    with pytest.raises(Conflict, match="no match to clear"):
        clear_match(booking=booking, actor=s["staff"])


def test_set_meeting_url_validates_and_is_audited(setup):
    s = setup
    for bad in ("", "javascript:alert(1)", "ftp://x.example", "https://", "https://zoom.us/j/1 2"):
        with pytest.raises(Invalid):
            set_meeting_url(booking=s["booking"], url=bad, actor=s["staff"])
    set_meeting_url(booking=s["booking"], url="https://zoom.us/j/123456789", actor=s["staff"])
    (entry,) = _audit("booking.meeting_url")
    assert entry.after == {"meeting_url": "https://zoom.us/j/123456789"}


def test_staff_meeting_url_is_kept_at_confirmation(setup):
    s = setup
    booking = _propose(s)
    set_meeting_url(booking=booking, url="https://teams.example.com/meet/1", actor=s["staff"])
    accept_both(booking)
    assert booking.status == "confirmed"
    assert booking.meeting_url == "https://teams.example.com/meet/1"


# --- the SME's view ------------------------------------------------------------------------------------


def test_sme_sees_buyer_country_then_meeting_link_never_contact_before(setup, client, login_as):
    s = setup
    booking = _propose(s)
    owner = booking.company.users[0]
    login_as(owner)

    html = client.get("/bookings").get_data(as_text=True)
    assert ko("A buyer from %(country)s has been proposed; waiting for confirmation.", country="미국") in html
    assert s["buyer"].email not in html and s["buyer"].phone not in html
    assert s["buyer"].company_name not in html

    accept_both(booking)
    html = client.get("/bookings").get_data(as_text=True)
    assert booking.meeting_url in html
    assert s["buyer"].email not in html
