"""The company as a buyer (or an interpreter who does not read Korean) reads it (issue 13, item 3).

Each field is the English one when the company gave it, else the Korean one marked `untranslated`,
so a page can say so and tag it lang="ko" instead of passing Korean off as the reader's language.
A reader whose language is Korean gets the Korean fields, unmarked.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from consultroom.companies.models import Company

# The English fields staff ask every company for; a company missing any is listed as such.
ENGLISH_FIELDS = ("name_en", "products_en", "summary_en")


@dataclass(frozen=True)
class Shown:
    """A field as shown to its reader. Formatting it says so when it is untranslated Korean: str()
    (mails, .ics, subjects) appends a note in the rendering locale; HTML (a page's autoescape, also
    inside _('... %(company)s')) wraps it in lang="ko" with a visible note."""

    text: str
    untranslated: bool = False

    def __bool__(self) -> bool:
        return bool(self.text)

    def __str__(self) -> str:
        if not self.untranslated:
            return self.text
        return f"{self.text} {_('(in Korean, not translated)')}"

    def __html__(self) -> str:
        if not self.untranslated:
            return str(escape(self.text))
        return str(
            Markup('<span lang="ko">{}</span> <small class="text-muted untranslated">{}</small>').format(
                self.text, _("(in Korean, not translated)")
            )
        )


@dataclass(frozen=True)
class CompanyProfile:
    name: Shown
    products: Shown
    summary: Shown
    address: Shown


def _pick(english: str, korean: str, locale: str) -> Shown:
    if locale == "ko":
        return Shown(korean or english)
    if english:
        return Shown(english)
    return Shown(korean, untranslated=bool(korean))


def profile_for(company: Company, locale: str, *, products: str = "") -> CompanyProfile:
    """`products` is the consultation's own product text (the booking request), used when the
    company has no English product description; it is written by the SME, so Korean is assumed."""
    return CompanyProfile(
        name=_pick(company.name_en, company.name_ko, locale),
        products=_pick(company.products_en, products or company.products, locale),
        summary=Shown(company.summary_en),  # there is no Korean summary to fall back on
        address=_pick(company.address_en, company.address, locale),
    )


def missing_english(company: Company) -> list[str]:
    return [name for name in ENGLISH_FIELDS if not (getattr(company, name) or "").strip()]
