"""The languages buyers and interpreters read (issue 13, item 3): one list for mails, signed-link
pages, the .ics text and the forms, imports and API that store a party's language.

The SME and staff interface stays Korean/English (config LANGUAGES): the issue asks for the
buyer- and interpreter-facing text only, and the back office's 1,500 messages have no reader in
the other four languages. Every buyer/interpreter-facing message has all six translations
(tests/integration/test_i18n.py).
"""

from __future__ import annotations

import re
import unicodedata

# Babel locale ids, in the order forms offer them; English is the fallback for buyers.
PARTY_LOCALES = ("en", "ko", "zh_Hans", "ja", "vi", "es")
FALLBACK = "en"

# Each language's own name, as a reader looks for it in a list.
NATIVE_NAMES = {
    "en": "English",
    "ko": "한국어",
    "zh_Hans": "简体中文",
    "ja": "日本語",
    "vi": "Tiếng Việt",
    "es": "Español",
}

# Ways staff write a language in an import or the API, compared after _key().
_ALIASES = {
    "en": ("en", "eng", "english", "영어", "en-us", "en-gb"),
    "ko": ("ko", "kor", "korean", "한국어", "한국말", "ko-kr"),
    "zh_Hans": (
        "zh_hans",
        "zh-hans",
        "zh",
        "zh-cn",
        "zh_cn",
        "zh-sg",
        "chinese",
        "simplified chinese",
        "mandarin",
        "중국어",
        "简体中文",
        "中文",
    ),
    "ja": ("ja", "jp", "jpn", "japanese", "일본어", "日本語"),
    "vi": ("vi", "vie", "vietnamese", "베트남어", "tiếng việt", "tieng viet"),
    "es": ("es", "spa", "spanish", "español", "espanol", "castellano", "스페인어"),
}


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).strip().casefold()).replace("_", "-")


_BY_KEY = {_key(alias): code for code, aliases in _ALIASES.items() for alias in aliases}


def parse_party_language(raw: str | None) -> str | None:
    """The locale id for a language as staff write it ("ja", "Japanese", "zh-CN", "중국어"), else None."""
    if not raw or not raw.strip():
        return None
    return _BY_KEY.get(_key(raw))


def supported(locale: str | None, default: str = FALLBACK) -> str:
    return locale if locale in PARTY_LOCALES else default


def html_lang(locale: str) -> str:
    """BCP 47 for the lang attribute: Babel's zh_Hans is zh-Hans."""
    return locale.replace("_", "-")


def choices() -> list[tuple[str, str]]:
    return [(code, NATIVE_NAMES[code]) for code in PARTY_LOCALES]
