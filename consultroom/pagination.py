"""Pages of lists, shared by the views: the page number from the query string, Flask-SQLAlchemy's
paginate for a list that is one SELECT, a CappedPage for a list that grows without end (audit
entries, mails, access-log rows: its total counted up to COUNT_CAP), and a Window (read by the
`pager` macro as it reads a Pagination) for a page that shows several lists side by side.

A page's SELECT must end its ORDER BY with a unique key, or rows move between pages as ties reorder."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from consultroom.extensions import db

MAX_PAGE = 100_000  # far beyond any real list; keeps OFFSET (page x size) a sane number
# A total is counted up to here. An exact count reads every row the list holds: 800,000 audit entries
# or mails at national scale, most of a page's time (as GitLab's API stops at 10,000).
COUNT_CAP = 10_000


def page_number(name: str = "page") -> int:
    """?page=N (or another name, for a page with two lists) as a whole number from 1 to MAX_PAGE;
    anything else is the first page."""
    page = request.args.get(name, 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


def count_of(stmt: Select) -> Select:
    """SELECT count(*) of the rows `stmt` returns (its ORDER BY dropped)."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def paginate(stmt, *, per_page: int, count: bool = True):
    return db.paginate(stmt, page=page_number(), per_page=per_page, error_out=False, count=count)


def capped_count(stmt: Select, cap: int | None = None) -> int | None:
    """How many rows `stmt` returns, or None when more than `cap` (COUNT_CAP) do, reading at most
    cap + 1 of them."""
    cap = COUNT_CAP if cap is None else cap
    capped = stmt.options(lazyload("*")).order_by(None).limit(cap + 1).subquery()
    counted = db.session.execute(select(func.count()).select_from(capped)).scalar_one()
    return None if counted > cap else counted


@dataclass(frozen=True)
class CappedPage:
    """One page of an ORM select and its total up to COUNT_CAP (None past it); the `pager` macro reads
    it as a Pagination and says "page N" without "of M" when the total is not known. Whether a next
    page exists comes from reading one row more than the page, so it is exact either way."""

    items: list[Any]
    page: int
    per_page: int
    total: int | None
    has_next: bool

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def capped_paginate(stmt: Select, *, per_page: int, page: int | None = None) -> CappedPage:
    page = page or page_number()
    rows = list(db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).unique().scalars())
    return CappedPage(rows[:per_page], page, per_page, capped_count(stmt), len(rows) > per_page)


@dataclass(frozen=True)
class Window:
    page: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None
