"""Factories: real rows through the real services where rules matter, direct rows where they do not."""

from __future__ import annotations

import itertools

from consultroom.accounts.models import User
from consultroom.accounts.passwords import hash_password
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage
from consultroom.companies.validation import business_number_with_check_digit
from consultroom.db import utcnow
from consultroom.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _hash(password: str) -> str:
    # argon2 is slow on purpose; one hash per distinct test password keeps the suite fast.
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_user(
    role: str = "sme",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    company: Company | None = None,
    # English by default so tests can read messages; Korean is tested where the language is the point.
    locale: str = "en",
    timezone: str = "Asia/Seoul",
    active: bool = True,
) -> User:
    n = next(_seq)
    user = User(
        email=(email or f"{role}{n}@example.test").lower(),
        name=name or f"{role.title()} {n}",
        password_hash=_hash(password),
        role=role,
        locale=locale,
        timezone=timezone,
        active=active,
        email_confirmed_at=utcnow() if confirmed else None,
        company_id=company.id if company is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def valid_business_number() -> str:
    n = next(_seq)
    return business_number_with_check_digit(f"{100 + n % 800:03d}81{n % 10000:04d}")


def make_company(
    *,
    owner: User | None = None,
    name_ko: str | None = None,
    hs_codes: tuple[str, ...] = ("330499",),
    export_markets: tuple[str, ...] = ("CN",),
    target_countries: tuple[str, ...] = ("US",),
    languages: tuple[str, ...] = ("ko", "en"),
    **fields,
) -> Company:
    n = next(_seq)
    company = Company(
        name_ko=name_ko or f"테스트기업{n}",
        name_en=fields.pop("name_en", f"Test Company {n}"),
        business_number=fields.pop("business_number", valid_business_number()),
        representative=fields.pop("representative", "홍길동"),
        industry=fields.pop("industry", "화장품"),
        products=fields.pop("products", "기초화장품"),
        **fields,
    )
    company.hs_code_rows = [CompanyHsCode(code=c) for c in hs_codes]
    company.country_rows = [CompanyCountry(kind="export", code=c) for c in export_markets] + [
        CompanyCountry(kind="target", code=c) for c in target_countries
    ]
    company.language_rows = [CompanyLanguage(code=c) for c in languages]
    db.session.add(company)
    db.session.flush()
    if owner is not None:
        owner.company_id = company.id
        db.session.flush()
    return company


def make_sme_with_company(**company_fields) -> tuple[User, Company]:
    user = make_user("sme")
    company = make_company(owner=user, **company_fields)
    return user, company


def make_round(
    *,
    day=None,
    status: str = "open",
    booths: int = 2,
    slots_per_booth: int = 3,
    slot_minutes: int = 50,
    cap: int = 3,
    cancel_hours: int = 48,
    opens_at=None,
    closes_at=None,
):
    """A round with slots every hour from 10:00 Seoul time, booking open around now by default."""
    from datetime import date, time, timedelta

    from consultroom.rounds.models import Round, Slot
    from consultroom.timeutil import seoul_to_utc

    now = utcnow()
    day = day or (now + timedelta(days=30)).date()
    if isinstance(day, date) and day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    rnd = Round(
        year=day.year,
        month=day.month,
        title=f"{day.year}년 {day.month}월 수출상담회",
        day=day,
        status=status,
        booking_opens_at=opens_at or now - timedelta(days=1),
        booking_closes_at=closes_at or now + timedelta(days=10),
        cancel_hours_before=cancel_hours,
        company_cap=cap,
    )
    for i in range(slots_per_booth):
        start = seoul_to_utc(day, time(10 + i, 0))
        for booth in range(1, booths + 1):
            rnd.slots.append(Slot(booth=booth, starts_at=start, ends_at=start + timedelta(minutes=slot_minutes)))
    db.session.add(rnd)
    db.session.flush()
    return rnd


def make_interpreter(
    *,
    name: str | None = None,
    email: str | None = None,
    languages: tuple[str, ...] = ("en",),
    max_sessions_per_day: int = 4,
    locale: str = "en",
    active: bool = True,
    user: User | None = None,
    hours: tuple[tuple[int, str, str], ...] = (),
    **fields,
):
    """An interpreter between Korean and `languages`; hours as (weekday, "09:00", "18:00") in Seoul time."""
    from datetime import time

    from consultroom.interpreters.models import Interpreter, InterpreterHours, InterpreterLanguage

    n = next(_seq)
    interpreter = Interpreter(
        name=name or f"Interpreter {n}",
        email=(email or f"interpreter{n}@interpreters.example.com").lower(),
        phone=fields.pop("phone", ""),
        specialties=fields.pop("specialties", ""),
        max_sessions_per_day=max_sessions_per_day,
        locale=locale,
        active=active,
        user_id=user.id if user is not None else None,
        **fields,
    )
    interpreter.language_rows = [InterpreterLanguage(code=c) for c in languages]
    interpreter.hours = [
        InterpreterHours(weekday=d, start=time.fromisoformat(a), end=time.fromisoformat(b)) for d, a, b in hours
    ]
    db.session.add(interpreter)
    db.session.flush()
    return interpreter
