"""The interpreter registry through the API: staff only, over consultroom.interpreters' services and policies."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from consultroom.access import authorize
from consultroom.api import bp, registry
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import unit_of_work
from consultroom.api.spec import NUL_QUERY, errors
from consultroom.errors import Invalid
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

HOURS_FIELD = "weekly_hours"
_STAFF_ONLY = "No such interpreter, or you are not staff (SMEs never see the registry)."
_CONFLICT = "The e-mail is registered, or the account is linked to another interpreter."
staff_only = api_requires(visible=policies.can_manage_interpreters)


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
    f = InterpreterFilter(q=args["q"], language=args["language"], status=args["status"])
    stmt = interpreter_search(f, schedules=True)
    # PIPA access log: the interpreters returned (see consultroom.privacy.access_log).
    return registry.page(stmt, args, dump_interpreter, subjects=access_log.interpreters, what="api.list_interpreters")


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
    responses=registry.create_errors(e404=_STAFF_ONLY, e409=_CONFLICT),
)
@bp.documents_body(InterpreterInputSchema)
@bp.response(201, InterpreterSchema, description="Registered.", headers={"Location": {"schema": {"type": "string"}}})
def create_interpreter():
    data = registry.body()
    hours = registry.take(data, InterpreterHoursIn()).get(HOURS_FIELD)
    with unit_of_work():
        # The service validates the rest through InterpreterIn, as the form does.
        interpreter = services.create_interpreter(data=data, actor=g.api_user)
        if hours is not None:
            _set_hours(interpreter, hours)
        body = dump_interpreter(interpreter)
    return registry.created(body, "api.get_interpreter", interpreter_id=interpreter.id)


def _interpreter(interpreter_id: int) -> Interpreter:
    return registry.visible(Interpreter, interpreter_id, policies.can_view_interpreter)


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
    body = dump_interpreter(_interpreter(interpreter_id))
    return registry.one(body, subject=("interpreter", interpreter_id), what="api.get_interpreter")


@bp.patch("/interpreters/<int:interpreter_id>", tags=["interpreters"])
@api_auth
@staff_only
@bp.doc(
    operationId="updateInterpreter",
    summary="Change some fields, replace the weekly hours, or (de)activate",
    responses=registry.patch_errors(e404=_STAFF_ONLY, e409=_CONFLICT),
)
@bp.documents_body(InterpreterPatchSchema(partial=True))
@bp.response(200, InterpreterSchema, description="The interpreter as saved.")
def update_interpreter(interpreter_id: int):
    interpreter = _interpreter(interpreter_id)
    authorize(True, policies.can_edit_interpreter(g.api_user, interpreter))
    data = registry.body()
    switch = registry.take(data, InterpreterActiveIn())
    hours = registry.take(data, InterpreterHoursIn()).get(HOURS_FIELD)
    with unit_of_work():
        services.update_interpreter(interpreter=interpreter, data=data, actor=g.api_user, partial=True)
        if hours is not None:
            # The list sent replaces the week: days left out have no hours.
            _set_hours(interpreter, hours)
        if "active" in switch:
            services.set_interpreter_active(interpreter=interpreter, active=switch["active"], actor=g.api_user)
        body = dump_interpreter(interpreter)
    return jsonify(body)
