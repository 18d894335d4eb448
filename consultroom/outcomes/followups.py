"""The follow-up calendar of a consultation's outcome: 1, 3 and 6 months after it, by Seoul date.
Pure date rules, beneath the services and the queries that both use them."""

from __future__ import annotations

import calendar
from datetime import date

FOLLOWUP_MONTHS = (1, 3, 6)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_milestone(consulted: date, today: date) -> tuple[int, date] | None:
    """The latest of the 1/3/6-month follow-up dates that has come, or None before the first."""
    passed = [(m, add_months(consulted, m)) for m in FOLLOWUP_MONTHS if add_months(consulted, m) <= today]
    return passed[-1] if passed else None


def next_followup_due(consulted: date, updated: date) -> date | None:
    """The first follow-up date after the last update: an open outcome is overdue from that day on
    (equivalently, some follow-up date has come since its last update); None once the last update
    is on or after the 6-month date, as no follow-up is asked for after it."""
    for months in FOLLOWUP_MONTHS:
        due = add_months(consulted, months)
        if due > updated:
            return due
    return None
