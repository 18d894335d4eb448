"""Pages of lists, shared by the views: the page number from the query string, Flask-SQLAlchemy's
paginate for a list that is one SELECT, and a Window (read by the `pager` macro as it reads a
Pagination) for a page that shows several lists side by side.

A page's SELECT must end its ORDER BY with a unique key, or rows move between pages as ties reorder."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import request
from sqlalchemy import Select, func, select

from consultroom.extensions import db

MAX_PAGE = 100_000  # far beyond any real list; keeps OFFSET (page x size) a sane number


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
