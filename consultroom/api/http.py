"""Request parsing and responses for the JSON API: defensive, so no input can reach a 500."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.errorpages import json_error
from consultroom.errors import Conflict, DomainError, Invalid
from consultroom.extensions import db
from consultroom.pagination import capped_paginate
from consultroom.request_transaction import log_access
from consultroom.schemas import ID_MAX, check_storable, iso, page_body, text_problem  # noqa: F401 (the API's views import them from here)

REALM = 'Bearer realm="consultroom"'
T = TypeVar("T")


@dataclass
class ListPage:
    """One page of an API list: its rows and the envelope's numbers."""

    items: list[Any]
    page: int
    per_page: int
    total: int | None
    pages: int | None

    def body(self, items: Any, **extra: Any) -> dict[str, Any]:
        return page_body(items, page=self.page, per_page=self.per_page, total=self.total, pages=self.pages, **extra)


def list_page(stmt: Select, args: dict[str, Any]) -> ListPage:
    """The page `args` asks for (page, per_page) of an ORM select, and its total counted up to
    pagination.COUNT_CAP rows. An exact count reads every matching row: all 200,000 bookings of a
    national registry for staff, the slowest part of the list. Past the cap (as GitLab's API does past
    10,000 rows) `total` and `pages` are null, and a client pages on until a page holds fewer than
    per_page items."""
    listed = capped_paginate(stmt, per_page=args["per_page"], page=args["page"])
    total, per_page = listed.total, listed.per_page
    # An empty list has 0 pages here (as the API always said), where the web pager shows page 1 of 1.
    return ListPage(listed.items, listed.page, per_page, total, None if total is None else -(-total // per_page))


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


def unauthorized(message: str, *, invalid_token: bool = False):
    """401 with the challenge RFC 6750 asks for; `invalid_token` when a token was sent but refused."""
    response = json_error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = REALM + (', error="invalid_token"' if invalid_token else "")
    return response


_MISSING = object()


def _parse_body() -> Any:
    cached = g.get("_api_json", _MISSING)
    if cached is not _MISSING:
        return cached
    try:
        # json.loads, not request.get_json: a deeply nested body raises RecursionError, which
        # get_json(silent=True) lets through as a 500. Bytes are decoded as UTF-8/16/32 per RFC 8259.
        value = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        value = _MISSING
    g._api_json = value
    return value


def peek_json_object() -> dict[str, Any]:
    """The body as an object, or {} when it is none; for rate-limit keys, which must never fail."""
    value = _parse_body() if request.is_json else None
    return value if isinstance(value, dict) else {}


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object: 415 when not sent as JSON, 400 when not an object."""
    if not request.is_json:
        raise UnsupportedMediaType(_("Send the body as JSON (Content-Type: application/json)."))
    value = _parse_body()
    if value is _MISSING:
        raise BadRequest(_("The body is not valid JSON."))
    if not isinstance(value, dict):
        raise BadRequest(_("The body must be a JSON object."))
    return value


def reject_nul_in_query() -> None:
    """Before every API request: a NUL character in a query parameter (name or value) is a 422
    naming it. Query values reach SQL and logs; PostgreSQL cannot even store one."""
    bad = {
        name.replace("\x00", ""): [_("Contains a NUL character.")]
        for name, value in request.args.items(multi=True)
        if "\x00" in name or "\x00" in value
    }
    if bad:
        raise Invalid(_("Please correct the marked fields."), fields=bad)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The writes of an API view: flushed here, so a unique constraint that fires because of a concurrent
    write becomes a 409 (not a 500), and rolled back on any error. consultroom.request_transaction
    commits them once, after the answer is built (DESIGN 7.3), as it does for the web views.
    """
    try:
        yield
        db.session.flush()
        # As a commit would: the answer is read from the rows as stored (lists in their stored order).
        db.session.expire_all()
    except IntegrityError as exc:
        db.session.rollback()
        msg = _("This conflicts with a change saved at the same time. Please reload and try again.")
        fields = {"business_number": [msg]} if "business_number" in str(exc.orig) else {}
        raise Conflict(msg, fields=fields) from exc
    except BaseException:
        db.session.rollback()
        raise


def logged(answer: T, *, actor: User, subjects: Iterable[tuple[str, int]], what: str) -> T:
    """The answer, with the personal data it shows recorded into the request (PIPA access log): the
    request's one commit writes the rows (consultroom.request_transaction)."""
    log_access(actor=actor, subjects=subjects, what=what, via="api")
    return answer
