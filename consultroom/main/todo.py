"""The home page's to-do list: what waits on the signed-in user, most urgent first.

Every count reuses the filter of the page it links to (so the number on the home is the number of
rows that page shows) and all of a user's counts come from one SELECT of scalar subqueries, so the
home runs the same number of queries whatever the size of the data. Staff's counts stop at
STAFF_COUNT_UP_TO ("1000 or more"): the linked page has the exact figure, and a count that reads
every overdue follow-up of every year made the home slower as the data grew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, select

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.matching import queries as matching_queries
from consultroom.notifications.models import MailStatus
from consultroom.notifications.services import mails_stmt
from consultroom.outcomes import queries as outcome_queries
from consultroom.privacy.erasure import open_requests_stmt
from consultroom.scheduler.queries import recent_failures_stmt
from consultroom.surveys import queries as survey_queries

STAFF_COUNT_UP_TO = 1000


@dataclass(frozen=True)
class Item:
    key: str
    count: int
    endpoint: str
    args: dict
    up_to: int | None = None  # the count stopped here, if it did

    @property
    def text(self) -> str:
        if self.up_to is not None and self.count >= self.up_to:
            return _("%(label)s: %(num)d or more", label=LABELS[self.key], num=self.up_to)
        return describe(self.key, self.count)


def _count(stmt: Select, up_to: int | None):
    stmt = stmt.order_by(None)
    if up_to is not None:  # reads at most up_to rows
        stmt = stmt.limit(up_to)
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


def counts(stmts: dict[str, Select], extra: dict | None = None, *, up_to: int | None = None) -> dict:
    """Every count in one round trip to the database, each stopping at up_to if given."""
    columns = [_count(stmt, up_to).label(key) for key, stmt in stmts.items()]
    columns += [col.label(key) for key, col in (extra or {}).items()]
    row = db.session.execute(select(*columns)).one()
    return dict(row._mapping)


# key -> (the page's endpoint, its filter), in the order of urgency.
STAFF_ITEMS = {
    "expiring": ("matching.work", {"need": "expiring"}),
    "rematch": ("matching.work", {"need": "rematch"}),
    "match": ("matching.work", {"need": "match"}),
    "failed_mails": ("notifications.outbox", {"status": MailStatus.FAILED.value}),
    "failed_jobs": ("scheduler.index", {"_anchor": "failures"}),
    "erasure": ("privacy.erasure_requests", {}),
    "missing_logs": ("outcomes.missing_logs", {}),
    "overdue": ("outcomes.overdue", {}),
}

LABELS = {
    # Named in the list of what has nothing waiting.
    "expiring": _l("Answers about to expire"),
    "rematch": _l("Declined or lapsed proposals"),
    "match": _l("Bookings to match"),
    "failed_mails": _l("Failed mails"),
    "failed_jobs": _l("Failed jobs"),
    "erasure": _l("Deletion requests"),
    "missing_logs": _l("Missing logs"),
    "overdue": _l("Overdue follow-ups"),
    "awaiting": _l("Proposals awaiting answers"),
    "surveys": _l("Surveys to answer"),
    "followups": _l("Contract progress to update"),
}


def describe(key: str, n: int) -> str:
    """The item as a sentence with its count (ngettext: English needs the plural, Korean does not)."""
    texts = {
        "expiring": ngettext(
            "%(num)d proposal must be answered within a day", "%(num)d proposals must be answered within a day", n
        ),
        "rematch": ngettext(
            "%(num)d booking is back to matching after a decline or a lapse",
            "%(num)d bookings are back to matching after a decline or a lapse",
            n,
        ),
        "match": ngettext("%(num)d booking waits for a match", "%(num)d bookings wait for a match", n),
        "failed_mails": ngettext("%(num)d mail could not be sent", "%(num)d mails could not be sent", n),
        "failed_jobs": ngettext(
            "%(num)d scheduled job failed in the last 7 days", "%(num)d scheduled jobs failed in the last 7 days", n
        ),
        "erasure": ngettext("%(num)d deletion request is open", "%(num)d deletion requests are open", n),
        "missing_logs": ngettext("%(num)d consultation has no log yet", "%(num)d consultations have no log yet", n),
        "overdue": ngettext("%(num)d follow-up is overdue", "%(num)d follow-ups are overdue", n),
        "awaiting": ngettext(
            "%(num)d proposed buyer has still to confirm", "%(num)d proposed buyers have still to confirm", n
        ),
        "surveys": ngettext("%(num)d survey to answer", "%(num)d surveys to answer", n),
        "followups": ngettext(
            "%(num)d contract's progress is due for an update", "%(num)d contracts' progress is due for an update", n
        ),
    }
    return texts[key]


def staff_items(now: datetime, *, admin: bool) -> list[Item]:
    stmts: dict[str, Select] = {need: matching_queries.need_stmt(need, now) for need in matching_queries.NEEDS}
    if admin:  # the outbox, the jobs' errors and deletion requests are admins' work
        stmts["failed_mails"] = mails_stmt(MailStatus.FAILED.value)
        stmts["failed_jobs"] = recent_failures_stmt(now)
        stmts["erasure"] = open_requests_stmt()
    stmts["missing_logs"] = outcome_queries.missing_logs_stmt(now)
    stmts["overdue"] = outcome_queries.overdue_stmt(now)
    up_to = STAFF_COUNT_UP_TO
    found = counts(stmts, up_to=up_to)
    return [
        Item(key, found[key], endpoint, args, up_to=up_to)
        for key, (endpoint, args) in STAFF_ITEMS.items()
        if key in found
    ]


@dataclass(frozen=True)
class SmeTodo:
    next_booking: Booking | None
    items: list[Item]


def sme_todo(company_id: int, now: datetime) -> SmeTodo:
    stmts = {
        "awaiting": matching_queries.awaiting_answers_stmt(company_id, now),
        "surveys": survey_queries.pending_for_company_stmt(company_id, now=now),
        "followups": outcome_queries.overdue_stmt(now, company_id=company_id),
    }
    next_id = (
        matching_queries.next_consultation_stmt(company_id, now).with_only_columns(Booking.id).limit(1)
    ).scalar_subquery()
    found = counts(stmts, {"next_id": next_id})
    anchors = {"awaiting": "bookings", "surveys": "surveys", "followups": "followups"}
    items = [Item(key, found[key], "bookings.my_bookings", {"_anchor": anchors[key]}) for key in stmts]
    next_booking = db.session.get(Booking, found["next_id"]) if found["next_id"] else None
    return SmeTodo(next_booking=next_booking, items=items)
