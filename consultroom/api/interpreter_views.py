"""The interpreter registry through the API: staff only, over consultroom.interpreters' services and policies."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, g, jsonify, url_for
from flask_babel import gettext as _

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import check_storable, json_object, query_int, query_text, unit_of_work
from consultroom.api.registry_serializers import interpreter_json
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.interpreters import policies, services
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import STATUSES, InterpreterFilter, interpreter_search
from consultroom.privacy import access_log

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
HOURS_FIELD = "weekly_hours"
# The most ranges a week can hold: the service allows MAX_RANGES_PER_DAY on each of 7 days.
MAX_HOURS = 7 * services.MAX_RANGES_PER_DAY
_HHMM = re.compile(r"[0-9]{1,2}:[0-9]{2}")


def _staff() -> None:
    authorize(policies.can_manage_interpreters(g.api_user))


def _invalid(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


@bp.get("/interpreters")
@api_auth
def list_interpreters():
    _staff()
    errors: dict[str, list[str]] = {}
    status = query_text("status", 10, errors) or "active"
    if status not in STATUSES:
        errors["status"] = [_("Choose active, inactive or all.")]
    f = InterpreterFilter(q=query_text("q", 100, errors), language=query_text("language", 8, errors), status=status)
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config.get("INTERPRETERS_PER_PAGE", 25), MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    _invalid(errors)
    pagination = db.paginate(
        interpreter_search(f, schedules=True), page=page, per_page=per_page, error_out=False, count=True
    )
    response = jsonify(
        {
            "items": [interpreter_json(i) for i in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )
    # PIPA access log: the interpreters returned (see consultroom.privacy.access_log).
    subjects = access_log.interpreters(pagination.items)
    return access_log.commit_logged(
        response, actor=g.api_user, subjects=subjects, what="api.list_interpreters", via="api"
    )


def _weekly_hours(data: dict[str, Any]) -> dict[int, str] | None:
    """`weekly_hours` [{"weekday", "start", "end"}] as the hours page sends it to set_weekly_hours:
    {weekday: "09:00-12:00, 13:00-18:00"}. The service checks the times, order and overlaps."""
    if HOURS_FIELD not in data:
        return None
    raw = data.pop(HOURS_FIELD)
    shape = _("A list of weekday (0 is Monday to 6), start and end (HH:MM) for each range.")
    if not isinstance(raw, list) or len(raw) > MAX_HOURS:
        raise Invalid(_("Please correct the marked fields."), fields={HOURS_FIELD: [shape]})
    per_day: dict[int, list[str]] = {}
    for item in raw:
        ok = (
            isinstance(item, dict)
            and set(item) == {"weekday", "start", "end"}
            and isinstance(item["weekday"], int)
            and not isinstance(item["weekday"], bool)
            and 0 <= item["weekday"] <= 6
            and all(isinstance(item[k], str) and _HHMM.fullmatch(item[k]) for k in ("start", "end"))
        )
        if not ok:
            raise Invalid(_("Please correct the marked fields."), fields={HOURS_FIELD: [shape]})
        per_day.setdefault(item["weekday"], []).append(f"{item['start']}-{item['end']}")
    return {day: ", ".join(ranges) for day, ranges in per_day.items()}


def _active_flag(data: dict[str, Any]) -> bool | None:
    if "active" not in data:
        return None
    value = data.pop("active")
    if not isinstance(value, bool):
        raise Invalid(_("Please correct the marked fields."), fields={"active": [_("Use true or false.")]})
    return value


def _set_hours(interpreter: Interpreter, hours: dict[int, str]) -> None:
    try:
        services.set_weekly_hours(interpreter=interpreter, data=hours, actor=g.api_user)
    except Invalid as exc:
        # The service names days as the hours page does (day_<n>); here they are one field.
        messages = [m for name in sorted(exc.fields) for m in exc.fields[name]]
        raise Invalid(exc.message, fields={HOURS_FIELD: messages}) from exc


@bp.post("/interpreters")
@api_auth
def create_interpreter():
    _staff()
    data = dict(json_object())
    check_storable(data)
    hours = _weekly_hours(data)
    with unit_of_work():
        interpreter = services.create_interpreter(data=data, actor=g.api_user)
        if hours is not None:
            _set_hours(interpreter, hours)
        body = interpreter_json(interpreter)
    return jsonify(body), 201, {"Location": url_for("api.get_interpreter", interpreter_id=body["id"])}


def _interpreter(interpreter_id: int) -> Interpreter:
    _staff()
    interpreter = get_or_404(db.session, Interpreter, interpreter_id)
    authorize(policies.can_view_interpreter(g.api_user, interpreter))
    return interpreter


@bp.get("/interpreters/<int:interpreter_id>")
@api_auth
def get_interpreter(interpreter_id: int):
    response = jsonify(interpreter_json(_interpreter(interpreter_id)))
    return access_log.commit_logged(
        response, actor=g.api_user, subjects=[("interpreter", interpreter_id)], what="api.get_interpreter", via="api"
    )


@bp.patch("/interpreters/<int:interpreter_id>")
@api_auth
def update_interpreter(interpreter_id: int):
    interpreter = _interpreter(interpreter_id)
    authorize(True, policies.can_edit_interpreter(g.api_user, interpreter))
    data = dict(json_object())
    check_storable(data)
    active = _active_flag(data)
    hours = _weekly_hours(data)
    with unit_of_work():
        services.update_interpreter(interpreter=interpreter, data=data, actor=g.api_user, partial=True)
        if hours is not None:
            # The list sent replaces the week: days left out have no hours.
            _set_hours(interpreter, hours)
        if active is not None:
            services.set_interpreter_active(interpreter=interpreter, active=active, actor=g.api_user)
        body = interpreter_json(interpreter)
    return jsonify(body)
