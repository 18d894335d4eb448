"""Text the app writes itself, shown in the viewer's language (issue 15 item 6).

A generated round title is stored in Korean ("2026년 12월 수출상담회") and an anonymised person's
name as an English placeholder ("Deleted user #12"): one stored value keeps audits, imports and
exports stable. Wherever a page or a mail prints one of them, `shown` says it in the reader's
language instead; any other text (a title or name someone typed) is returned as it is.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _

_ROUND_TITLE = re.compile(r"(\d{4})년 (\d{1,2})월 수출상담회")
_DELETED = re.compile(r"Deleted (user|interpreter) #(\d{1,10})")


def generated_round_title(year: int, month: int) -> str:
    """The stored title of a round the settings generate (Korean, the program's language)."""
    return f"{year}년 {month}월 수출상담회"


def deleted_name(kind: str, ident: int) -> str:
    """The stored name of an anonymised user or interpreter."""
    return f"Deleted {kind} #{ident}"


def shown(value: Any) -> Any:
    """`value` in the viewer's language if it is a generated title or placeholder, else unchanged.
    Markup and non-strings pass through untouched (the check is a type test and two anchored regexes)."""
    if type(value) is not str or not 12 <= len(value) <= 40:
        return value
    title = _ROUND_TITLE.fullmatch(value)
    if title and 1 <= int(title[2]) <= 12:
        return _round_title(int(title[1]), int(title[2]), str(get_locale() or "ko"))
    deleted = _DELETED.fullmatch(value)
    if deleted:
        if deleted[1] == "user":
            return _("Deleted user #%(id)d", id=int(deleted[2]))
        return _("Deleted interpreter #%(id)d", id=int(deleted[2]))
    return value


@lru_cache(maxsize=1024)
def _round_title(year: int, month: int, locale: str) -> str:
    # Every row of a list prints its round's title (about 45 us to format); catalogs do not change
    # while the process runs, so the same month in the same language is the same text.
    month_name = format_skeleton("yMMMM", date(year, month, 1), locale=locale)
    return _("Export consultations, %(month)s", month=month_name)
