"""Demo data: realistic companies and the logins a new user needs. Safe to run twice."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.accounts.services import create_user
from consultroom.companies.models import Company
from consultroom.companies.services import LIST_FIELDS, create_company
from consultroom.companies.validation import business_number_with_check_digit
from consultroom.db import utcnow
from consultroom.demo import states
from consultroom.extensions import db
from consultroom.spreadsheets import csv_text, text_rows

DEMO_PASSWORD = "consultroom-demo"  # noqa: S105 - printed for the demo; never used in production

DEMO_USERS = [
    ("admin@demo.consultroom.kr", "관리자 김민준", "admin", "ko"),
    ("staff@demo.consultroom.kr", "담당자 이서연", "staff", "ko"),
    ("sme@demo.consultroom.kr", "대표 박지훈", "sme", "ko"),
    ("sme2@demo.consultroom.kr", "Kim Ha-eun", "sme", "en"),
]

DEMO_DATA = Path(__file__).parent / "data"


def demo_companies() -> list[dict[str, str]]:
    """The 12 SMEs with logins, from consultroom/demo/data/companies.csv: one row per company, the
    columns named like the company form's fields (companies/schemas.py CompanyIn), read by the
    spreadsheet reader every import uses. The first has a full English profile; the others show
    buyers the Korean text marked untranslated, and staff the "Missing" column."""
    rows = text_rows(csv_text((DEMO_DATA / "companies.csv").read_bytes()))
    header = next(rows)[1]
    return [dict(zip(header, cells, strict=True)) for _n, cells in rows if any(cells)]


# The buyers and interpreters come as files, through the importers staff use (consultroom/demo/data/):
# 18 buyers from 16 countries across time zones, interests lined up with the demo companies' HS codes;
# 7 interpreters between Korean and each program language, weekday hours in Asia/Seoul.


def _import_file(importing, name: str, staff: User) -> int:
    """One of the demo's files through a registry's importer, as staff upload one: parse, preview,
    confirm with the preview's digest (every row checked by the registry's own rules)."""
    path = DEMO_DATA / name
    batch = importing.save_batch(parsed=importing.parse_upload(path.name, path.read_bytes()), actor=staff)
    preview = importing.confirm_batch(batch=batch, digest=importing.preview_batch(batch).digest, actor=staff)
    return len(preview.to_create)


def _demo_buyers_and_interpreters(staff: User) -> int:
    from consultroom.buyers import importing as buyer_import
    from consultroom.buyers.models import Buyer
    from consultroom.interpreters import importing as interpreter_import
    from consultroom.interpreters.models import Interpreter

    made = 0
    if db.session.scalar(select(Buyer.id).limit(1)) is None:
        made += _import_file(buyer_import, "buyers.csv", staff)
    if db.session.scalar(select(Interpreter.id).limit(1)) is None:
        made += _import_file(interpreter_import, "interpreters.csv", staff)
    db.session.flush()
    return made


def _business_number(rng: random.Random) -> str:
    # Tax office code (3), type code (2: 81 = corporation HQ, 86 = corporation branch), serial (4) + check digit.
    first = f"{rng.randint(101, 899)}{rng.choice(['81', '86', '87'])}{rng.randint(0, 9999):04d}"
    return business_number_with_check_digit(first)


# Last year's program had 100 SMEs: the 12 of companies.csv (with logins) and 88 more, generated from them.
DEMO_SME_COUNT = 100
_NAME_PREFIXES = [
    ("한국", "Hanguk"), ("부산", "Busan"), ("동해", "Donghae"), ("남해", "Namhae"), ("새한", "Saehan"),
    ("해성", "Haesung"), ("진영", "Jinyoung"), ("광명", "Gwangmyeong"), ("신라", "Silla"), ("가야", "Gaya"),
    ("금정", "Geumjeong"), ("영도", "Yeongdo"), ("센텀", "Centum"), ("녹산", "Noksan"), ("명지", "Myeongji"),
    ("다대", "Dadae"), ("용호", "Yongho"), ("태종", "Taejong"), ("수영", "Suyeong"), ("기장", "Gijang"),
]  # fmt: skip
# Name endings in the order of the rows of companies.csv (Korean, English).
_NAME_SUFFIXES = [
    ("코스메틱", "Cosmetics"), ("식품", "Foods"), ("정밀", "Precision"), ("바이오", "Bio"),
    ("에너지", "Energy"), ("섬유", "Textile"), ("메디칼", "Medical"), ("소프트", "Soft"),
    ("수산", "Fisheries"), ("가구", "Furniture"), ("농산", "Agro"), ("화학", "Chemical"),
]  # fmt: skip
_ADDRESSES = [
    "부산광역시 해운대구 센텀중앙로 48",
    "부산광역시 강서구 녹산산단로 12",
    "부산광역시 사상구 학감대로 201",
    "부산광역시 기장군 장안읍 반룡산단1로 25",
    "부산광역시 사하구 다대로 170",
]


def _demo_more_companies(rng: random.Random) -> int:
    """SMEs without logins up to DEMO_SME_COUNT, each modeled on a row of companies.csv (industry, HS
    codes, markets); inserted directly, validated by the same rules as create_company."""
    from consultroom.companies.models import CompanyCountry, CompanyHsCode, CompanyLanguage
    from consultroom.companies.services import clean_company_data

    numbers = set(db.session.scalars(select(Company.business_number)))
    names = set(db.session.scalars(select(Company.name_ko)))
    models = demo_companies()
    combos = [(p, i) for p in _NAME_PREFIXES for i in range(len(models))]
    rng.shuffle(combos)
    made: list[Company] = []
    for (prefix_ko, prefix_en), i in combos:
        if len(names) >= DEMO_SME_COUNT:
            break
        name_ko = prefix_ko + _NAME_SUFFIXES[i][0]
        if name_ko in names:
            continue
        names.add(name_ko)
        model = models[i]
        number = _business_number(rng)
        while number in numbers:
            number = _business_number(rng)
        numbers.add(number)
        data = clean_company_data(
            {
                "name_ko": name_ko,
                "name_en": f"{prefix_en} {_NAME_SUFFIXES[i][1]}",
                "business_number": number,
                "representative": rng.choice(["김", "이", "박", "최", "정", "강", "조", "윤"])
                + rng.choice(["영수", "미경", "동현", "수진", "정호", "은지"]),
                "address": rng.choice(_ADDRESSES),
                **{
                    name: model[name]
                    for name in ("industry", "products", "hs_codes", "export_markets", "target_countries", "languages")
                },
                "contact_name": "",
                "contact_email": "",
                "contact_phone": f"051-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            }
        )
        company = Company(**{k: v for k, v in data.items() if k not in LIST_FIELDS})
        company.hs_code_rows = [CompanyHsCode(code=c) for c in data["hs_codes"]]
        company.country_rows = [CompanyCountry(kind="export", code=c) for c in data["export_markets"]] + [
            CompanyCountry(kind="target", code=c) for c in data["target_countries"]
        ]
        company.language_rows = [CompanyLanguage(code=c) for c in data["languages"]]
        made.append(company)
    db.session.add_all(made)
    db.session.flush()
    return len(made)


def _demo_consents(rng: random.Random) -> int:
    """The consents the demo SMEs gave when they registered and filled in their company (PIPA):
    the account and company notices agreed to, marketing mail agreed to by about half."""
    from consultroom.privacy.models import ConsentRecord
    from consultroom.privacy.notices import NOTICES

    if db.session.scalar(select(ConsentRecord.id).limit(1)) is not None:
        return 0
    smes = db.session.scalars(select(User).where(User.role == "sme").order_by(User.id)).all()
    rows: list[ConsentRecord] = []
    for user in smes:
        given = [("user", user.id, "account", True), ("user", user.id, "marketing_email", rng.random() < 0.5)]
        if user.company_id is not None:
            given.append(("company", user.company_id, "company_profile", True))
        rows += [
            ConsentRecord(
                subject_type=subject_type,
                subject_id=subject_id,
                user_id=user.id,
                purpose=purpose,
                notice_version=NOTICES[purpose].version,
                granted=granted,
                via="web",
                at=user.created_at,
            )
            for subject_type, subject_id, purpose, granted in given
        ]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def load_demo() -> Iterator[str]:
    rng = random.Random(2021)
    created = 0
    users: dict[str, User] = {}
    for email, name, role, locale in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email=email, password=DEMO_PASSWORD, name=name, role=role, locale=locale, actor=None)
            created += 1
        users[email] = user
    staff = users["staff@demo.consultroom.kr"]

    if db.session.scalar(select(Company.id).limit(1)) is None:
        # Not an importer (there is none for companies): each row goes through create_company, the
        # service the company form calls, so the form's schema checks it and the audit log records it.
        # The owner is the contact: a demo login, or a new SME login for the company.
        for row in demo_companies():
            owner = users.get(row["contact_email"])
            if owner is None:
                owner = create_user(
                    email=row["contact_email"],
                    password=DEMO_PASSWORD,
                    name=row["contact_name"],
                    role="sme",
                    locale="ko",
                    actor=None,
                )
            owner.email_confirmed_at = owner.email_confirmed_at or utcnow()
            # The demo logins register their own company; staff register the others for them.
            create_company(owner=owner, actor=owner if row["contact_email"] in users else staff, data=row)
            created += 1
        created += _demo_more_companies(rng)
    created += _demo_consents(rng)
    db.session.commit()
    created += _demo_buyers_and_interpreters(staff)
    db.session.commit()
    created += _demo_rounds(rng, staff)
    db.session.commit()
    yield f"Demo data ready ({created} records created)."
    yield f"Logins (password for all: {DEMO_PASSWORD}):"
    for email, _name, role, _locale in DEMO_USERS:
        yield f"  {role:6} {email}"


def _past_match(rng, company, start, busy, buyers, interpreters, sessions=None):
    """A buyer for a past consultation (preferring one whose interests share the HS chapter, then one
    the company can talk to) and an interpreter for the buyer's language, each free at `start` and
    the interpreter under their daily cap (`sessions` counts them per day); marks both busy."""
    sessions = {} if sessions is None else sessions

    def interpreter_for(buyer):
        for interpreter in interpreters:
            if (
                ("interpreter", interpreter.id, start) not in busy
                and sessions.get(interpreter.id, 0) < interpreter.max_sessions_per_day
                and set(interpreter.languages) & set(buyer.languages)
            ):
                return interpreter
        return None

    chapters = {code[:2] for code in company.hs_codes}
    free = [b for b in buyers if ("buyer", b.id, start) not in busy]
    fitting = [b for b in free if chapters & {code[:2] for code in b.interest_codes}] or free
    reachable = [b for b in fitting if set(company.languages) & set(b.languages) or interpreter_for(b) is not None]
    if not fitting:
        return None, None
    buyer = rng.choice(reachable or fitting)
    busy.add(("buyer", buyer.id, start))
    if set(company.languages) & set(buyer.languages):
        return buyer, None
    interpreter = interpreter_for(buyer)
    if interpreter is not None:
        busy.add(("interpreter", interpreter.id, start))
        sessions[interpreter.id] = sessions.get(interpreter.id, 0) + 1
    return buyer, interpreter


def _demo_rounds(rng: random.Random, staff: User) -> int:
    """Last program year's rounds (held, with consultations) and a round open for booking now."""
    from datetime import timedelta

    from consultroom.bookings.services import book_slot, request_from_company
    from consultroom.buyers.models import Buyer
    from consultroom.interpreters.models import Interpreter
    from consultroom.rounds.models import Round
    from consultroom.rounds.services import create_round, ensure_round, get_settings, open_round, rounds_due_to_open
    from consultroom.timeutil import SEOUL

    if db.session.scalar(select(Round.id).limit(1)) is not None:
        return 0
    now = utcnow()
    settings = get_settings()
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    made = 0
    buyers = db.session.scalars(select(Buyer).order_by(Buyer.id)).all()
    interpreters = db.session.scalars(select(Interpreter).order_by(Interpreter.id)).all()
    last_year = now.astimezone(SEOUL).year - 1
    past = []
    for month in settings.months:
        rnd, _created = ensure_round(year=last_year, month=month, actor=staff)
        if rnd is None:
            continue
        rnd.status = "finalized"
        made += 1
        past.append(rnd)
    made += _demo_past_year(rng, staff, past, companies, buyers, interpreters, now)
    db.session.flush()
    # Before the coming rounds: a recent round takes the month it falls in (one round a month).
    sme = db.session.scalar(select(User).where(User.email == "sme@demo.consultroom.kr"))
    sme2 = db.session.scalar(select(User).where(User.email == "sme2@demo.consultroom.kr"))
    made += states.recent_rounds(staff=staff, sme=sme, companies=companies, now=now)

    # This year's coming rounds from the settings; open the one whose window is open now.
    local = now.astimezone(SEOUL)
    for i in range(3):
        year, month = (local.year + (local.month - 1 + i) // 12, (local.month - 1 + i) % 12 + 1)
        _rnd, created = ensure_round(year=year, month=month, actor=staff, not_after=now)
        made += created
    due = rounds_due_to_open(now)
    if not due:
        # Outside the program's usual window (or months): a special round three weeks out, open now.
        day = (local + timedelta(days=21)).date()
        while day.weekday() >= 5 or db.session.scalar(
            select(Round.id).where(Round.year == day.year, Round.month == day.month)
        ):
            day += timedelta(days=1)
        special = create_round(
            data={
                "day": day,
                "title": f"{day.year}년 {day.month}월 특별 수출상담회",
                "booking_opens_at": now - timedelta(hours=1),
                "booking_closes_at": now + timedelta(days=14),
            },
            actor=staff,
        )
        due = [special]
        made += 1
    for rnd in due:
        open_round(rnd=rnd, actor=staff, now=now)
    open_rnd = due[0]
    # A few bookings by other demo companies, so the grid is not empty; the demo SMEs book themselves.
    waiting = [
        book_slot(company=company, slot=slot, request=request_from_company(company), actor=staff, now=now)
        for company, slot in zip(companies[2:6], open_rnd.slots[::3], strict=False)
    ]
    made += len(waiting)
    made += states.open_round_states(rnd=open_rnd, staff=staff, sme=sme, sme2=sme2, waiting=waiting, now=now)
    made += states.full_round_with_waitlist(staff=staff, sme=sme, companies=companies[9:12], now=now)
    return made


# Last program year as published: 383 held consultations, 224 of them with contracts worth
# 8,569,000,000 KRW, SME satisfaction 4.50. The report computes these from the records below.
PAST_HELD = 383
PAST_NO_SHOWS_PER_ROUND = 2
PAST_CONTRACTED = 224
PAST_CONTRACT_KRW = 8_569_000_000
PAST_BOOTHS = 8  # last year's rounds ran 8 booths (the settings' default is 4)
# (currency, KRW per unit around which last year's table moves, share of contracts, rounding unit)
PAST_CURRENCIES = [
    ("USD", Decimal("1360"), 30, Decimal(10)),
    ("JPY", Decimal("9.30"), 15, Decimal(10_000)),
    ("EUR", Decimal("1470"), 15, Decimal(10)),
    ("CNY", Decimal("187"), 15, Decimal(100)),
    ("VND", Decimal("0.0550"), 10, Decimal(1_000_000)),
    ("KRW", Decimal(1), 15, Decimal(100_000)),
]
PAST_TARGETS = {
    "consultations": "350",
    "contracts": "200",
    "contract_value_krw": "8000000000",
    "smes": "100",
    "satisfaction": "4.30",
}


def _held_per_round(rounds: int) -> list[int]:
    base, extra = divmod(PAST_HELD, rounds)
    return [base + (1 if i < extra else 0) for i in range(rounds)]


def _demo_past_year(rng, staff, rounds, companies, buyers, interpreters, now) -> int:
    """Bookings of last year's rounds as they ended (held or no-show), with logs, outcomes,
    contracts, survey answers, the year's rate table and published targets."""
    from consultroom.bookings.models import Booking
    from consultroom.bookings.services import request_from_company
    from consultroom.rounds.models import Slot

    if not rounds:
        return 0
    made = 0
    held: list[Booking] = []
    # Companies take turns in a fixed order, so every SME has a held consultation and none has two
    # in one round (a chunk of <= 100 consecutive turns has no repeats).
    order = list(companies)
    rng.shuffle(order)
    turn = 0
    for rnd, n_held in zip(rounds, _held_per_round(len(rounds)), strict=True):
        # More booths than the settings' default: the year's real rounds were bigger.
        booths = {s.booth for s in rnd.slots}
        starts = sorted({(s.starts_at, s.ends_at) for s in rnd.slots})
        for booth in range(max(booths) + 1, PAST_BOOTHS + 1):
            for start, end in starts:
                rnd.slots.append(Slot(booth=booth, starts_at=start, ends_at=end))
        db.session.flush()
        # With fewer SMEs than consultations (companies kept from before the demo): each once.
        n_held = min(n_held, len(order))
        chosen = [order[(turn + i) % len(order)] for i in range(n_held)]
        turn += n_held
        others = [c for c in companies if c not in chosen]
        absent = rng.sample(others, k=min(len(others), PAST_NO_SHOWS_PER_ROUND))
        entries = [(c, "held") for c in chosen] + [(c, "no_show") for c in absent]
        rng.shuffle(entries)
        free = {start: [s for s in rnd.slots if s.starts_at == start] for start, _end in starts}
        busy: set[tuple[str, int, datetime]] = set()  # (party, id, start): nobody in two places at once
        sessions: dict[int, int] = {}  # interpreter id -> consultations that day
        rows = []
        for i, (company, status) in enumerate(entries):
            start = starts[i % len(starts)][0]
            slot = free[start].pop(0)
            buyer, interpreter = _past_match(rng, company, start, busy, buyers, interpreters, sessions)
            booking = Booking(
                buyer_id=buyer.id if buyer else None,
                interpreter_id=interpreter.id if interpreter else None,
                buyer_response="accepted" if buyer else None,
                interpreter_response="accepted" if interpreter else None,
                round_id=rnd.id,
                slot_id=slot.id,
                company_id=company.id,
                seq=1,
                cap=rnd.company_cap,
                status=status,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                created_at=rnd.booking_opens_at + timedelta(days=1, minutes=i),
                created_by_id=staff.id,
                **request_from_company(company).as_dict(),
            )
            rows.append(booking)
            if status == "held":
                held.append(booking)
        db.session.add_all(rows)
        db.session.flush()
        made += len(rows)
    made += _demo_rates(rounds[0].year, staff)
    made += _demo_outcomes(rng, held, staff, now)
    made += _demo_surveys(rng, held, staff)
    made += _demo_targets(rounds[0].year, staff)
    return made


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


# The year consultroom/demo/data/exchange_rates.csv is written for (a weekday walk around each
# PAST_CURRENCIES base rate). A non-leap year, so every date exists in any other year.
RATES_FILE_YEAR = 2025


def _demo_rates(year: int, staff: User) -> int:
    """Last year's KRW rate table from the demo's file, through the import admins use (read, parse,
    preview, confirm with the preview's digest). The file's dates are moved to `year`, the demo's
    past year; days an admin already entered are kept (left out of the upload, not updated)."""
    from consultroom.outcomes import rates

    table = list(csv.reader(io.StringIO(rates.read_csv_text((DEMO_DATA / "exchange_rates.csv").read_bytes()))))
    moved = [table[0]] + [[day.replace(f"{RATES_FILE_YEAR}-", f"{year}-", 1), *rest] for day, *rest in table[1:]]
    text = _csv_text(moved)
    preview = rates.plan_import(rates.parse_rates_csv(text))
    if preview.changes:
        text = _csv_text([moved[0]] + [r for r in moved[1:] if (r[1], date.fromisoformat(r[0])) not in preview.changes])
        preview = rates.plan_import(rates.parse_rates_csv(text))
    if not preview.new_count:
        return 0
    rates.apply_import(text=text, digest=preview.digest(), update_existing=False, actor=staff)
    return preview.new_count


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _demo_outcomes(rng: random.Random, held: list, staff: User, now: datetime) -> int:
    """A log and an outcome for every held consultation; PAST_CONTRACTED of them contracted through
    record_contract (KRW values at the signing day's rate), worth PAST_CONTRACT_KRW in all."""
    from consultroom.outcomes.models import ConsultationLog, Outcome, OutcomeChange
    from consultroom.outcomes.rates import rate_for
    from consultroom.outcomes.services import record_contract, refresh_followup_due
    from consultroom.timeutil import seoul_date

    made = 0
    today = seoul_date(now)
    outcomes = []
    contracted = set(rng.sample(range(len(held)), k=min(PAST_CONTRACTED, len(held))))
    for i, booking in enumerate(held):
        day = seoul_date(booking.starts_at)
        interest = (
            rng.choice(["high", "high", "medium"])
            if i in contracted
            else rng.choice(["none", "low", "medium", "medium", "high"])
        )
        samples = interest in ("medium", "high") and rng.random() < 0.5
        db.session.add(
            ConsultationLog(
                booking_id=booking.id,
                attendance="held",
                buyer_interest=interest,
                products_discussed=booking.products.replace("\n", ", "),
                samples_requested=samples,
                samples_text="샘플 5종 발송 요청" if samples else "",
                next_action="견적서 송부" if interest != "none" else "",
                next_action_on=day + timedelta(days=7) if interest != "none" else None,
                recorded_at=booking.ends_at + timedelta(hours=1),
                recorded_by_id=staff.id,
                updated_at=booking.ends_at + timedelta(hours=1),
            )
        )
        outcome = Outcome(
            booking_id=booking.id,
            stage="follow_up",
            stage_on=day,
            created_at=booking.ends_at + timedelta(hours=1),
            last_update_at=booking.ends_at + timedelta(hours=1),
        )
        outcome.booking = booking
        outcome.changes.append(OutcomeChange(changed_on=day, actor_id=staff.id, from_stage=None, to_stage="follow_up"))
        if i not in contracted:
            stage = rng.choice(["follow_up", "sample_sent", "negotiating", "negotiating", "dropped", "dropped"])
            if stage != "follow_up":
                on = min(day + timedelta(days=rng.randint(7, 45)), today)
                outcome.changes.append(
                    OutcomeChange(changed_on=on, actor_id=staff.id, from_stage="follow_up", to_stage=stage)
                )
                outcome.stage, outcome.stage_on = stage, on
        refresh_followup_due(outcome, booking)
        outcomes.append((i, outcome))
        made += 2
    db.session.add_all([o for _i, o in outcomes])
    db.session.flush()

    # The contracts: one per contracted consultation, a second for some; each amount rounded in its
    # currency from a share of the total, the last one in KRW with what remains to the exact total.
    plan = []
    for i, outcome in outcomes:
        if i in contracted:
            plan += [outcome] * (2 if rng.random() < 0.15 else 1)
    weights = [rng.uniform(0.2, 1.8) for _ in plan]
    budget = Decimal(PAST_CONTRACT_KRW - 30_000_000)
    currencies = [c for c in PAST_CURRENCIES for _n in range(c[2])]
    total = 0
    for n, (outcome, weight) in enumerate(zip(plan, weights, strict=True)):
        day = seoul_date(outcome.booking.starts_at)
        year_end = date(day.year, 12, 31)
        signed = _weekday_on_or_before(min(day + timedelta(days=rng.randint(7, 75)), year_end, today))
        signed = max(signed, day)
        last = n == len(plan) - 1
        if last:
            code, amount = "KRW", Decimal(PAST_CONTRACT_KRW - total)
        else:
            code, _base, _share, unit = rng.choice(currencies)
            rate = rate_for(currency=code, day=signed).krw_per_unit
            amount = (budget * Decimal(weight) / Decimal(sum(weights)) / Decimal(rate) / unit).quantize(
                Decimal(1)
            ) * unit
            amount = max(amount, unit)
        contract = record_contract(
            outcome=outcome,
            currency=code,
            amount=amount,
            signed_on=signed,
            items=outcome.booking.products.split("\n")[0],
            actor=staff,
            now=now,
        )
        total += contract.krw_value
        made += 1
    return made


# Per-response sums of the three 1-5 answers, in pairs averaging 4.5 (27 / 6).
_SCORE_PAIRS = [(15, 12), (14, 13), (14, 13), (15, 12), (13, 14)]
_COMMENTS = [
    "통역이 매끄러워 상담에 집중할 수 있었습니다.",
    "바이어가 사전에 제품을 검토하고 와서 유익했습니다.",
    "상담 시간이 조금 더 길었으면 좋겠습니다.",
    "후속 연락까지 챙겨 주셔서 감사합니다.",
]


def _scores(rng: random.Random, total: int) -> list[int]:
    options = [(a, b, total - a - b) for a in range(1, 6) for b in range(1, 6) if 1 <= total - a - b <= 5]
    return list(rng.choice(options))


def _demo_surveys(rng: random.Random, held: list, staff: User) -> int:
    """The SME question set (three 1-5 questions and a comment) and answers from most held
    consultations, with per-response means averaging exactly 4.5."""
    from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
    from consultroom.surveys.services import active_version, add_question

    made = 0
    version = active_version("sme")
    if version is None or not any(q.kind == "scale5" for q in version.questions):
        for kind, ko, en in [
            ("scale5", "상담 준비와 진행에 만족하셨습니까?", "How satisfied were you with the consultation?"),
            ("scale5", "바이어가 귀사 제품에 적합했습니까?", "Did the buyer fit your products?"),
            ("scale5", "통역과 화상 연결은 원활했습니까?", "Did interpretation and the video call work well?"),
            ("text", "개선할 점이 있으면 적어 주세요.", "What could we do better?"),
        ]:
            add_question(
                audience="sme",
                data={"kind": kind, "text_ko": ko, "text_en": en, "required": kind == "scale5"},
                actor=staff,
            )
            made += 1
        version = active_version("sme")
    scale = [q for q in version.questions if q.kind == "scale5"]
    texts = [q for q in version.questions if q.kind == "text"]
    answered = rng.sample(held, k=(len(held) * 9 // 10) // 2 * 2)  # an even number: pairs average 4.5
    sums = [s for _n in range(len(answered) // 2) for s in rng.choice(_SCORE_PAIRS)]
    rng.shuffle(sums)
    invitations = []
    for booking, total in zip(answered, sums, strict=True):
        invited = booking.ends_at + timedelta(hours=2)
        invitation = SurveyInvitation(
            booking_id=booking.id,
            respondent="sme",
            locale="ko",
            invited_at=invited,
            expires_at=invited + timedelta(days=14),
            mails_sent=1,
        )
        response = SurveyResponse(
            version_id=version.id, submitted_at=invited + timedelta(hours=rng.randint(1, 72)), locale="ko"
        )
        points = _scores(rng, total) if len(scale) == 3 else [round(total / 3)] * len(scale)
        response.answers = [SurveyAnswer(question_id=q.id, score=p) for q, p in zip(scale, points, strict=True)]
        if texts and rng.random() < 0.3:
            response.answers.append(SurveyAnswer(question_id=texts[0].id, text=rng.choice(_COMMENTS)))
        invitation.response = response
        invitations.append(invitation)
    db.session.add_all(invitations)
    db.session.flush()
    return made + 2 * len(invitations)


def _demo_targets(year: int, staff: User) -> int:
    """The year's targets, published in the December before it, as the target disclosure asks."""
    from consultroom.reports.models import METRICS
    from consultroom.reports.queries import targets_for
    from consultroom.reports.targets import save_targets
    from consultroom.timeutil import seoul_to_utc

    if targets_for(year):
        return 0
    published = seoul_to_utc(date(year - 1, 12, 15), time(10, 0))
    save_targets(year=year, values=dict(PAST_TARGETS), publish=set(METRICS), actor=staff, now=published)
    return len(PAST_TARGETS)
