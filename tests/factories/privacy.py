"""Factories for retention and erasure tests: a whole past program year of real rows (consultations,
logs, outcomes, contracts in several currencies, survey answers, mails, access-log rows), every
subject registered in that year, so the retention periods run from its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException
from consultroom.notifications.services import queue_mail, queue_mail_to_user
from consultroom.outcomes.services import change_stage, outcome_for, record_log
from consultroom.privacy.models import PersonalDataAccess
from consultroom.rounds.models import Round
from tests.factories.accounts import make_user
from tests.factories.buyers import make_buyer
from tests.factories.companies import make_company
from tests.factories.interpreters import make_interpreter
from tests.factories.outcomes import ContractFactory, make_consultation, make_rate
from tests.factories.rounds import make_round
from tests.factories.surveys import SurveyQuestionFactory, survey


def at(year: int, month: int = 1, day: int = 10) -> datetime:
    return datetime(year, month, day, 3, 0, tzinfo=UTC)


def backdate(obj, year: int, month: int = 1) -> None:
    """Registered in `year`: the retention clock of a subject without later activity starts there."""
    obj.created_at = at(year, month)
    obj.updated_at = at(year, month)
    db.session.flush()


def sme(year: int, *, email: str, name: str, phone: str = "010-1234-5678", **company) -> tuple[User, Company]:
    user = make_user("sme", email=email, name=name)
    user.phone = phone
    firm = make_company(
        owner=user,
        contact_name=name,
        contact_email=email,
        contact_phone=phone,
        representative=f"{name} 대표",
        **company,
    )
    backdate(user, year)
    backdate(firm, year)
    return user, firm


def buyer(year: int, *, email: str, country: str, languages: tuple[str, ...]) -> Buyer:
    b = make_buyer(
        email=email,
        country=country,
        languages=languages,
        contact_name=f"Contact {email.split('@')[0]}",
        phone="+1 555 0100",
        notes="Prefers calls after 5pm",
    )
    backdate(b, year)
    return b


def interpreter(year: int, *, email: str, name: str) -> Interpreter:
    i = make_interpreter(name=name, email=email, phone="010-9999-0000")
    backdate(i, year)
    return i


def consultation(
    rnd: Round, index: int, firm: Company, who: Buyer, by: Interpreter, *, status: str = "confirmed"
) -> Booking:
    booking = make_consultation(rnd, index, company=firm, interpreter=by, status=status)
    booking.buyer_id = who.id
    booking.hs_codes = list(firm.hs_codes)
    booking.buyer_profile = "Importers of premium cosmetics"
    booking.notes = "Please call 010-1234-5678 before"
    db.session.flush()
    return booking


def past_round(day: date) -> Round:
    rnd = make_round(day=day, status="closed", booths=3, slots_per_booth=2)
    return rnd


@dataclass
class PastYear:
    year: int
    staff: User
    admin: User
    users: dict[str, User]
    companies: dict[str, Company]
    buyers: dict[str, Buyer]
    interpreters: dict[str, Interpreter]
    bookings: dict[str, Booking]
    emails: list[str]  # every personal e-mail address in the data set
    mails: dict[str, int]  # "pending" to buyer b1, "sent" to user u1


def build_past_year(year: int = 2022) -> PastYear:
    """Two rounds of `year` with three consultations (two held with contracts in USD, JPY and KRW,
    one no-show), logs, outcome notes, SME and buyer survey answers, a waitlist entry, an
    interpreter's day off, mails and access-log rows; everyone registered in `year`."""
    staff = make_user("staff", email="staff@city.example.kr", name="Staff Park")
    admin = make_user("admin", email="admin@city.example.kr", name="Admin Lee")
    u1, c1 = sme(year, email="kim@alpha.example.kr", name="김알파", hs_codes=("330499",))
    u2, c2 = sme(year, email="lee@beta.example.kr", name="이베타", hs_codes=("850440",))
    b1 = buyer(year, email="john@acme.example.com", country="US", languages=("en",))
    b2 = buyer(year, email="sato@nihon.example.jp", country="JP", languages=("ja",))
    b3 = buyer(year, email="nguyen@viet.example.vn", country="VN", languages=("vi", "en"))
    i1 = interpreter(year, email="park.interp@example.kr", name="Park Interpreter")
    r_a = past_round(date(year, 3, 9))
    r_b = past_round(date(year, 6, 8))
    k1 = consultation(r_a, 0, c1, b1, i1)
    k2 = consultation(r_a, 3, c2, b2, i1)  # an hour later: one interpreter for both
    k3 = consultation(r_b, 0, c1, b3, i1)
    for k in (k1, k2):
        record_log(
            booking=k,
            data={
                "attendance": "held",
                "buyer_interest": "high",
                "products_discussed": "Serum line, talked to John directly",
                "samples_requested": True,
                "samples_text": "Ship 20 samples to John at 5 Main St",
                "next_action": "Call John on his mobile",
                "notes": "John's mobile +1 555 0100",
            },
            actor=staff,
            now=k.ends_at,
        )
    record_log(booking=k3, data={"attendance": "no_show", "absent_party": "buyer"}, actor=staff, now=k3.ends_at)
    make_rate("USD", date(year, 3, 20), "1200.50")
    make_rate("JPY", date(year, 3, 25), "9.8765")
    change_stage(
        outcome=outcome_for(k2),
        to_stage="negotiating",
        on=date(year, 3, 12),
        note="Sato-san asked for a discount by phone",
        actor=staff,
        now=k2.ends_at + timedelta(days=3),
    )
    for k, currency, amount, day in (
        (k1, "USD", "10000.00", date(year, 3, 20)),
        (k1, "KRW", "3000000", date(year, 3, 28)),
        (k2, "JPY", "1000000", date(year, 3, 25)),
    ):
        ContractFactory(outcome=outcome_for(k), currency=currency, amount=amount, signed_on=day,
                        items="500 units of serum for John's shops", actor=staff,
                        now=k.ends_at + timedelta(days=30))  # fmt: skip
    q1, q2 = (
        SurveyQuestionFactory(kind=kind, text_ko=f"질문{n}", text_en=f"Q{n}", actor=admin)
        for n, kind in enumerate(("scale5", "text"))
    )
    bq, bt = (
        SurveyQuestionFactory(audience="buyer", kind=kind, text_ko=f"바이어{n}", text_en=f"Buyer Q{n}", actor=admin)
        for n, kind in enumerate(("scale5", "text"))
    )
    survey(k1, "sme", {q1: 5, q2: "김알파: 바이어 연락처 010-1234-5678"})
    survey(k2, "sme", {q1: 3, q2: "이베타 의견"})
    survey(k1, "buyer", {bq: 4, bt: "John: great meeting"})
    for rnd in (r_a, r_b):
        rnd.status = "finalized"
    entry = WaitlistEntry(
        round_id=r_a.id,
        company_id=c2.id,
        status="expired",
        products="Chargers",
        notes="Call 이베타",
        created_at=at(year, 2),
    )
    away = InterpreterException(interpreter_id=i1.id, day=date(year, 5, 1), note="Park's hospital visit")
    db.session.add_all([entry, away])
    # A mail still waiting to go out to a buyer, one sent to an SME user.
    pending = queue_mail(to=b1.email, template="confirm_email", context={"link": "http://localhost/x"}, locale="en")
    sent = queue_mail_to_user(user=u1, template="confirm_email", context={"link": "http://localhost/y"})
    sent.status = "sent"
    db.session.add_all(
        PersonalDataAccess(
            at=at(year, 7),
            actor_id=staff.id,
            subject_type="buyer",
            subject_id=b1.id,
            action="view",
            what="buyers.detail",
        )
        for _ in range(3)
    )
    db.session.flush()
    return PastYear(
        year=year,
        staff=staff,
        admin=admin,
        users={"u1": u1, "u2": u2},
        companies={"c1": c1, "c2": c2},
        buyers={"b1": b1, "b2": b2, "b3": b3},
        interpreters={"i1": i1},
        bookings={"k1": k1, "k2": k2, "k3": k3},
        emails=[u1.email, u2.email, b1.email, b2.email, b3.email, i1.email],
        mails={"pending": pending.id, "sent": sent.id},
    )


def upcoming_consultation(*, buyer_: Buyer | None = None, interp: Interpreter | None = None, company=None) -> Booking:
    """A confirmed consultation about a month from now."""
    now = utcnow()
    rnd = make_round(day=(now + timedelta(days=30)).date(), closes_at=now + timedelta(days=60))
    booking = make_consultation(rnd, 0, company=company, interpreter=interp)
    if buyer_ is not None:
        booking.buyer_id = buyer_.id
    db.session.flush()
    return booking
