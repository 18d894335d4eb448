"""Interpreter rules: one validation for the pages and the API, duplicates refused, every change audited.

Weekly hours and dated exceptions are in Asia/Seoul, as availability.is_available reads them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, time
from itertools import pairwise
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consultroom import schema_fields as sf
from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.buyers import validation as v
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException, InterpreterHours, InterpreterLanguage
from consultroom.interpreters.schemas import (
    OTHER_FIELDS,
    TEXT_FIELDS,
    interpreter_snapshot,
    load_interpreter,
)

# The fields, their limits and messages are declared once, in interpreters.schemas.
ALL_FIELDS = (*TEXT_FIELDS, *OTHER_FIELDS)
MAX_RANGES_PER_DAY = 6
EXCEPTION_KINDS = ("away_all_day", "away", "extra")
PORTAL_PURPOSE = "interpreter-portal"
DEFAULT_PORTAL_MAX_AGE = 30 * 24 * 3600


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def clean_interpreter_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise interpreter fields. Raises Invalid naming every bad field at once."""
    return load_interpreter(data, partial=partial)


# --- weekly hours and exceptions (pure) ------------------------------------------------------------


def parse_ranges(text: str) -> tuple[list[tuple[time, time]], list[str]]:
    """ "09:00-12:00, 13:00-18:00" -> ([(9:00, 12:00), (13:00, 18:00)], errors). Sorted by start."""
    errors: list[str] = []
    ranges: list[tuple[time, time]] = []
    parts = [p.strip() for p in re.split(r"[,;\n]+", text or "") if p.strip()]
    for part in parts:
        ends = [e.strip() for e in re.split(r"\s*[-~–]\s*", part)]
        if len(ends) != 2 or not all(ends):
            errors.append(_("Write each range as start-end, e.g. 09:00-12:00: %(value)s", value=part))
            continue
        start, end = v.parse_time(ends[0]), v.parse_time(ends[1])
        if start is None or end is None:
            errors.append(_("Not a time of day such as 09:00: %(value)s", value=part))
        elif not start < end:
            errors.append(_("The start must be before the end: %(value)s", value=part))
        else:
            ranges.append((start, end))
    if len(ranges) > MAX_RANGES_PER_DAY:
        errors.append(_("At most %(n)d entries.", n=MAX_RANGES_PER_DAY))
    ranges.sort()
    for (a_start, a_end), (b_start, b_end) in pairwise(ranges):
        if b_start < a_end:
            errors.append(
                _(
                    "%(first)s and %(second)s overlap.",
                    first=f"{a_start:%H:%M}-{a_end:%H:%M}",
                    second=f"{b_start:%H:%M}-{b_end:%H:%M}",
                )
            )
    return ranges, errors


def format_ranges(ranges: list[tuple[time, time]]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)


def clean_weekly_hours(data: Mapping[int, str]) -> dict[int, list[tuple[time, time]]]:
    """{weekday: "09:00-12:00, 13:00-18:00"} -> {weekday: ranges}; Invalid names day_<n> fields."""
    errors: dict[str, list[str]] = {}
    clean: dict[int, list[tuple[time, time]]] = {}
    for weekday in range(7):
        ranges, problems = parse_ranges(data.get(weekday, "") or "")
        if problems:
            errors[f"day_{weekday}"] = problems
        clean[weekday] = ranges
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


def clean_exception(data: Mapping[str, Any]) -> dict[str, Any]:
    """day (YYYY-MM-DD), kind (away_all_day | away | extra), start/end for away and extra, note."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    clean: dict[str, Any] = {}
    raw_day = _text(data.get("day")) or ""
    try:
        clean["day"] = date.fromisoformat(raw_day.strip())
    except ValueError:
        err("day", _("Give a date such as 2026-04-01.") if raw_day.strip() else str(sf.REQUIRED))
    kind = _text(data.get("kind")) or ""
    if kind not in EXCEPTION_KINDS:
        err("kind", _("Choose away all day, away for some hours, or extra hours."))
    clean["kind"] = kind
    clean["start"] = clean["end"] = None
    if kind in ("away", "extra"):
        for name in ("start", "end"):
            raw = _text(data.get(name)) or ""
            if not raw.strip():
                err(name, str(sf.REQUIRED))
                continue
            parsed = v.parse_time(raw)
            if parsed is None:
                err(name, _("Not a time of day such as 09:00."))
            else:
                clean[name] = parsed
        if clean["start"] is not None and clean["end"] is not None and not clean["start"] < clean["end"]:
            err("end", _("The end must be after the start."))
    note = v.collapse(_text(data.get("note")) or "")
    if len(note) > 200:
        err("note", sf.too_long(200))
    clean["note"] = note
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


# --- snapshots for the audit log -------------------------------------------------------------------


def hours_snapshot(interpreter: Interpreter) -> list[str]:
    return [f"{h.weekday} {h.start:%H:%M}-{h.end:%H:%M}" for h in sorted(interpreter.hours, key=_hours_key)]


def _hours_key(h: InterpreterHours) -> tuple[int, time]:
    return h.weekday, h.start


def exception_snapshot(e: InterpreterException) -> dict[str, Any]:
    return {
        "day": e.day.isoformat(),
        "available": e.available,
        "start": e.start.strftime("%H:%M") if e.start else None,
        "end": e.end.strftime("%H:%M") if e.end else None,
        "note": e.note,
    }


def snapshot(interpreter: Interpreter) -> dict[str, Any]:
    return interpreter_snapshot.dump(interpreter)


# --- writes ----------------------------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    from consultroom.interpreters.policies import can_manage_interpreters

    if not can_manage_interpreters(actor):
        raise NotAllowed(_("You cannot change the interpreter registry."))


def _email_conflict(existing: Interpreter) -> Conflict:
    msg = _("An interpreter with this e-mail address is already registered (%(name)s).", name=existing.name)
    return Conflict(msg, fields={"email": [msg]})


def _check_email_free(email: str, *, except_id: int | None) -> None:
    stmt = select(Interpreter).where(Interpreter.email == email)
    if except_id is not None:
        stmt = stmt.where(Interpreter.id != except_id)
    existing = db.session.scalars(stmt.limit(1)).first()
    if existing is not None:
        raise _email_conflict(existing)


def _account_for(email: str, *, except_id: int | None) -> int | None:
    """The user id to link for `account_email` (empty: no account)."""
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        msg = _("No account has this e-mail address. The interpreter can register first, or use signed links.")
        raise Invalid(msg, fields={"account_email": [msg]})
    stmt = select(Interpreter).where(Interpreter.user_id == user.id)
    if except_id is not None:
        stmt = stmt.where(Interpreter.id != except_id)
    other = db.session.scalars(stmt.limit(1)).first()
    if other is not None:
        msg = _("This account is already linked to another interpreter (%(name)s).", name=other.name)
        raise Conflict(msg, fields={"account_email": [msg]})
    return user.id


def _apply(interpreter: Interpreter, clean: Mapping[str, Any]) -> None:
    for name in (*TEXT_FIELDS, "max_sessions_per_day", "locale"):
        if name in clean:
            setattr(interpreter, name, clean[name])
    if "languages" in clean and clean["languages"] != interpreter.languages:
        interpreter.language_rows = [InterpreterLanguage(code=c) for c in clean["languages"]]


def _flush_unique() -> None:
    # The checks above read first; two staff saving at once meet the unique constraints.
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        msg = _("Another interpreter with this e-mail address or account was just registered.")
        raise Conflict(msg, fields={"email": [msg]}) from exc


def new_interpreter(clean: Mapping[str, Any], *, user_id: int | None = None) -> Interpreter:
    """An interpreter from checked fields (and weekly hours as {weekday: ranges}, if given); not added."""
    interpreter = Interpreter(phone="", specialties="", active=True, user_id=user_id)
    _apply(interpreter, clean)
    hours = clean.get("hours") or {}
    interpreter.hours = [InterpreterHours(weekday=d, start=a, end=b) for d, ranges in hours.items() for a, b in ranges]
    return interpreter


def create_interpreter(*, data: Mapping[str, Any], actor: User) -> Interpreter:
    _require_staff(actor)
    clean = clean_interpreter_data(data)
    _check_email_free(clean["email"], except_id=None)
    user_id = _account_for(clean.get("account_email", ""), except_id=None)
    interpreter = new_interpreter(clean, user_id=user_id)
    db.session.add(interpreter)
    _flush_unique()
    record(actor=actor, action="interpreter.create", obj=interpreter, after=snapshot(interpreter))
    return interpreter


def update_interpreter(
    *, interpreter: Interpreter, data: Mapping[str, Any], actor: User, partial: bool = False
) -> Interpreter:
    _require_staff(actor)
    clean = clean_interpreter_data(data, partial=partial)
    if "email" in clean:
        _check_email_free(clean["email"], except_id=interpreter.id)
    before = snapshot(interpreter)
    if "account_email" in clean:
        interpreter.user_id = _account_for(clean["account_email"], except_id=interpreter.id)
    _apply(interpreter, clean)
    _flush_unique()
    after = snapshot(interpreter)
    if before != after:
        record(actor=actor, action="interpreter.update", obj=interpreter, before=before, after=after)
    return interpreter


def set_interpreter_active(*, interpreter: Interpreter, active: bool, actor: User) -> Interpreter:
    """Deactivated interpreters keep their assignments and history; new proposals leave them out."""
    _require_staff(actor)
    if interpreter.active == active:
        return interpreter
    interpreter.active = active
    db.session.flush()
    record(
        actor=actor,
        action="interpreter.reactivate" if active else "interpreter.deactivate",
        obj=interpreter,
        before={"active": not active},
        after={"active": active},
    )
    return interpreter


def set_weekly_hours(*, interpreter: Interpreter, data: Mapping[int, str], actor: User) -> Interpreter:
    """Replace the weekly hours with the ranges given per weekday (0 = Monday)."""
    _require_staff(actor)
    clean = clean_weekly_hours(data)
    before = hours_snapshot(interpreter)
    wanted = [(day, a, b) for day, ranges in clean.items() for a, b in ranges]
    if [f"{d} {a:%H:%M}-{b:%H:%M}" for d, a, b in wanted] == before:
        return interpreter
    interpreter.hours = [InterpreterHours(weekday=d, start=a, end=b) for d, a, b in wanted]
    db.session.flush()
    record(
        actor=actor,
        action="interpreter.hours",
        obj=interpreter,
        before={"hours": before},
        after={"hours": hours_snapshot(interpreter)},
    )
    return interpreter


def add_exception(*, interpreter: Interpreter, data: Mapping[str, Any], actor: User) -> InterpreterException:
    _require_staff(actor)
    clean = clean_exception(data)
    exception = InterpreterException(
        day=clean["day"],
        available=clean["kind"] == "extra",
        start=clean["start"],
        end=clean["end"],
        note=clean["note"],
    )
    interpreter.exceptions.append(exception)
    db.session.flush()
    record(
        actor=actor,
        action="interpreter.exception_add",
        obj=interpreter,
        before=None,
        after={"exception": exception_snapshot(exception)},
    )
    return exception


def delete_exception(*, interpreter: Interpreter, exception: InterpreterException, actor: User) -> None:
    _require_staff(actor)
    if exception.interpreter_id != interpreter.id:
        raise Invalid(_("This exception belongs to another interpreter."))
    before = exception_snapshot(exception)
    interpreter.exceptions.remove(exception)
    db.session.flush()
    record(actor=actor, action="interpreter.exception_delete", obj=interpreter, before={"exception": before})


# --- signed portal links ---------------------------------------------------------------------------


def portal_max_age() -> int:
    return int(current_app.config.get("INTERPRETER_PORTAL_MAX_AGE", DEFAULT_PORTAL_MAX_AGE))


def _email_digest(email: str) -> str:
    # A changed address voids links sent to the old one, without putting the address in the URL.
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def portal_token(interpreter: Interpreter) -> str:
    from consultroom.signing import make_token

    return make_token(PORTAL_PURPOSE, {"i": interpreter.id, "e": _email_digest(interpreter.email)})


def interpreter_from_token(token: str) -> Interpreter:
    """The interpreter a portal token was made for. Raises LinkExpired / LinkInvalid (signing.py)."""
    from consultroom.signing import LinkInvalid, read_token

    payload = read_token(PORTAL_PURPOSE, token, portal_max_age())
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise LinkInvalid("malformed payload")
    interpreter = db.session.get(Interpreter, payload["i"])
    if interpreter is None or payload.get("e") != _email_digest(interpreter.email):
        raise LinkInvalid("no such interpreter, or the address changed")
    return interpreter


def send_portal_link(*, interpreter: Interpreter, actor: User):
    """Queue a mail with the interpreter's portal link, in the interpreter's language."""
    from consultroom.notifications.services import external_url, queue_mail

    _require_staff(actor)
    if not interpreter.active:
        raise Invalid(_("Reactivate the interpreter before sending a link."))
    link = external_url("interpreters.portal", token=portal_token(interpreter), lang=interpreter.locale)
    mail = queue_mail(
        to=interpreter.email,
        template="interpreter_portal",
        context={"name": interpreter.name, "link": link, "days": portal_max_age() // (24 * 3600)},
        locale=interpreter.locale,
        user=db.session.get(User, interpreter.user_id) if interpreter.user_id else None,
    )
    record(actor=actor, action="interpreter.portal_link", obj=interpreter, after={"mail_id": mail.id})
    return mail
