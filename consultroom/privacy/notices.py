"""The privacy notices (PIPA art. 15, 17 and 22) as versioned data.

Each notice tells the person what is collected, why, for how long, who receives it and that they
may refuse (and what refusing costs). A consent record names the notice version it was given
under, so a change to the wording of a notice gets a new version and asks again where consent is
required. Retention periods are the admin's settings (RetentionRule), read when a notice is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consultroom.privacy.models import RetentionKind, SubjectType

ACCOUNT = "account"
COMPANY_PROFILE = "company_profile"
MARKETING_EMAIL = "marketing_email"
CONSULTATION_SHARING = "consultation_sharing"


@dataclass(frozen=True)
class Retention:
    """How long the data is kept: `text` takes %(months)d from the admin's setting for `kind`.
    `who` names the people it applies to when a notice covers several kinds of person."""

    kind: str
    text: LazyString
    who: LazyString | None = None
    subject_type: str | None = None


@dataclass(frozen=True)
class Notice:
    purpose: str
    version: str
    required: bool
    title: LazyString
    items: tuple[LazyString, ...]
    purpose_text: LazyString
    retention: tuple[Retention, ...]
    recipients: tuple[LazyString, ...]
    refusal: LazyString


@dataclass(frozen=True)
class NoticeView:
    """A notice with its texts in the current language and the retention months filled in."""

    purpose: str
    version: str
    required: bool
    title: str
    items: list[str]
    purpose_text: str
    retention: list[str]
    recipients: list[str]
    refusal: str


_KEPT_AFTER_YEAR = _l(
    "Until %(months)d months after the end of the program year in which it was last used; then it is anonymised."
)

NOTICES: dict[str, Notice] = {
    n.purpose: n
    for n in (
        Notice(
            purpose=ACCOUNT,
            version="2026-11",
            required=True,
            title=_l("Your user account"),
            items=(
                _l("Your name"),
                _l("E-mail address"),
                _l("Phone number, if you give one"),
                _l("Password (stored only as a hash)"),
            ),
            purpose_text=_l(
                "To identify you, let you log in, book consultations for your company and send you the mails "
                "about your bookings."
            ),
            retention=(Retention(RetentionKind.SME_ACCOUNTS.value, _KEPT_AFTER_YEAR),),
            recipients=(_l("The city's export program staff"),),
            refusal=_l("You may refuse, but without this consent we cannot create an account for you."),
        ),
        Notice(
            purpose=COMPANY_PROFILE,
            version="2026-11",
            required=True,
            title=_l("Your company's contact persons"),
            items=(
                _l("Name of the representative"),
                _l("Name, e-mail address and phone number of the contact person"),
            ),
            purpose_text=_l(
                "To match your company with overseas buyers, arrange the consultations and reach you about them."
            ),
            retention=(Retention(RetentionKind.SME_ACCOUNTS.value, _KEPT_AFTER_YEAR),),
            recipients=(
                _l("The city's export program staff"),
                _l("The overseas buyer matched with your company, for that consultation only"),
                _l("The interpreter of that consultation, for that consultation only"),
            ),
            refusal=_l(
                "You may refuse, but without this consent we cannot register your company or arrange consultations."
            ),
        ),
        Notice(
            purpose=MARKETING_EMAIL,
            version="2026-11",
            required=False,
            title=_l("News of other export programs (optional)"),
            items=(_l("Your name"), _l("E-mail address")),
            purpose_text=_l("To send you news of the city's other export support programs by e-mail."),
            retention=(
                Retention(
                    RetentionKind.SME_ACCOUNTS.value,
                    _l(
                        "Until you withdraw this consent, and at the latest until %(months)d months after the end "
                        "of the program year in which your account was last used."
                    ),
                ),
            ),
            recipients=(_l("The city's export program staff"),),
            refusal=_l(
                "You may refuse or withdraw this consent at any time on your account page; "
                "it does not affect the consultation service."
            ),
        ),
        Notice(
            purpose=CONSULTATION_SHARING,
            version="2026-11",
            required=True,
            title=_l("Your contact data for this consultation"),
            items=(_l("Your name"), _l("E-mail address"), _l("Phone number, if you give one")),
            purpose_text=_l("To arrange and hold the video consultation and to follow up on it."),
            retention=(
                Retention(
                    RetentionKind.BUYER_CONTACTS.value,
                    _KEPT_AFTER_YEAR,
                    who=_l("Buyers"),
                    subject_type=SubjectType.BUYER.value,
                ),
                Retention(
                    RetentionKind.INTERPRETER_CONTACTS.value,
                    _KEPT_AFTER_YEAR,
                    who=_l("Interpreters"),
                    subject_type=SubjectType.INTERPRETER.value,
                ),
            ),
            recipients=(
                _l("The city's export program staff"),
                _l("The Korean company (SME) of the consultation"),
                _l("The interpreter or the buyer of the same consultation"),
            ),
            refusal=_l(
                "You may refuse by declining the consultation; we then do not share your data with the company."
            ),
        ),
    )
}

PURPOSES = tuple(NOTICES)


def get_notice(purpose: str) -> Notice | None:
    return NOTICES.get(purpose)


def current_version(purpose: str) -> str:
    return NOTICES[purpose].version


def retention_months() -> dict[str, int]:
    """Months per retention kind: the admin's settings, else the retention module's defaults."""
    # Imported here: retention reaches into most domains' models, and notices is imported by
    # account services at start-up.
    from consultroom.privacy.retention import get_rules

    return get_rules()


def view(purpose: str, *, subject_type: str | None = None, months: dict[str, int] | None = None) -> NoticeView:
    """The notice in the current language. With `subject_type`, only the retention that applies to
    that kind of person is shown (a buyer reads the buyers' period, not the interpreters')."""
    notice = NOTICES[purpose]
    months = months if months is not None else retention_months()
    retention = []
    for r in notice.retention:
        if subject_type is not None and r.subject_type not in (None, subject_type):
            continue
        text = str(r.text) % {"months": months[r.kind]}
        if r.who is not None and subject_type is None:
            text = _("%(who)s: %(period)s", who=str(r.who), period=text)
        retention.append(text)
    return NoticeView(
        purpose=notice.purpose,
        version=notice.version,
        required=notice.required,
        title=str(notice.title),
        items=[str(i) for i in notice.items],
        purpose_text=str(notice.purpose_text),
        retention=retention,
        recipients=[str(r) for r in notice.recipients],
        refusal=str(notice.refusal),
    )


def all_views() -> list[NoticeView]:
    months = retention_months()
    return [view(p, months=months) for p in PURPOSES]
