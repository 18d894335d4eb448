"""Glue between DomainError and WTForms: field errors go beside their fields; the forms every
staff import from a spreadsheet shows (upload, discard)."""

from __future__ import annotations

from datetime import date

from flask import flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from consultroom.errors import DomainError
from consultroom.spreadsheets import MAX_ROWS
from consultroom.table_import import MAX_BYTES


def apply_domain_error(form: FlaskForm, exc: DomainError) -> None:
    placed = False
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors), *messages]
            placed = True
    if not placed:
        flash(exc.message, "danger")


def iso_day(raw: str) -> date:
    """A day written YYYY-MM-DD exactly; ValueError otherwise. fromisoformat alone also takes
    "20260306" and week dates, which a form or query field should not."""
    if len(raw) != 10:
        raise ValueError(raw)
    return date.fromisoformat(raw)


def small_int(raw: str | None, max_digits: int = 9) -> int | None:
    """A whole number typed or sent as text, or None. Only ASCII digits: str.isdigit() also holds
    for "²" or "٣", which int() refuses or reads unexpectedly, and a long string overflows the
    32-bit id columns."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdecimal() and len(raw) <= max_digits:
        return int(raw)
    return None


def confirmed() -> bool:
    """Whether a destructive or mass action was confirmed (the `confirm` box of
    templates/_macros/confirm.html); if not, says so in a flash and the caller does nothing."""
    if request.form.get("confirm") == "1":
        return True
    flash(_("Nothing was done: tick the box to confirm, after reading what will happen."), "danger")
    return False


class ImportForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        description=_l(
            "CSV (UTF-8 or Excel's Korean CSV) or Excel .xlsx, at most %(mb)d MB and %(rows)d rows",
            mb=MAX_BYTES // (1024 * 1024),
            rows=MAX_ROWS,
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


class DiscardImportForm(FlaskForm):
    submit = SubmitField(_l("Discard"))
