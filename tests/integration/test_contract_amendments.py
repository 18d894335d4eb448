"""Staff correct or withdraw a recorded contract, with the reason in the audit log (issue 15 item 7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.outcomes import services
from consultroom.outcomes.models import Contract
from consultroom.reports.figures import program_report
from consultroom.timeutil import seoul_date
from tests.factories import make_company, make_consultation, make_rate, make_user, past_round


@pytest.fixture(autouse=True)
def _english_messages(app):
    with force_locale("en"):
        yield


@pytest.fixture
def contracted():
    """A consultation held three days ago whose SME recorded a USD contract after negotiating:
    (booking, outcome, contract, owner SME, staff)."""
    staff = make_user("staff")
    owner = make_user("sme")
    booking = make_consultation(past_round(days_ago=3), company=make_company(owner=owner))
    services.record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=utcnow())
    outcome = services.outcome_for(booking)
    today = seoul_date(utcnow())
    make_rate("USD", today, "1387.25")
    services.change_stage(outcome=outcome, to_stage="negotiating", on=today, note="", actor=owner, now=utcnow())
    contract = services.record_contract(
        outcome=outcome, currency="USD", amount="1000.00", signed_on=today, items="Serum", actor=owner, now=utcnow()
    )
    db.session.commit()
    return booking, outcome, contract, owner, staff


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _year_figures(booking):
    day = seoul_date(booking.starts_at)
    return program_report(start=day.replace(month=1, day=1), end=day.replace(month=12, day=31)).total


def test_staff_correct_amount_and_currency_recomputes_krw_and_audits_the_reason(client, login_as, contracted):
    booking, outcome, contract, _owner, _staff = contracted
    login_as("staff")
    make_rate("JPY", seoul_date(utcnow()), "9.1234")
    db.session.commit()

    response = client.submit(
        f"/consultations/{booking.id}/contracts/{contract.id}/edit",
        {
            "currency": "JPY",
            "amount": "200000",
            "signed_on": seoul_date(utcnow()).isoformat(),
            "items": "Serum",
            "reason": "The SME typed dollars; the contract is in yen",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    fixed = db.session.get(Contract, contract.id)
    assert (fixed.currency, fixed.amount_minor, fixed.krw_value) == ("JPY", 200_000, 1_824_680)
    [entry] = _audit("contract.correct")
    assert entry.before == {"amount": "1000.00", "currency": "USD", "krw_value": 1_387_250, "rate": "1387.250000",
                            "reason": None}  # fmt: skip
    assert entry.after == {"amount": "200000", "currency": "JPY", "krw_value": 1_824_680, "rate": "9.123400",
                           "reason": "The SME typed dollars; the contract is in yen"}  # fmt: skip
    assert db.session.get(type(outcome), outcome.id).stage == "contracted"
    assert _year_figures(booking).krw == 1_824_680


def test_correction_without_a_reason_reports_it_with_the_other_errors_in_one_pass(client, login_as, contracted):
    booking, _outcome, contract, _owner, _staff = contracted
    login_as("staff")

    response = client.submit(
        f"/consultations/{booking.id}/contracts/{contract.id}/edit",
        {"currency": "USD", "amount": "0", "signed_on": seoul_date(utcnow()).isoformat(), "reason": " "},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="amount-error"' in html and 'id="reason-error"' in html
    assert "Say why the contract is corrected." in html
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).amount_minor == 100_000
    assert _audit("contract.correct") == []


def test_correction_that_changes_nothing_is_refused(contracted):
    _booking, _outcome, contract, _owner, staff = contracted
    with pytest.raises(Invalid, match="Nothing was changed"):
        services.correct_contract(
            contract=contract, currency="usd", amount="1,000", signed_on=contract.signed_on, items="Serum",
            reason="checking", actor=staff, now=utcnow(),
        )  # fmt: skip


def test_correcting_only_the_items_logs_that_they_changed_not_what_they_say(contracted):
    _booking, _outcome, contract, _owner, staff = contracted
    services.correct_contract(
        contract=contract, currency="USD", amount="1000", signed_on=contract.signed_on, items="Serum, 2 pallets",
        reason="items were incomplete", actor=staff, now=utcnow(),
    )  # fmt: skip
    [entry] = _audit("contract.correct")
    assert entry.before == {"items_changed": None, "reason": None}
    assert entry.after == {"items_changed": True, "reason": "items were incomplete"}
    assert contract.items == "Serum, 2 pallets"


def test_withdrawal_moves_the_outcome_back_and_leaves_the_report(client, login_as, contracted):
    booking, outcome, contract, _owner, staff = contracted
    before = _year_figures(booking)
    assert (before.contracted, before.contracts, before.krw) == (1, 1, 1_387_250)
    login_as(staff)

    response = client.submit(
        f"/consultations/{booking.id}/contracts/{contract.id}/withdraw",
        {"confirm": "1", "reason": "The buyer cancelled the order"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    gone = db.session.get(Contract, contract.id)
    assert gone.is_withdrawn and gone.withdrawal_reason == "The buyer cancelled the order"
    assert gone.withdrawn_by_id == staff.id
    assert db.session.get(type(outcome), outcome.id).stage == "negotiating"
    [entry] = _audit("contract.withdraw")
    assert (entry.actor_id, entry.object_id) == (staff.id, contract.id)
    assert entry.after["reason"] == "The buyer cancelled the order" and entry.after["withdrawn"] is True
    [move] = [
        e for e in _audit("outcome.stage") if e.after["stage"] == "negotiating" and e.before["stage"] == "contracted"
    ]
    assert move.after["note"] == "The buyer cancelled the order"
    after = _year_figures(booking)
    assert (after.contracted, after.contracts, after.krw) == (0, 0, 0)
    audit_page = client.get("/staff/audit?type=contracts").get_data(as_text=True)
    assert "contract.withdraw" in audit_page and "The buyer cancelled the order" in audit_page


def test_sme_sees_the_withdrawn_contract_struck_out_of_its_total(client, login_as, contracted):
    booking, _outcome, contract, owner, staff = contracted
    second = services.record_contract(
        outcome=contract.outcome, currency="KRW", amount="5000000", signed_on=contract.signed_on, items="Toner",
        actor=owner, now=utcnow(),
    )  # fmt: skip
    services.withdraw_contract(contract=contract, reason="Recorded twice", actor=staff, now=utcnow())
    db.session.commit()
    login_as(owner)

    html = client.get(f"/consultations/{booking.id}?lang=en").get_data(as_text=True)

    row = re.search(rf'<tr id="contract-{contract.id}" class="([^"]*)">(.*?)</tr>', html, re.S)
    assert row and "contract-withdrawn" in row.group(1)
    assert "<del>1,000.00 USD</del>" in row.group(2) and "Recorded twice" in row.group(2)
    assert re.search(r'id="contracts-total">\s*₩5,000,000', html)
    assert f"/contracts/{second.id}/edit" not in html and "/withdraw" not in html  # not the SME's to do
    assert re.search(r'id="outcome-stage">Contracted<', html)  # the other contract still stands
    assert _year_figures(booking).krw == 5_000_000


def test_withdrawal_needs_the_confirmation_and_a_reason(client, login_as, contracted):
    booking, _outcome, contract, _owner, _staff = contracted
    login_as("staff")
    url = f"/consultations/{booking.id}/contracts/{contract.id}/withdraw"

    unconfirmed = client.submit(url, {"reason": "cancelled"}, follow_redirects=True).get_data(as_text=True)
    no_reason = client.submit(url, {"confirm": "1", "reason": "  "}, follow_redirects=True).get_data(as_text=True)

    assert "tick the box to confirm" in unconfirmed
    assert "Say why the contract is withdrawn." in no_reason
    db.session.expire_all()
    assert not db.session.get(Contract, contract.id).is_withdrawn
    assert _audit("contract.withdraw") == []


def test_staff_page_offers_correction_and_a_confirmed_withdrawal(client, login_as, contracted):
    booking, _outcome, contract, _owner, _staff = contracted
    login_as("staff")
    html = client.get(f"/consultations/{booking.id}?lang=en").get_data(as_text=True)
    assert f'href="/consultations/{booking.id}/contracts/{contract.id}/edit"' in html
    assert f'<dialog class="confirm-dialog" id="confirm-withdraw-{contract.id}-dialog"' in html
    assert 'name="reason"' in html and "goes back to its earlier stage" in html


def test_sme_may_not_correct_or_withdraw_its_own_contract(client, login_as, contracted):
    booking, _outcome, contract, owner, _staff = contracted
    login_as(owner)
    base = f"/consultations/{booking.id}/contracts/{contract.id}"
    assert client.get(f"{base}/edit").status_code == 403
    assert client.submit(f"{base}/edit", {"currency": "USD", "amount": "1", "reason": "x"}).status_code == 403
    assert client.submit(f"{base}/withdraw", {"confirm": "1", "reason": "x"}).status_code == 403
    db.session.expire_all()
    assert not db.session.get(Contract, contract.id).is_withdrawn


def test_another_consultations_contract_is_not_found(client, login_as, contracted):
    booking, _outcome, contract, _owner, staff = contracted
    other = make_consultation(booking.round, 1)
    services.record_log(booking=other, data={"attendance": "held"}, actor=staff, now=utcnow())
    db.session.commit()
    login_as(staff)
    assert client.get(f"/consultations/{other.id}/contracts/{contract.id}/edit").status_code == 404
    response = client.submit(
        f"/consultations/{other.id}/contracts/{contract.id}/withdraw", {"confirm": "1", "reason": "x"}
    )
    assert response.status_code == 404


def test_withdrawn_contract_is_neither_withdrawn_again_nor_corrected(contracted):
    _booking, _outcome, contract, _owner, staff = contracted
    services.withdraw_contract(contract=contract, reason="cancelled", actor=staff, now=utcnow())
    with pytest.raises(Conflict):
        services.withdraw_contract(contract=contract, reason="again", actor=staff, now=utcnow())
    with pytest.raises(Conflict):
        services.correct_contract(
            contract=contract, currency="USD", amount="2", signed_on=contract.signed_on, items="", reason="x",
            actor=staff, now=utcnow(),
        )  # fmt: skip


def test_a_new_contract_after_a_withdrawal_makes_the_outcome_contracted_again(contracted):
    _booking, outcome, contract, owner, staff = contracted
    services.withdraw_contract(contract=contract, reason="wrong buyer", actor=staff, now=utcnow())
    assert outcome.stage == "negotiating"
    services.record_contract(
        outcome=outcome, currency="KRW", amount="700000", signed_on=seoul_date(utcnow()), items="", actor=owner,
        now=utcnow() + timedelta(seconds=1),
    )  # fmt: skip
    assert outcome.stage == "contracted" and services.contracts_total_krw(outcome) == 700_000


def test_erasing_a_consultations_text_removes_the_withdrawal_reason_everywhere(contracted):
    from consultroom.privacy.anonymise import DELETED, erase_booking_text

    booking, _outcome, contract, _owner, staff = contracted
    services.withdraw_contract(contract=contract, reason="Mr Kim of Acme cancelled", actor=staff, now=utcnow())
    db.session.commit()

    erase_booking_text([booking.id])
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Contract, contract.id).withdrawal_reason == DELETED
    texts = [str(e.before) + str(e.after) for e in db.session.scalars(select(AuditEntry))]
    assert not [t for t in texts if "Mr Kim" in t]
