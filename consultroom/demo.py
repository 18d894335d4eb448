"""Demo data: realistic companies and the logins a new user needs. Safe to run twice."""

from __future__ import annotations

import random
from collections.abc import Iterator

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
    created += _demo_rounds(rng, staff)
    db.session.commit()
    yield f"Demo data ready ({created} records created)."
    yield f"Logins (password for all: {DEMO_PASSWORD}):"
    for email, _name, role, _locale in DEMO_USERS:
        yield f"  {role:6} {email}"


def _demo_rounds(rng: random.Random, staff: User) -> int:
    """Last program year's rounds (held, with consultations) and a round open for booking now."""
    from datetime import timedelta

    from consultroom.bookings.models import Booking
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
    for month in settings.months:
        rnd, _created = ensure_round(year=last_year, month=month, actor=staff)
        if rnd is None:
            continue
        rnd.status = "finalized"
        made += 1
        # Past consultations are written as they ended (held or no-show); the services only book the future.
        times = sorted({s.starts_at for s in rnd.slots})
        taken: set[int] = set()
        for company in rng.sample(companies, k=min(len(companies), rng.randint(5, 9))):
            start = rng.choice(times)
            slot = next((s for s in rnd.slots if s.starts_at == start and s.id not in taken), None)
            if slot is None:
                continue
            taken.add(slot.id)
            req = request_from_company(company)
            db.session.add(
                Booking(
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
