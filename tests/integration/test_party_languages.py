"""Issue 13, item 3: buyers and interpreters read their own language (en, ko, zh_Hans, ja, vi, es).

Every message a buyer or an interpreter can meet (their mails, the answer page, the survey, the
interpreter portal and its log form, the .ics text, the layout and error pages around them) has a
translation in each of the six catalogs; a Korean company field shown instead of a missing English
one is marked untranslated; a buyer's language falls back to English.
"""

from __future__ import annotations

import ast
import re

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from consultroom import ROOT
from consultroom.companies.profile import profile_for
from consultroom.i18n import TRANSLATIONS_DIR
from consultroom.languages import PARTY_LOCALES, parse_party_language, supported
from consultroom.matching import confirmation as c
from tests.integration.test_i18n import PLACEHOLDER, _source_messages

# Files whose every message is buyer- or interpreter-facing.
PARTY_FILES = (
    "templates/base.html",
    "templates/_macros/forms.html",
    "templates/errors/error.html",
    "templates/respond/",
    "templates/surveys/answer.html",
    "templates/surveys/stop.html",
    "templates/surveys/thanks.html",
    "templates/interpreters/portal.html",
    "templates/interpreters/portal_problem.html",
    "templates/outcomes/log.html",
    "templates/outcomes/_labels.html",
    "templates/privacy/_notice.html",
    *(
        f"templates/emails/{name}."
        for name in (
            "match_proposed",
            "match_confirmed",
            "match_moved",
            "match_off",
            "consultation_cancelled",
            "reminder_day_party",
            "reminder_hour_party",
            "survey_invitation",
            "survey_reminder",
            "interpreter_portal",
        )
    ),
    "consultroom/respond/views.py",
    "consultroom/interpreters/portal.py",
    "consultroom/matching/confirmation.py",
    "consultroom/bookings/calendar.py",
    "consultroom/errorpages.py",
    "consultroom/companies/profile.py",
)
# Python files shared with the staff/SME side: only these top-level definitions (functions,
# classes, assignments) are party-facing; "Notice:<purpose>" is one privacy notice.
PARTY_DEFINITIONS = {
    "consultroom/surveys/views.py": ("_load", "answer", "_answer_page"),
    "consultroom/surveys/services.py": ("Gone", "_clean_answers", "submit_response"),
    "consultroom/outcomes/forms.py": ("LogForm", "INTEREST_LABELS", "PARTY_LABELS"),
    "consultroom/outcomes/services.py": ("_clean_log", "record_log"),
    "consultroom/privacy/notices.py": ("_KEPT_AFTER_YEAR", "view", "Notice:CONSULTATION_SHARING"),
}
# Msgids the same in a language (names of things, codes).
SAME_IN = {"Consultroom", "Error %(status)s"}  # a name; Spanish "Error" is the same word


def _spans(path: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    spans = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            name = node.name if node in tree.body else None
        elif isinstance(node, ast.Assign) and node in tree.body:
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            name = targets[0] if targets else None
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Notice":
            purpose = next((k.value for k in node.keywords if k.arg == "purpose"), None)
            name = f"Notice:{purpose.id}" if isinstance(purpose, ast.Name) else None
        if name in names:
            spans.append((node.lineno, node.end_lineno))
    found = {n for n in names}
    assert spans and len(spans) >= len(found), f"{path}: not all of {names} found"
    return spans


Key = tuple[str, str | None]  # (msgid, msgctxt): "Records" as a menu is not "Records" elsewhere


def party_messages() -> dict[Key, list[str]]:
    spans = {path: _spans(path, names) for path, names in PARTY_DEFINITIONS.items()}
    party: dict[Key, list[str]] = {}
    for key, where in _source_messages().items():
        for place in where:
            path, line = place.rsplit(":", 1)
            inside = any(a <= int(line) <= b for a, b in spans.get(path, ()))
            if inside or any(path.startswith(p) for p in PARTY_FILES):
                party.setdefault(key, []).append(place)
    return party


@pytest.fixture(scope="module")
def party_msgids() -> dict[Key, list[str]]:
    return party_messages()


def _catalog(locale: str):
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_the_party_message_set_is_what_buyers_and_interpreters_read(party_msgids):
    # Guards the guard: mails, pages, the .ics, the log form, the privacy notice and error pages are in.
    for msgid in (
        "Please answer by %(when)s.",  # proposal mail and answer page
        "Export consultation: %(company)s",  # .ics SUMMARY
        "Products discussed",  # the interpreter's log form
        "To arrange and hold the video consultation and to follow up on it.",  # the sharing notice
        "The page you asked for does not exist.",  # error page
        "(in Korean, not translated)",
        "Choose one of the five answers.",  # survey validation
        "Skip to main content",  # layout
    ):
        assert (msgid, None) in party_msgids, msgid
    # ... and staff-only text is out.
    assert ("Save company", None) not in party_msgids
    assert ("Your company's contact persons", None) not in party_msgids
    assert len(party_msgids) > 250


def _has_words(msgid: str) -> bool:
    return re.search("[A-Za-z]{3}", PLACEHOLDER.sub("", msgid)) is not None


@pytest.mark.parametrize("locale", PARTY_LOCALES)
def test_every_party_message_is_translated(party_msgids, locale):
    catalog = _catalog(locale)
    missing, copied = [], []
    for (msgid, context), where in sorted(party_msgids.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        message = catalog.get(msgid, context=context)
        if message is None or message.fuzzy or not message.string:
            missing.append(f"{msgid!r} ({where[0]})")
        elif locale != "en" and message.string == msgid and msgid not in SAME_IN and _has_words(msgid):
            copied.append(f"{msgid!r} ({where[0]})")
    assert not missing, f"{len(missing)} party message(s) without a {locale} translation:\n" + "\n".join(missing)
    assert not copied, f"{len(copied)} party message(s) copied from English into {locale}:\n" + "\n".join(copied)


@pytest.mark.parametrize("locale", ["zh_Hans", "ja", "vi", "es"])
def test_new_catalogs_keep_placeholders_and_pass_babels_checks(locale):
    catalog = _catalog(locale)
    wrong = []
    for message in catalog:
        placeholders = sorted(PLACEHOLDER.findall(message.string or ""))
        if message.id and message.string and placeholders != sorted(PLACEHOLDER.findall(message.id)):
            wrong.append(f"{message.id!r} -> {message.string!r}")
    assert wrong == []
    assert [(m.id, p) for m, p in catalog.check()] == []


# --- fallbacks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("ja", "ja"),
        ("Japanese", "ja"),
        ("zh-CN", "zh_Hans"),
        ("중국어", "zh_Hans"),
        ("ZH_HANS", "zh_Hans"),
        ("Español", "es"),
        ("tiếng việt", "vi"),
        ("fr", None),
        ("", None),
    ],
)
def test_party_language_names_as_staff_write_them(raw, code):
    assert parse_party_language(raw) == code


@pytest.mark.parametrize(("stored", "read"), [("ja", "ja"), ("zh_Hans", "zh_Hans"), ("fr", "en"), ("", "en")])
def test_a_buyer_reads_the_preferred_language_else_english(app, stored, read):
    from consultroom.buyers.models import Buyer

    assert c.party_locale("buyer", Buyer(preferred_language=stored)) == read
    assert supported(stored) == read


def test_an_interpreter_reads_the_own_locale_else_english(app):
    from consultroom.interpreters.models import Interpreter

    assert c.party_locale("interpreter", Interpreter(locale="vi")) == "vi"
    assert c.party_locale("interpreter", Interpreter(locale="de")) == "en"


def test_company_profile_prefers_english_and_marks_korean_fallbacks(app):
    from consultroom.companies.models import Company

    company = Company(
        name_ko="한빛식품",
        name_en="Hanbit Foods Co., Ltd.",
        products="김, 김자반",
        products_en="",
        summary_en="",
        address="부산광역시 해운대구 센텀중앙로 48",
        address_en="",
    )
    with force_locale("ja"):
        shown = profile_for(company, "ja")
        assert (shown.name.text, shown.name.untranslated) == ("Hanbit Foods Co., Ltd.", False)
        assert (shown.products.text, shown.products.untranslated) == ("김, 김자반", True)
        assert (shown.address.text, shown.address.untranslated) == ("부산광역시 해운대구 센텀중앙로 48", True)
        assert not shown.summary
        note = "（韓国語の原文、未翻訳）"
        assert str(shown.products) == f"김, 김자반 {note}"
        small = f'<small class="text-muted untranslated">{note}</small>'
        assert shown.address.__html__() == f'<span lang="ko">부산광역시 해운대구 센텀중앙로 48</span> {small}'
    korean = profile_for(company, "ko")
    assert (korean.name.text, korean.products.untranslated, korean.address.untranslated) == ("한빛식품", False, False)
