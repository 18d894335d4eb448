"""Demo data: realistic companies and the logins a new user needs. Safe to run twice."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.accounts.services import create_user
from consultroom.companies.models import Company
from consultroom.companies.services import LIST_FIELDS, create_company
from consultroom.companies.validation import business_number_with_check_digit
from consultroom.db import utcnow
from consultroom.demo import history, states
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
    created += _demo_rounds(staff)
    db.session.commit()
    yield f"Demo data ready ({created} records created)."
    yield f"Logins (password for all: {DEMO_PASSWORD}):"
    for email, _name, role, _locale in DEMO_USERS:
        yield f"  {role:6} {email}"


def _demo_rounds(staff: User) -> int:
    """Last program year's rounds (held, with consultations) and a round open for booking now."""

    from consultroom.bookings.services import book_slot, request_from_company
    from consultroom.rounds.models import Round
    from consultroom.rounds.services import create_round, ensure_round, get_settings, open_round, rounds_due_to_open
    from consultroom.timeutil import SEOUL

    if db.session.scalar(select(Round.id).limit(1)) is not None:
        return 0
    now = utcnow()
    settings = get_settings()
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    made = 0
    last_year = now.astimezone(SEOUL).year - 1
    past = []
    for month in settings.months:
        rnd, _created = ensure_round(year=last_year, month=month, actor=staff)
        if rnd is None:
            continue
        rnd.status = "finalized"
        made += 1
        past.append(rnd)
    made += _demo_past_year(staff, past, now)
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


PAST_TARGETS = {
    "consultations": "350",
    "contracts": "200",
    "contract_value_krw": "8000000000",
    "smes": "100",
    "satisfaction": "4.30",
}


def _demo_past_year(staff: User, rounds: list, now: datetime) -> int:
    """Last year's consultations from demo/data/history.csv (consultroom.demo.history: logs, outcomes,
    contracts and SME answers through the services), the year's rate table and published targets."""
    if not rounds:
        return 0
    booked = history.play_bookings(history.history_rows(), rounds, staff)
    held = [(booking, row) for booking, row in booked if row["attendance"] == "held"]
    made = len(booked)
    made += _demo_rates(rounds[0].year, staff)
    made += history.play_outcomes(held, staff, now)
    made += history.play_surveys(held, staff)
    made += _demo_targets(rounds[0].year, staff)
    return made


# The year consultroom/demo/data/exchange_rates.csv is written for (a weekday walk around each
# currency's base rate). A non-leap year, so every date exists in any other year.
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
