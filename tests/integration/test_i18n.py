"""Korean (default) and English: complete catalogs, the language switch, and mails in the recipient's language."""

from __future__ import annotations

import os
import re
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from consultroom import ROOT
from consultroom.accounts.models import User
from consultroom.bookings.services import book_slot
from consultroom.extensions import db
from consultroom.i18n import TRANSLATIONS_DIR
from consultroom.notifications.models import OutboxMail
from consultroom.rounds.notify import announce_open
from tests.conftest import login
from tests.factories import make_company, make_round, make_user
from tests.formatting import full_moment

# The keywords the code uses, as in the extract command at the top of babel.cfg.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
# Words that read the same in Korean; any other Korean msgstr equal to its msgid is untranslated.
SAME_IN_KOREAN = {"Message-ID"}
REGISTRATION = {
    "name": "박지훈",
    "password": "export-2021-busan",
    "password_confirm": "export-2021-busan",
    "consent_account": "y",
}


def _directory_filter(dirpath: str) -> bool:
    # Babel's default also skips directories starting with "_", and templates/_macros has messages.
    name = os.path.basename(dirpath)
    return not (name.startswith(".") or name == "__pycache__")


def _source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every (msgid, msgctxt) in the code and templates now, with where it is used."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_directory_filter
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def _catalog(locale: str) -> Catalog:
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.fixture(scope="module")
def source_messages() -> dict[tuple[str, str | None], list[str]]:
    return _source_messages()


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_source_extraction_finds_the_known_messages(source_messages):
    # Guards the guard: python, HTML and mail templates are all read.
    assert ("The passwords do not match.", None) in source_messages  # _l() in a form
    assert ("Welcome, %(name)s.", None) in source_messages  # _() in a view
    assert ("Skip to main content", None) in source_messages  # a page template
    assert ("Hello %(name)s,", None) in source_messages  # a mail template
    assert ("Page %(page)d of %(pages)d", None) in source_messages  # a macro in templates/_macros
    assert ("Medium", "interest level") in source_messages  # lazy_pgettext() in a form
    assert ("Medium", "company size") in source_messages  # pgettext() in a template
    assert ("%(num)d booking waits for a match", None) in source_messages  # ngettext() in code
    assert len(source_messages) > 400


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_catalog_has_every_source_message_translated(source_messages, locale):
    catalog = _catalog(locale)
    missing = []
    for (msgid, context), where in sorted(source_messages.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        message = catalog.get(msgid, context=context)
        strings = message.string if message is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or message.fuzzy or not all(strings):
            missing.append(f"{msgid!r}{f' [{context}]' if context else ''} ({where[0]})")
    assert not missing, (
        f"{len(missing)} message(s) without a {locale} translation; run the extract command in babel.cfg, "
        f"`pybabel update -i consultroom/translations/messages.pot -d consultroom/translations`, and translate:\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_catalog_placeholders_match_their_msgid(locale):
    catalog = _catalog(locale)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and sorted(PLACEHOLDER.findall(string)) != expected:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ from the msgid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_catalog_check_reports_no_errors(locale):
    catalog = _catalog(locale)
    errors = [f"{message.id!r}: {problems}" for message, problems in catalog.check()]
    assert errors == []
    assert not catalog.fuzzy


def test_korean_catalog_has_one_plural_form_and_no_copied_english():
    catalog = _catalog("ko")
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    copied = [m.id for m in catalog if m.id and m.string == m.id and m.id not in SAME_IN_KOREAN]
    assert copied == []


@pytest.mark.parametrize(
    ("path", "korean", "english"),
    [
        ("/", "비대면 수출상담실", "Contactless export consultation room"),
        ("/login", "비밀번호를 잊으셨나요?", "Forgot your password?"),
        ("/register", "기업 회원 계정 만들기", "Create an account for your company"),
    ],
)
def test_page_is_korean_by_default_and_english_after_the_switch(client, path, korean, english):
    html = _html(client.get(path))
    assert '<html lang="ko">' in html
    assert korean in html and english not in html

    response = client.submit("/language", {"lang": "en", "next": path})

    assert response.status_code == 302 and response.headers["Location"] == path
    html = _html(client.get(path))
    assert '<html lang="en">' in html
    assert english in html and korean not in html


def test_switch_to_an_unknown_language_keeps_korean(client):
    client.submit("/language", {"lang": "fr", "next": "/"})

    assert '<html lang="ko">' in _html(client.get("/"))


def test_logged_in_users_choice_is_stored_and_survives_a_new_session(client, make_client, login_as):
    user = login_as(make_user("staff", locale="ko"))  # staff: no company profile to fill in first
    assert '<html lang="ko">' in _html(client.get("/account"))

    client.submit("/language", {"lang": "en", "next": "/account"})

    db.session.refresh(user)
    assert user.locale == "en"
    assert '<html lang="en">' in _html(client.get("/account"))
    other = make_client()  # another browser: no session, no cookie
    assert '<html lang="ko">' in _html(other.get("/login"))
    assert login(other, user.email).status_code == 302
    html = _html(other.get("/"))
    assert '<html lang="en">' in html and f"Welcome, {user.name}." in html


def test_users_language_wins_over_the_browser_sessions_choice(client):
    user = make_user("staff", locale="ko")
    client.submit("/language", {"lang": "en", "next": "/"})

    assert login(client, user.email).status_code == 302

    html = _html(client.get("/"))
    assert '<html lang="ko">' in html and f"{user.name}님, 환영합니다." in html


def test_flash_message_is_in_the_page_language(client):
    user = make_user("sme", locale="ko")

    response = client.submit("/login", {"email": user.email, "password": "wrong password!"})

    assert "이메일 주소 또는 비밀번호가 올바르지 않습니다." in _html(response)


def test_dates_on_pages_are_formatted_for_the_users_language(make_client, login_as):
    rnd = make_round()
    korean, english = make_client(), make_client()
    login_as(make_user("sme", locale="ko"), on=korean)
    login_as(make_user("sme", locale="en"), on=english)

    ko_html = _html(korean.get(f"/rounds/{rnd.id}"))
    en_html = _html(english.get(f"/rounds/{rnd.id}"))

    assert f"상담일: {format_date(rnd.day, 'full', locale='ko')}" in ko_html
    assert f"Consultation day: {format_date(rnd.day, 'full', locale='en')}" in en_html


@pytest.mark.parametrize(
    ("lang", "subject", "greeting"),
    [
        (None, "수출상담실 이메일 주소 인증", "박지훈님, 안녕하세요."),
        ("en", "Confirm your e-mail address for Consultroom", "Hello 박지훈,"),
    ],
)
def test_confirmation_mail_is_in_the_language_chosen_at_registration(client, lang, subject, greeting):
    if lang:
        client.submit("/language", {"lang": lang, "next": "/register"})
    form = {**REGISTRATION, "email": "jihoon@example.kr", "locale": lang or "ko"}

    assert client.submit("/register", form).status_code == 200

    user = db.session.scalar(select(User))
    mail = db.session.scalar(select(OutboxMail))
    assert (user.locale, mail.locale) == (lang or "ko", lang or "ko")
    assert mail.subject == subject
    assert mail.body_text.startswith(greeting + "\n")


def test_mails_are_rendered_in_each_recipients_language_whatever_the_senders(app):
    owner = make_user("sme", locale="ko", name="김민준")
    company = make_company(owner=owner)
    colleague = make_user("sme", locale="en", name="Jane Roe", company=company, timezone="America/New_York")
    rnd = make_round()
    slot = rnd.slots[0]

    with app.test_request_context("/"), force_locale("en"):  # e.g. English-speaking staff acting
        announce_open(rnd)
        book_slot(company=company, slot=slot, request={"products": "기초화장품"}, actor=owner)
    db.session.flush()

    mails = {(m.to_addr, m.template): m for m in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id))}
    ko_open, en_open = mails[(owner.email, "round_open")], mails[(colleague.email, "round_open")]
    assert (ko_open.locale, en_open.locale) == ("ko", "en")
    assert ko_open.subject == f"예약 시작: {rnd.title}"
    # the generated title is Korean in the database and English in an English reader's mail
    assert en_open.subject == f"Booking is open: Export consultations, {format_date(rnd.day, 'MMMM y', locale='en')}"
    assert f"상담은 {format_date(rnd.day, 'long', locale='ko')}에 진행됩니다." in ko_open.body_text
    assert f"Consultations take place on {format_date(rnd.day, 'long', locale='en')}." in en_open.body_text

    ko_booked, en_booked = mails[(owner.email, "booking_received")], mails[(colleague.email, "booking_received")]
    seoul = full_moment(slot.starts_at, ZoneInfo("Asia/Seoul"), "ko")
    new_york = full_moment(slot.starts_at, ZoneInfo("America/New_York"), "en")
    assert ko_booked.body_text.startswith("김민준님, 안녕하세요.\n")
    assert f"시간: {seoul}" in ko_booked.body_text
    assert en_booked.body_text.startswith("Hello Jane Roe,\n")
    assert f"Time: {new_york}" in en_booked.body_text
