"""The interpreter registry through the API: staff only, over consultroom.interpreters' services and policies."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, url_for

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import check_storable, json_object, logged, unit_of_work
from consultroom.api.spec import NUL_QUERY, errors
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.interpreters import policies, services
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import InterpreterFilter, interpreter_search
from consultroom.interpreters.schemas import (
    InterpreterActiveIn,
    InterpreterHoursIn,
    InterpreterInputSchema,
    InterpreterListArgs,
    InterpreterListSchema,
    InterpreterPatchSchema,
    InterpreterSchema,
    dump_interpreter,
)
from consultroom.privacy import access_log
from consultroom.schema_fields import load
from consultroom.schemas import page_body

HOURS_FIELD = "weekly_hours"
_STAFF_ONLY = "No such interpreter, or you are not staff (SMEs never see the registry)."
_CONFLICT = "The e-mail is registered, or the account is linked to another interpreter."
_NOT_JSON = "The body is not JSON or not a JSON object."
staff_only = api_requires(visible=policies.can_manage_interpreters)


def _split(data: dict[str, Any], schema: Any) -> dict[str, Any]:
    """Take the fields of `schema` (hours, the active switch) out of the body, loaded: they go to their
    own services, the rest to update_interpreter."""
    return load(schema, {name: data.pop(name) for name in list(data) if name in schema.fields})


@bp.get("/interpreters", tags=["interpreters"])
@api_auth
@staff_only
@bp.doc(
    operationId="listInterpreters",
    summary="The interpreter registry (staff), by name",
    responses=errors(401, e404=_STAFF_ONLY, e422=NUL_QUERY + " Or a filter or page number is not valid."),
)
@bp.arguments(InterpreterListArgs, location="query")
@bp.response(200, InterpreterListSchema, description="One page of interpreters.")
def list_interpreters(args: dict[str, Any]):
    page, per_page = args["page"], args["per_page"]
    f = InterpreterFilter(q=args["q"], language=args["language"], status=args["status"])
    stmt = interpreter_search(f, schedules=True)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    items = [dump_interpreter(i) for i in pagination.items]
    body = page_body(items, page=page, per_page=per_page, total=pagination.total, pages=pagination.pages)
    # PIPA access log: the interpreters returned (see consultroom.privacy.access_log).
    subjects = access_log.interpreters(pagination.items)
    return logged(
        jsonify(body),
        actor=g.api_user,
        subjects=subjects,
        what="api.list_interpreters",
    )


def _set_hours(interpreter: Interpreter, hours: dict[int, str]) -> None:
    try:
        services.set_weekly_hours(interpreter=interpreter, data=hours, actor=g.api_user)
    except Invalid as exc:
        # The service names days as the hours page does (day_<n>); here they are one field.
        messages = [m for name in sorted(exc.fields) for m in exc.fields[name]]
        raise Invalid(exc.message, fields={HOURS_FIELD: messages}) from exc


@bp.post("/interpreters", tags=["interpreters"])
@api_auth
@staff_only
@bp.doc(
    operationId="createInterpreter",
    summary="Register an interpreter, with weekly hours if given",
    responses=errors(
        401, 415, e400=_NOT_JSON, e404=_STAFF_ONLY, e409=_CONFLICT, e422="Fields missing or not valid, each named."
    ),
)
@bp.documents_body(InterpreterInputSchema)
@bp.response(201, InterpreterSchema, description="Registered.", headers={"Location": {"schema": {"type": "string"}}})
def create_interpreter():
    data = dict(json_object())
    check_storable(data)
    hours = _split(data, InterpreterHoursIn()).get(HOURS_FIELD)
    with unit_of_work():
        # The service validates the rest through InterpreterIn, as the form does.
        interpreter = services.create_interpreter(data=data, actor=g.api_user)
        if hours is not None:
            _set_hours(interpreter, hours)
        body = dump_interpreter(interpreter)
    return jsonify(body), 201, {"Location": url_for("api.get_interpreter", interpreter_id=body["id"])}


def _interpreter(interpreter_id: int) -> Interpreter:
    interpreter = get_or_404(db.session, Interpreter, interpreter_id)
    authorize(policies.can_view_interpreter(g.api_user, interpreter))
    return interpreter


@bp.get("/interpreters/<int:interpreter_id>", tags=["interpreters"])
@api_auth
@staff_only
@bp.doc(
    operationId="getInterpreter",
    summary="One interpreter, with weekly hours and dated exceptions",
    responses=errors(401, e404=_STAFF_ONLY, e422=NUL_QUERY),
)
@bp.response(200, InterpreterSchema, description="The interpreter.")
def get_interpreter(interpreter_id: int):
    response = jsonify(dump_interpreter(_interpreter(interpreter_id)))
    return logged(
        response,
        actor=g.api_user,
        subjects=[("interpreter", interpreter_id)],
        what="api.get_interpreter",
    )


@bp.patch("/interpreters/<int:interpreter_id>", tags=["interpreters"])
@api_auth
@staff_only
@bp.doc(
    operationId="updateInterpreter",
    summary="Change some fields, replace the weekly hours, or (de)activate",
    responses=errors(
        401,
        415,
        e400=_NOT_JSON,
        e404=_STAFF_ONLY,
        e409=_CONFLICT,
        e422="Fields not valid, each named in `fields`.",
    ),
)
@bp.documents_body(InterpreterPatchSchema(partial=True))
@bp.response(200, InterpreterSchema, description="The interpreter as saved.")
def update_interpreter(interpreter_id: int):
    interpreter = _interpreter(interpreter_id)
    authorize(True, policies.can_edit_interpreter(g.api_user, interpreter))
    data = dict(json_object())
    check_storable(data)
    switch = _split(data, InterpreterActiveIn())
    hours = _split(data, InterpreterHoursIn()).get(HOURS_FIELD)
    with unit_of_work():
        services.update_interpreter(interpreter=interpreter, data=data, actor=g.api_user, partial=True)
        if hours is not None:
            # The list sent replaces the week: days left out have no hours.
            _set_hours(interpreter, hours)
        if "active" in switch:
            services.set_interpreter_active(interpreter=interpreter, active=switch["active"], actor=g.api_user)
        body = dump_interpreter(interpreter)
    return jsonify(body)
