"""Recommendations and proposals as matching/schemas.py dumps them: the declared fields write the answer."""

from datetime import UTC, datetime, time
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from consultroom.matching.recommend import InterpreterInfo, Recommendation, SlotRow
from consultroom.matching.schemas import ProposalLineSchema, ProposalSchema, RecommendationSchema
from consultroom.matching.scoring import BuyerInfo, Reason, Score

NINE = datetime(2027, 1, 5, 0, 0, tzinfo=UTC)
TEN = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)
BUYER = BuyerInfo(
    buyer_id=7, country="US", interest_codes=("330499",), languages=("en",), timezone="Asia/Seoul",
    meet_from=time(9), meet_to=time(18), company_name="Xport",
)  # fmt: skip
NGUYEN = InterpreterInfo(id=3, name="Nguyen", languages=("vi",), max_sessions_per_day=2, weekly=(), exceptions=())


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def _recommendation(**other) -> Recommendation:
    score = Score(total=55, reasons=(Reason("hs6", 40, "330499"), Reason("new_pair", 15)), fit="hs6")
    return Recommendation(
        buyer=BUYER, info=BUYER, score=score, needs_interpreter=False, interpreters=(NGUYEN,), load=1, **other
    )


def test_a_recommendation_is_written_with_its_reasons_in_words_and_no_other_slot():
    assert RecommendationSchema().dump(_recommendation()) == {
        "buyer": {"id": 7, "company_name": "Xport", "country": "US", "timezone": "Asia/Seoul", "languages": ["en"]},
        "score": 55,
        "reasons": [
            {"code": "hs6", "points": 40, "detail": "330499", "text": "HS 330499 matches exactly"},
            {"code": "new_pair", "points": 15, "detail": "", "text": "First meeting with this company"},
        ],
        "needs_interpreter": False,
        "interpreters": [{"id": 3, "name": "Nguyen", "languages": ["vi"]}],
        "load": 1,
        "fit": "hs6",
        "other_slot": None,
    }


def test_the_other_slot_carries_the_interpreters_free_then():
    slot = SlotRow(slot_id=4, round_id=1, starts_at=NINE, ends_at=TEN, closed=False, company_id=None)
    dumped = RecommendationSchema().dump(_recommendation(other_slot=slot, other_interpreters=(NGUYEN,)))
    assert dumped["other_slot"] == {
        "id": 4,
        "starts_at": "2027-01-05T00:00:00Z",
        "ends_at": "2027-01-05T01:00:00Z",
        "interpreters": [{"id": 3, "name": "Nguyen", "languages": ["vi"]}],
    }


def _line(buyer) -> SimpleNamespace:
    company = SimpleNamespace(display_name="C1")
    booking = SimpleNamespace(id=2, company_id=5, company=company, starts_at=NINE, ends_at=TEN, status="requested")
    return SimpleNamespace(
        id=9, booking=booking, buyer=buyer, interpreter=None, score=40, reasons=[["hs6", 40, "330499"]], edited=True
    )


def test_a_proposal_line_without_a_buyer_has_no_reasons_and_one_with_a_buyer_has_them_in_words():
    buyer = SimpleNamespace(
        id=7, company_name="Xport", country="US", meet_from=time(9), meet_to=time(18), timezone="UTC"
    )
    with_buyer, without = ProposalLineSchema().dump(_line(buyer)), ProposalLineSchema().dump(_line(None))
    assert with_buyer["buyer"] == {"id": 7, "company_name": "Xport", "country": "US"}
    assert with_buyer["reasons"] == [
        {"code": "hs6", "points": 40, "detail": "330499", "text": "HS 330499 matches exactly"}
    ]
    assert (without["buyer"], without["interpreter"], without["reasons"]) == (None, None, [])
    assert with_buyer["booking"] == {
        "id": 2, "company_id": 5, "company_name": "C1", "starts_at": "2027-01-05T00:00:00Z",
        "ends_at": "2027-01-05T01:00:00Z", "status": "requested",
    }  # fmt: skip


def test_a_proposal_writes_its_exact_and_greedy_totals_from_the_proposal_row():
    proposal = SimpleNamespace(
        id=1, round_id=2, status="draft", exact_total=230, exact_matched=3, greedy_total=180, greedy_matched=2,
        total=225, weights={"hs6": 40}, created_at=NINE, decided_at=None,
    )  # fmt: skip
    violation = SimpleNamespace(message="Buyer X is in two consultations.", line_ids=(9, 10))
    dumped = ProposalSchema().dump({"proposal": proposal, "lines": [], "violations": [violation]})
    assert dumped == {
        "id": 1,
        "round_id": 2,
        "status": "draft",
        "exact": {"total": 230, "matched": 3},
        "greedy": {"total": 180, "matched": 2},
        "total": 225,
        "weights": {"hs6": 40},
        "created_at": "2027-01-05T00:00:00Z",
        "decided_at": None,
        "lines": [],
        "violations": [{"message": "Buyer X is in two consultations.", "line_ids": [9, 10]}],
    }
