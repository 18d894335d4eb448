from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.matching import proposals
from consultroom.matching.assignment import Pair, Result, violations
from consultroom.matching.models import MatchWeight, RoundProposal
from consultroom.matching.proposals import check, create_proposal, load_proposal_world, slot_of
from consultroom.matching.recommend import recommend
from consultroom.matching.scoring import FIT_STEP
from consultroom.matching.services import propose_match
from consultroom.notifications.models import OutboxMail
from tests.factories import make_company, make_round, make_user
from tests.factories.matching import book, greedy_trap, interpreter_for, make_buyer, slots_at, use_policy
from tests.undone import half_write_kept, writes_then_refuses


def _assigned(proposal):
    return {line.booking_id: (line.buyer_id, line.interpreter_id) for line in proposal.lines}


def test_proposal_beats_greedy_and_respects_every_rule():
    w = greedy_trap()
    (b1, b2, b3), (x, y, z) = w["b"], w["buyers"]

    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])

    assert (proposal.exact_total, proposal.greedy_total) == (230, 180)
    assert (proposal.exact_matched, proposal.greedy_matched) == (3, 2)
    assert proposal.stats["fits"] == {"exact": 0, "partial": 3, "none": 0}
    assert proposal.stats["greedy_fits"] == {"exact": 1, "partial": 1, "none": 0}
    assert proposal.stats["objective"] == 3 * 3 * FIT_STEP + 230
    assert proposal.stats["objective"] <= proposal.stats["upper_bound"]
    assert _assigned(proposal) == {b1.id: (y.id, None), b2.id: (x.id, None), b3.id: (z.id, w["interp"].id)}
    assert [line.score for line in proposal.lines] == [65, 85, 80]
    assert proposal.lines[2].reasons == [
        ["hs4", 25, "0901"], ["country", 20, "VN"], ["interpreter", 10, "vi"], ["within_hours", 15, ""],
        ["new_pair", 10, ""],
    ]  # fmt: skip
    world = load_proposal_world(proposal)
    assert check(proposal, world) == []
    slots = {b.id: slot_of(b) for b in w["b"]}
    by_buyer = Result({ln.booking_id: Pair(ln.booking_id, ln.buyer_id, ln.score) for ln in proposal.lines}, 0, "")
    assert violations(slots, by_buyer) == []
    # Nothing is sent before staff confirm.
    assert (
        db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr.in_([x.email, y.email, z.email])))
        == 0
    )


def test_proposal_page_shows_totals_and_reasons(client, login_as):
    w = greedy_trap()
    login_as("staff")

    response = client.submit(f"/staff/matching/rounds/{w['rnd'].id}/proposals")

    assert response.status_code == 302
    proposal = db.session.scalars(select(RoundProposal)).one()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<dd class="col-sm-9" id="exact-total">230 ·' in html
    assert '<dd class="col-sm-9" id="greedy-total">180 ·' in html
    assert "HS heading 0901 matches" in html and "Interpreter available for Vietnamese" in html
    assert 'id="issues"' not in html
    assert f"/staff/matching/proposals/{proposal.id}/confirm" in html


def test_editing_a_line_to_an_overlapping_buyer_shows_the_violation_and_blocks_confirm(client, login_as):
    w = greedy_trap()
    (_b1, b2, _b3), (x, y, _z) = w["b"], w["buyers"]
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    line2 = next(line for line in proposal.lines if line.booking_id == b2.id)
    login_as("staff")

    response = client.submit(f"/staff/matching/proposals/{proposal.id}/lines/{line2.id}", {"buyer_id": str(y.id)})

    assert response.status_code == 302
    html = client.get(f"/staff/matching/proposals/{proposal.id}").get_data(as_text=True)
    assert 'id="issues"' in html
    assert "Buyer Yamato is in two consultations at overlapping times" in html
    assert "disabled aria-disabled" in html
    response = client.submit(f"/staff/matching/proposals/{proposal.id}/confirm", {"confirm": "1"})
    assert response.status_code == 302
    assert "breaks 1 rule: fix it" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(Booking, b.id).status for b in w["b"]] == ["requested"] * 3
    assert db.session.get(RoundProposal, proposal.id).status == "draft"
    edited = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "matching.proposal.edit_line"))
    assert edited.before["buyer_id"] == x.id and edited.after["buyer_id"] == y.id


def test_confirm_applies_every_line_and_queues_the_mails(client, login_as):
    w = greedy_trap()
    (b1, b2, b3), (x, y, z) = w["b"], w["buyers"]
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    login_as("staff")

    response = client.submit(f"/staff/matching/proposals/{proposal.id}/confirm", {"confirm": "1"})

    assert response.status_code == 302
    db.session.expire_all()
    got = {b.id: (b.status, b.buyer_id, b.interpreter_id, b.match_score) for b in db.session.scalars(select(Booking))}
    assert got == {
        b1.id: ("matched", y.id, None, 65),
        b2.id: ("matched", x.id, None, 85),
        b3.id: ("matched", z.id, w["interp"].id, 80),
    }
    mailed = set(db.session.scalars(select(OutboxMail.to_addr)))
    assert {x.email, y.email, z.email, w["interp"].email} <= mailed
    assert db.session.get(RoundProposal, proposal.id).status == "confirmed"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("booking.match.propose") == 3 and "matching.proposal.confirm" in actions


def test_a_conflict_at_confirm_applies_nothing_and_names_the_line(client, login_as):
    w = greedy_trap()
    (b1, b2, b3), (x, _y, _z) = w["b"], w["buyers"]
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    line2 = next(line for line in proposal.lines if line.booking_id == b2.id)
    # The world changes: before staff confirm, X is given another company at 10:00.
    c4 = make_company(name_en="C4", languages=("ko", "en"))
    w["rnd"].status = "open"
    b4 = book(c4, slots_at(w["rnd"], 0)[2])
    w["rnd"].status = "closed"
    propose_match(booking=b4, buyer=x, interpreter=None, actor=w["staff"])
    db.session.commit()
    mails_before = db.session.scalar(select(func.count(OutboxMail.id)))
    login_as("staff")

    response = client.submit(f"/staff/matching/proposals/{proposal.id}/confirm", {"confirm": "1"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?failed={line2.id}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Line 2 (" in html and "The buyer Xport already has a consultation at this time." in html
    assert "Nothing was applied." in html
    assert f'id="line-{line2.id}" class="table-warning"' in html
    db.session.expire_all()
    assert [db.session.get(Booking, b.id).status for b in (b1, b2, b3)] == ["requested"] * 3
    assert db.session.get(RoundProposal, proposal.id).status == "draft"
    assert db.session.scalar(select(func.count(OutboxMail.id))) == mails_before


def test_discard_and_a_new_proposal_replaces_the_draft(client, login_as):
    w = greedy_trap()
    first = create_proposal(rnd=w["rnd"], actor=w["staff"])
    second = create_proposal(rnd=w["rnd"], actor=w["staff"])
    db.session.commit()
    assert db.session.get(RoundProposal, first.id).status == "discarded"
    login_as("staff")

    response = client.submit(f"/staff/matching/proposals/{second.id}/discard", {"confirm": "1"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RoundProposal, second.id).status == "discarded"
    again = client.submit(f"/staff/matching/proposals/{second.id}/confirm", {"confirm": "1"})
    assert "no longer a draft" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_buyer_hours_are_a_rule_only_while_outside_hours_counts_against(client, login_as):
    rnd = make_round(booths=1, slots_per_booth=1, status="open")
    company = make_company(hs_codes=("330499",), target_countries=("US",), languages=("ko", "en"))
    booking = book(company, rnd.slots[0])
    use_policy("needed")
    night = make_buyer("Night Owl", country="US", timezone="America/New_York")  # 10:00 Seoul is night there
    staff = make_user("staff")

    assert _assigned(create_proposal(rnd=rnd, actor=staff)) == {booking.id: (None, None)}
    db.session.add(MatchWeight(name="outside_hours", value=0))
    db.session.flush()
    assert _assigned(create_proposal(rnd=rnd, actor=staff)) == {booking.id: (night.id, None)}


def test_weights_settings_change_the_ranking_and_are_audited(client, login_as):
    w = greedy_trap()
    b1 = w["b"][0]
    assert [r.buyer.company_name for r in recommend(booking=b1)][:2] == ["Xport", "Yamato"]
    admin = login_as("admin")
    form = {"hs6": "0", "hs4": "60", "hs2": "10", "industry": "5", "country": "20", "shared_language": "15",
            "interpreter": "10", "within_hours": "15", "outside_hours": "-40", "new_pair": "10",
            "load_each": "-5"}  # fmt: skip

    bad = client.submit("/staff/matching/settings", {**form, "hs4": "101"})
    assert bad.status_code == 200 and "Number must be between -100 and 100." in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MatchWeight)) == 0
    response = client.submit("/staff/matching/settings", form)

    assert response.status_code == 302
    db.session.expire_all()
    ranked = recommend(booking=db.session.get(Booking, b1.id))
    # Points move within a tier only: Yamato's heading match now scores more, yet the exact match ranks first.
    assert [(r.buyer.company_name, r.score.total) for r in ranked][:2] == [("Xport", 60), ("Yamato", 100)]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "matching.weights_updated"))
    assert entry.actor_id == admin.id
    assert entry.before == {"hs4": 25, "hs6": 40} and entry.after == {"hs4": 60, "hs6": 0}
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    assert proposal.weights["hs6"] == 0


def test_weights_page_is_for_admins_only(make_client, login_as):
    staff = make_client()
    login_as("staff", on=staff)
    assert staff.get("/staff/matching/settings").status_code == 404
    admin = make_client()
    login_as("admin", on=admin)
    page = admin.get("/staff/matching/settings")
    assert page.status_code == 200 and 'value="40"' in page.get_data(as_text=True)


def test_repair_fills_a_booking_whose_best_buyer_found_no_interpreter():
    """Every consultation has an interpreter. Two bookings at 10:00 both rank the two Vietnamese-only
    buyers first (exact HS), but the one Vietnamese interpreter can take only one of them; an
    English-speaking buyer with a heading match and a free English interpreter fills the other."""
    use_policy("always")
    rnd = make_round(booths=2, slots_per_booth=1, status="open")
    c1 = make_company(name_en="C1", hs_codes=("330499",), target_countries=("VN",), languages=("ko",))
    c2 = make_company(name_en="C2", hs_codes=("330499",), target_countries=("VN",), languages=("ko",))
    ten = slots_at(rnd, 0)
    b1, b2 = book(c1, ten[0]), book(c2, ten[1])
    rnd.status = "closed"
    for name in ("Viet One", "Viet Two"):
        make_buyer(name, country="VN", interests=("330499",), languages=("vi",), timezone="Asia/Seoul")
    english = make_buyer("English", country="US", interests=("3304",), languages=("en",), timezone="Asia/Seoul")
    vi = interpreter_for(rnd, ("vi",), name="Vi")
    en = interpreter_for(rnd, ("en",), name="En")
    staff = make_user("staff")
    db.session.flush()

    proposal = create_proposal(rnd=rnd, actor=staff)

    lines = _assigned(proposal)
    assert sorted(i for _b, i in lines.values()) == sorted([vi.id, en.id])
    assert [lines[b][0] == english.id for b in (b1.id, b2.id)].count(True) == 1
    assert proposal.stats["repaired"] == 1 and proposal.stats["dropped_for_interpreter"] == 0
    assert proposal.stats["objective"] > proposal.stats["greedy_objective"]
    assert proposal.stats["objective"] <= proposal.stats["upper_bound"]
    assert check(proposal, load_proposal_world(proposal)) == []


def test_a_line_moves_to_another_buyer_and_interpreter_so_one_more_booking_gets_one():
    """Every consultation has an interpreter. At 10:00 both bookings' best buyers speak only
    Vietnamese, and the one interpreter who speaks it (with English) can take one. C1 also has an
    English-speaking buyer with a heading match, whom the English-only interpreter can serve: C1
    moves to that buyer (by the repair or by the extension that moves interpreters, whichever
    booking the first flow left out), and C2 keeps its only buyer with the bilingual interpreter."""
    use_policy("always")
    rnd = make_round(booths=2, slots_per_booth=1, status="open")
    c1 = make_company(name_en="C1", hs_codes=("330499",), target_countries=("VN",), languages=("ko",))
    c2 = make_company(name_en="C2", hs_codes=("210390",), target_countries=("VN",), languages=("ko",))
    ten = slots_at(rnd, 0)
    b1, b2 = book(c1, ten[0]), book(c2, ten[1])
    rnd.status = "closed"
    make_buyer("Viet Cosmetics", country="VN", interests=("330499",), languages=("vi",), timezone="Asia/Seoul")
    sauces = make_buyer("Viet Sauces", country="VN", interests=("210390",), languages=("vi",), timezone="Asia/Seoul")
    english = make_buyer("English", country="US", interests=("3304",), languages=("en",), timezone="Asia/Seoul")
    both = interpreter_for(rnd, ("vi", "en"), name="Both")
    en = interpreter_for(rnd, ("en",), name="En")
    staff = make_user("staff")
    db.session.flush()

    proposal = create_proposal(rnd=rnd, actor=staff)

    assert _assigned(proposal) == {b1.id: (english.id, en.id), b2.id: (sauces.id, both.id)}
    assert proposal.stats["repaired"] + proposal.stats["extended"] == 1
    assert proposal.stats["objective"] > proposal.stats["greedy_objective"]
    assert proposal.stats["objective"] <= proposal.stats["upper_bound"]
    assert check(proposal, load_proposal_world(proposal)) == []


# --- a refusal keeps nothing written before it (request_transaction.rollback_on) ---------------------


def test_a_refused_new_proposal_keeps_nothing_written_before_the_refusal(client, login_as, monkeypatch):
    w = greedy_trap()
    login_as("staff")
    monkeypatch.setattr(proposals, "create_proposal", writes_then_refuses(Conflict("No booking is waiting.")))

    response = client.submit(f"/staff/matching/rounds/{w['rnd'].id}/proposals")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/matching/rounds/{w['rnd'].id}")
    assert not half_write_kept()


@pytest.mark.parametrize(
    ("error", "failed"),
    [(proposals.LineConflict("Line 1 is taken.", line_id=7), "?failed=7"), (Invalid("Rules broken."), "")],
)
def test_a_refused_confirm_keeps_nothing_written_before_the_refusal(client, login_as, monkeypatch, error, failed):
    w = greedy_trap()
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    login_as("staff")
    monkeypatch.setattr(proposals, "confirm_proposal", writes_then_refuses(error))

    response = client.submit(f"/staff/matching/proposals/{proposal.id}/confirm", {"confirm": "1"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/matching/proposals/{proposal.id}{failed}")
    assert not half_write_kept()


def test_a_refused_discard_keeps_nothing_written_before_the_refusal(client, login_as, monkeypatch):
    w = greedy_trap()
    proposal = create_proposal(rnd=w["rnd"], actor=w["staff"])
    login_as("staff")
    monkeypatch.setattr(proposals, "discard_proposal", writes_then_refuses(Conflict("No longer a draft.")))

    response = client.submit(f"/staff/matching/proposals/{proposal.id}/discard", {"confirm": "1"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/matching/proposals/{proposal.id}")
    assert not half_write_kept()
