"""Interpreter import from CSV and XLSX: read, preview every row, then write all or nothing.

The steps every staff import shares are in consultroom.table_import; here are the interpreter's
columns (the form's fields and the weekly hours as one cell, "Mon-Fri 09:00-18:00"), its duplicates
(the same e-mail in the registry or earlier in the file: reported and skipped, as the buyer import
does) and what a row creates. An account to link is not a column: staff link one on the edit page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom import table_import as ti
from consultroom.accounts.models import User
from consultroom.errors import Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters import services
from consultroom.interpreters.hours_text import parse_week
from consultroom.interpreters.models import Interpreter, InterpreterImportBatch
from consultroom.interpreters.schemas import DEFAULTS, load_interpreter
from consultroom.spreadsheets import read_table
from consultroom.table_import import MAX_BYTES, ImportPreview, ParsedUpload

# Field -> headings accepted for it, compared after table_import.heading_key() (case, spaces, "_-."
# and notes such as "(필수)" ignored). English and Korean, as staff name their columns.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "interpreter", "interpreter name", "이름", "성명", "통역사", "통역사명"),
    "email": ("email", "e-mail", "mail", "email address", "이메일", "메일", "전자우편", "이메일주소"),
    "phone": ("phone", "tel", "telephone", "phone number", "mobile", "전화", "전화번호", "연락처", "휴대폰"),
    "languages": ("languages", "language", "lang", "언어", "통역 언어", "통역언어", "사용 언어"),
    "specialties": ("specialties", "specialty", "fields", "전문 분야", "전문분야", "분야"),
    "max_sessions_per_day": (
        "max_sessions_per_day",
        "sessions per day",
        "daily cap",
        "max per day",
        "하루 최대",
        "일일 최대",
        "하루 최대 상담",
    ),
    "locale": ("locale", "mail language", "language for mails", "메일 언어", "안내 언어"),
    "hours": ("hours", "weekly hours", "availability", "근무 시간", "근무시간", "가능 시간", "주간 시간"),
}
REQUIRED_COLUMNS = ("name", "email", "languages")

COLUMNS = ti.Columns(
    aliases=COLUMN_ALIASES,
    required=REQUIRED_COLUMNS,
    no_headings=lambda: _("The first row must hold the column headings (e.g. name, email, languages)."),
    cell=lambda value, _name: ti.cell_text(value),
)


def parse_upload(filename: str, raw_bytes: bytes) -> ParsedUpload:
    """Read a .csv or .xlsx file. Raises Invalid (field "file") for a file that cannot be imported."""
    name, table, notes = read_table(filename, raw_bytes, max_bytes=MAX_BYTES)
    return ti.rows_from_table(COLUMNS, name, table, notes)


def load_row(values: Mapping[str, str]) -> dict[str, Any]:
    """A row checked by the interpreter schema, blanks taking the form's first values; the weekly
    hours checked as the hours page checks them. Invalid names every bad field of the row."""
    data = {**DEFAULTS, **{k: v for k, v in values.items() if k != "hours" and (v or k not in DEFAULTS)}}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    try:
        clean = load_interpreter(data)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        hours = parse_week(values.get("hours", ""))
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return {**clean, "hours": hours}


def preview_import(
    rows: list[dict[str, Any]],
    *,
    columns: dict[str, dict[str, str]] | None = None,
    filename: str = "",
    batch_id: int | None = None,
) -> ImportPreview:
    """Check every row; mark duplicates of registered interpreters and of earlier rows. Writes nothing."""
    columns = columns or {}
    results = ti.check_rows(rows, columns, load_row)
    clean_results = [r for r in results if r.clean is not None]
    emails = sorted({r.clean["email"] for r in clean_results})
    registered: dict[str, int] = {}
    for chunk in ti.chunks(emails):
        stmt = select(Interpreter.email, Interpreter.id).where(Interpreter.email.in_(chunk))
        registered.update((email, interpreter_id) for email, interpreter_id in db.session.execute(stmt))
    seen: dict[str, int] = {}
    for r in clean_results:
        email = r.clean["email"]
        if email in registered:
            r.duplicate_of_record, r.duplicate_by = registered[email], "email"
        elif email in seen:
            r.duplicate_of_row, r.duplicate_by = seen[email], "email"
        else:
            seen[email] = r.row
    digest = ti.plan_digest(rows, columns, results, batch_id)
    return ImportPreview(
        filename=filename, columns=columns, rows=rows, results=results, digest=digest, batch_id=batch_id
    )


def _require_staff(actor: User) -> None:
    from consultroom.interpreters.policies import can_manage_interpreters

    if not can_manage_interpreters(actor):
        raise NotAllowed(_("You cannot change the interpreter registry."))


def _uploader(actor: User, batch: InterpreterImportBatch) -> bool:
    from consultroom.interpreters.policies import can_use_import_batch

    return can_use_import_batch(actor, batch)


IMPORTER = ti.Importer(
    batch_model=InterpreterImportBatch,
    preview=preview_import,
    require_staff=_require_staff,
    uploader=_uploader,
    build=services.new_interpreter,  # with the weekly hours of the row
    action="interpreter.import",
    ids_key="interpreter_ids",
    taken_meanwhile=lambda: _(
        "An interpreter in the file was registered by someone else meanwhile. Upload the file again to see it."
    ),
)
save_batch = IMPORTER.save_batch
preview_batch = IMPORTER.preview_batch
confirm_batch = IMPORTER.confirm_batch
discard_batch = IMPORTER.discard_batch
apply_import = IMPORTER.apply_import
