"""Demo data: realistic companies and the logins a new user needs. Safe to run twice."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.accounts.services import create_user
from consultroom.companies.models import Company
from consultroom.companies.services import create_company
from consultroom.companies.validation import business_number_with_check_digit
from consultroom.db import utcnow
from consultroom.extensions import db

DEMO_PASSWORD = "consultroom-demo"  # noqa: S105 - printed for the demo; never used in production

DEMO_USERS = [
    ("admin@demo.consultroom.kr", "관리자 김민준", "admin", "ko"),
    ("staff@demo.consultroom.kr", "담당자 이서연", "staff", "ko"),
    ("sme@demo.consultroom.kr", "대표 박지훈", "sme", "ko"),
    ("sme2@demo.consultroom.kr", "Kim Ha-eun", "sme", "en"),
]

# (name_ko, name_en, industry, products, hs codes, export markets, target countries, languages)
DEMO_COMPANIES = [
    (
        "한빛코스메틱",
        "Hanbit Cosmetics",
        "화장품",
        "기초화장품\n마스크팩",
        ["330499", "330410"],
        ["CN", "VN"],
        ["US", "TH"],
        ["ko", "en", "zh"],
    ),
    ("서해식품", "Seohae Foods", "식품", "김 스낵\n조미김", ["200899", "121221"], ["JP"], ["US", "AU"], ["ko", "ja"]),
    (
        "대성정밀",
        "Daesung Precision",
        "기계부품",
        "CNC 가공 부품",
        ["848340", "848210"],
        ["DE"],
        ["MX", "PL"],
        ["ko", "en"],
    ),
    ("청운바이오", "Cheongun Bio", "바이오", "건강기능식품 원료", ["210690", "130219"], [], ["VN", "ID"], ["ko"]),
    (
        "미래에너지솔루션",
        "Mirae Energy Solutions",
        "에너지",
        "태양광 인버터",
        ["850440"],
        ["US"],
        ["IN", "AE"],
        ["ko", "en"],
    ),
    (
        "동방섬유",
        "Dongbang Textile",
        "섬유",
        "기능성 원단",
        ["540752", "600632"],
        ["VN", "BD"],
        ["TR", "IT"],
        ["ko", "en"],
    ),
    (
        "가온메디칼",
        "Gaon Medical",
        "의료기기",
        "일회용 주사기\n수액세트",
        ["901831", "901839"],
        ["SA"],
        ["BR", "EG"],
        ["ko", "en", "ar"],
    ),
    ("누리소프트", "Nuri Soft", "소프트웨어", "스마트팩토리 MES", ["852349"], [], ["JP", "SG"], ["ko", "ja", "en"]),
    (
        "태평양수산",
        "Pacific Fisheries",
        "수산물",
        "냉동 전복\n건미역",
        ["030781", "121229"],
        ["CN", "HK"],
        ["US", "CA"],
        ["ko", "zh"],
    ),
    ("한결가구", "Hangyeol Furniture", "가구", "원목 식탁", ["940360"], [], ["AU", "NZ"], ["ko", "en"]),
    ("우리농산", "Woori Agro", "농산물", "배, 파프리카", ["080830", "070960"], ["TW"], ["VN", "MY"], ["ko", "zh"]),
    ("세종화학", "Sejong Chemical", "화학", "산업용 접착제", ["350691"], ["IN"], ["RU", "KZ"], ["ko", "ru"]),
]

# Buyers from 12 countries across time zones; interests line up with the demo companies' HS codes.
# (company, country, contact, e-mail, time zone, languages, interest codes, size, meeting hours local)
DEMO_BUYERS = [
    ("Pacific Beauty Supply", "US", "Emily Carter", "emily@pacificbeauty.example.com", "America/Los_Angeles", ["en"], ["3304"], "medium", ("08:00", "17:00")),
    ("Atlantic Gourmet Imports", "US", "Daniel Brooks", "dbrooks@atlanticgourmet.example.com", "America/New_York", ["en"], ["2008", "1212", "0307"], "large", ("08:00", "18:00")),
    ("Saigon Cosmetics JSC", "VN", "Nguyen Thi Lan", "lan@saigoncosmetics.example.vn", "Asia/Ho_Chi_Minh", ["vi", "en"], ["330499", "2106"], "medium", ("08:30", "17:30")),
    ("Hanoi Agro Trading", "VN", "Tran Van Minh", "minh@hanoiagro.example.vn", "Asia/Ho_Chi_Minh", ["vi"], ["08", "0709", "2106"], "small", ("08:00", "17:00")),
    ("Bangkok Health & Beauty", "TH", "Somchai Wongsakul", "somchai@bkkhb.example.co.th", "Asia/Bangkok", ["th", "en"], ["3304"], "small", ("09:00", "18:00")),
    ("Sydney Fine Foods", "AU", "Olivia Nguyen", "olivia@sydneyfinefoods.example.com.au", "Australia/Sydney", ["en"], ["2008", "9403"], "medium", ("09:00", "17:00")),
    ("Kiwi Home Living", "NZ", "James Walker", "james@kiwihome.example.co.nz", "Pacific/Auckland", ["en"], ["9403"], "small", ("09:00", "17:00")),
    ("Monterrey Industrial Parts", "MX", "Alejandro Ruiz", "aruiz@mtyparts.example.mx", "America/Monterrey", ["es", "en"], ["8483", "8482"], "large", ("08:00", "18:00")),
    ("Polska Maszyny", "PL", "Katarzyna Nowak", "k.nowak@polskamaszyny.example.pl", "Europe/Warsaw", ["pl", "en"], ["848340", "84"], "medium", ("08:00", "16:00")),
    ("Jakarta Nutrisi", "ID", "Budi Santoso", "budi@jakartanutrisi.example.co.id", "Asia/Jakarta", ["id", "en"], ["2106", "1302"], "medium", ("08:00", "17:00")),
    ("Dubai Solar Trading", "AE", "Omar Al Farsi", "omar@dubaisolar.example.ae", "Asia/Dubai", ["ar", "en"], ["8504"], "large", ("09:00", "18:00")),
    ("Mumbai Power Systems", "IN", "Priya Sharma", "priya@mumbaipower.example.in", "Asia/Kolkata", ["en"], ["850440", "3506"], "large", ("10:00", "19:00")),
    ("Istanbul Tekstil", "TR", "Mehmet Yilmaz", "mehmet@istanbultekstil.example.com.tr", "Europe/Istanbul", ["tr", "en"], ["5407", "6006"], "medium", ("09:00", "18:00")),
    ("São Paulo Medical", "BR", "Ana Souza", "ana@spmedical.example.com.br", "America/Sao_Paulo", ["pt", "es"], ["9018"], "medium", ("08:00", "17:00")),
    ("Tokyo Smart Factory", "JP", "Kenji Sato", "sato@tokyosmart.example.jp", "Asia/Tokyo", ["ja"], ["852349", "2008"], "large", ("09:00", "18:00")),
    ("Almaty Chem Import", "KZ", "Aigerim Seitkali", "aigerim@almatychem.example.kz", "Asia/Almaty", ["ru"], ["3506"], "small", ("09:00", "18:00")),
    ("Shanghai Seafood Co.", "CN", "Li Wei", "liwei@shseafood.example.cn", "Asia/Shanghai", ["zh"], ["0307", "1212"], "large", ("09:00", "17:30")),
    ("Madrid Alimentación", "ES", "Lucía García", "lucia@madridalim.example.es", "Europe/Madrid", ["es"], ["2008", "0808"], "small", ("09:00", "18:00")),
]

# Interpreters between Korean and each program language; weekly hours in Asia/Seoul.
# (name, e-mail, languages, specialties, daily cap)
DEMO_INTERPRETERS = [
    ("Kim Ji-won", "jiwon.kim@interp.demo.consultroom.kr", ["en"], "cosmetics, food", 4),
    ("Park Min-jun", "minjun.park@interp.demo.consultroom.kr", ["en", "es"], "machinery, energy", 4),
    ("Wang Fang", "fang.wang@interp.demo.consultroom.kr", ["zh"], "seafood, agriculture", 5),
    ("Suzuki Yuki", "yuki.suzuki@interp.demo.consultroom.kr", ["ja"], "software, food", 4),
    ("Nguyen Thu Ha", "thuha.nguyen@interp.demo.consultroom.kr", ["vi"], "cosmetics, bio", 4),
    ("Lee Carmen", "carmen.lee@interp.demo.consultroom.kr", ["es", "pt"], "medical devices", 3),
    ("Choi Alexei", "alexei.choi@interp.demo.consultroom.kr", ["ru"], "chemicals", 3),
]


def _demo_buyers_and_interpreters(staff: User) -> int:
    """Buyers through the registry's own service (so its validation applies); interpreters with weekday hours."""
    from datetime import time as clock

    from consultroom.buyers.models import Buyer
    from consultroom.buyers.services import create_buyer
    from consultroom.interpreters.models import Interpreter, InterpreterHours, InterpreterLanguage

    made = 0
    if db.session.scalar(select(Buyer.id).limit(1)) is None:
        for company, country, contact, email, tz, langs, interests, size, (start, end) in DEMO_BUYERS:
            create_buyer(
                actor=staff,
                data={
                    "company_name": company,
                    "country": country,
                    "contact_name": contact,
                    "email": email,
                    "timezone": tz,
                    "languages": langs,
                    "interest_codes": interests,
                    "size": size,
                    "source": "KOTRA overseas office",
                    "meet_from": start,
                    "meet_to": end,
                },
            )
            made += 1
    if db.session.scalar(select(Interpreter.id).limit(1)) is None:
        for name, email, langs, specialties, cap in DEMO_INTERPRETERS:
            interpreter = Interpreter(
                name=name, email=email, specialties=specialties, max_sessions_per_day=cap, locale="en"
            )
            interpreter.language_rows = [InterpreterLanguage(code=code) for code in langs]
            interpreter.hours = [
                InterpreterHours(weekday=day, start=clock(9, 0), end=clock(18, 0)) for day in range(5)
            ]
            db.session.add(interpreter)
            made += 1
    db.session.flush()
    return made


def _business_number(rng: random.Random) -> str:
    # Tax office code (3), type code (2: 81 = corporation HQ, 86 = corporation branch), serial (4) + check digit.
    first = f"{rng.randint(101, 899)}{rng.choice(['81', '86', '87'])}{rng.randint(0, 9999):04d}"
    return business_number_with_check_digit(first)


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
        for i, (ko, en, industry, products, hs, export, target, langs) in enumerate(DEMO_COMPANIES):
            if i == 0:
                owner = users["sme@demo.consultroom.kr"]
            elif i == 1:
                owner = users["sme2@demo.consultroom.kr"]
            else:
                slug = en.split()[0].lower()
                owner = create_user(
                    email=f"{slug}@demo.consultroom.kr",
                    password=DEMO_PASSWORD,
                    name=f"{ko} 담당자",
                    role="sme",
                    locale="ko",
                    actor=None,
                )
            owner.email_confirmed_at = owner.email_confirmed_at or utcnow()
            create_company(
                owner=owner,
                actor=staff if i > 1 else owner,
                data={
                    "name_ko": ko,
                    "name_en": en,
                    "business_number": _business_number(rng),
                    "representative": rng.choice(["김", "이", "박", "최", "정"])
                    + rng.choice(["영수", "미경", "동현", "수진"]),
                    "address": rng.choice(
                        [
                            "부산광역시 해운대구 센텀중앙로 48",
                            "부산광역시 강서구 녹산산단로 12",
                            "부산광역시 사상구 학감대로 201",
                        ]
                    ),
                    "industry": industry,
                    "products": products,
                    "hs_codes": hs,
                    "export_markets": export,
                    "target_countries": target,
                    "languages": langs,
                    "contact_name": owner.name,
                    "contact_email": owner.email,
                    "contact_phone": f"051-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                },
            )
            created += 1
    db.session.commit()
    created += _demo_buyers_and_interpreters(staff)
    db.session.commit()
    created += _demo_rounds(rng, staff)
    db.session.commit()
    yield f"Demo data ready ({created} records created)."
    yield f"Logins (password for all: {DEMO_PASSWORD}):"
    for email, _name, role, _locale in DEMO_USERS:
        yield f"  {role:6} {email}"


def _past_match(rng, company, start, busy, buyers, interpreters):
    """A buyer for a past consultation (preferring one whose interests share the HS chapter) and an
    interpreter for the buyer's language, each free at `start`; marks both busy."""
    chapters = {code[:2] for code in company.hs_codes}
    free = [b for b in buyers if ("buyer", b.id, start) not in busy]
    fitting = [b for b in free if chapters & {code[:2] for code in b.interest_codes}] or free
    if not fitting:
        return None, None
    buyer = rng.choice(fitting)
    busy.add(("buyer", buyer.id, start))
    if set(company.languages) & set(buyer.languages):
        return buyer, None
    for interpreter in interpreters:
        if ("interpreter", interpreter.id, start) not in busy and set(interpreter.languages) & set(buyer.languages):
            busy.add(("interpreter", interpreter.id, start))
            return buyer, interpreter
    return buyer, None


def _demo_rounds(rng: random.Random, staff: User) -> int:
    """Last program year's rounds (held, with consultations) and a round open for booking now."""
    from datetime import timedelta

    from consultroom.bookings.models import Booking
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
    for month in settings.months:
        rnd, _created = ensure_round(year=last_year, month=month, actor=staff)
        if rnd is None:
            continue
        rnd.status = "finalized"
        made += 1
        # Past consultations are written as they ended (held or no-show); the services only book the future.
        times = sorted({s.starts_at for s in rnd.slots})
        taken: set[int] = set()
        busy: set[tuple[str, int, datetime]] = set()  # (party, id, start): nobody in two places at once
        for company in rng.sample(companies, k=min(len(companies), rng.randint(5, 9))):
            start = rng.choice(times)
            slot = next((s for s in rnd.slots if s.starts_at == start and s.id not in taken), None)
            if slot is None:
                continue
            taken.add(slot.id)
            req = request_from_company(company)
            buyer, interpreter = _past_match(rng, company, start, busy, buyers, interpreters)
            db.session.add(
                Booking(
                    buyer_id=buyer.id if buyer else None,
                    interpreter_id=interpreter.id if interpreter else None,
                    buyer_response="accepted" if buyer else None,
                    interpreter_response="accepted" if interpreter else None,
                    round_id=rnd.id,
                    slot_id=slot.id,
                    company_id=company.id,
                    seq=1,
                    cap=rnd.company_cap,
                    status="held" if rng.random() > 0.08 else "no_show",
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    created_at=rnd.booking_opens_at + timedelta(days=1),
                    **req.as_dict(),
                )
            )
            made += 1
    db.session.flush()

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
    for company, slot in zip(companies[2:6], open_rnd.slots[::3], strict=False):
        book_slot(company=company, slot=slot, request=request_from_company(company), actor=staff, now=now)
        made += 1
    return made
