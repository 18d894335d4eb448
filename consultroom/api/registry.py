"""What the registry endpoints share (buyers, interpreters, companies): the object a caller may see,
a page of a search, one object and a created one, the body of a create or change, and their errors.
Every answer that shows people records them into the request (PIPA access log, api.http.logged)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Response, g, jsonify, url_for
from marshmallow import Schema
from sqlalchemy import Select

from consultroom.access import authorize, get_or_404
from consultroom.api.http import check_storable, json_object, list_page, logged
from consultroom.api.spec import errors
from consultroom.extensions import db
from consultroom.schema_fields import load

T = TypeVar("T")
NOT_JSON = "The body is not JSON or not a JSON object."
Subjects = Callable[[list[Any]], Iterable[tuple[str, int]]]


def visible(model: type[T], ident: int, can_view: Callable[[Any, T], bool]) -> T:
    """The row, or 404 when there is none or the caller may not see it."""
    row = get_or_404(db.session, model, ident)
    authorize(can_view(g.api_user, row))
    return row


def page(stmt: Select, args: dict[str, Any], dump: Callable[[Any], Any], *, subjects: Subjects, what: str) -> Response:
    """One page (args' page and per_page) of `stmt`, each row dumped, in the page envelope."""
    listed = list_page(stmt, args)
    body = listed.body([dump(row) for row in listed.items])
    return logged(jsonify(body), actor=g.api_user, subjects=subjects(listed.items), what=what)


def one(body: Any, *, subject: tuple[str, int], what: str) -> Response:
    return logged(jsonify(body), actor=g.api_user, subjects=[subject], what=what)


def created(body: Any, endpoint: str, **ids: int) -> tuple[Response, int, dict[str, str]]:
    """201 with the new object and where to read it."""
    return jsonify(body), 201, {"Location": url_for(endpoint, **ids)}


def body() -> dict[str, Any]:
    """The JSON object sent (415/400 otherwise), a copy to take fields out of; a text no database could
    store is refused, naming its field."""
    data = dict(json_object())
    check_storable(data)
    return data


def take(data: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Take the fields of `schema` (hours, the active switch) out of the body, loaded: they go to their
    own services, the rest to the object's update."""
    return load(schema, {name: data.pop(name) for name in list(data) if name in schema.fields})


def create_errors(*, e404: str, e409: str) -> dict[str, Any]:
    return errors(401, 415, e400=NOT_JSON, e404=e404, e409=e409, e422="Fields missing or not valid, each named.")


def patch_errors(*, e404: str, e409: str, **described: str) -> dict[str, Any]:
    return errors(
        401, 415, e400=NOT_JSON, e404=e404, e409=e409, e422="Fields not valid, each named in `fields`.", **described
    )
