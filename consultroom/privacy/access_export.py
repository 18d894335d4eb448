"""The access log as a file (CSV or XLSX), for the download and for the export job alike.

A filter matching up to INLINE_ROWS entries is sent while the admin waits; a longer one (a national
program's staff views add up to hundreds of thousands: 1.5 s for 100,000 rows) is prepared in the
background by the export job, from the same rows and writers, and kept for its requester."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consultroom import spreadsheets
from consultroom.exports.kinds import FileKind, register
from consultroom.privacy import access_log
from consultroom.privacy.access_log import AccessFilter
from consultroom.privacy.rights_forms import ACTION_LABELS, SUBJECT_LABELS
from consultroom.timeutil import SEOUL

# An export is one file: far more than a year of a city program's staff views, and still a sane download.
EXPORT_MAX = 100_000
# Sent at once up to this many rows (about 150 ms written); more are prepared in the background.
INLINE_ROWS = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers() -> list[str]:
    return [
        _("When (Korea time)"),
        _("Staff member"),
        _("Staff e-mail"),
        _("Kind of person"),
        _("Person's number"),
        _("Action"),
        _("What"),
        _("Channel"),
    ]


def rows(f: AccessFilter) -> Iterator[list]:
    """The filtered log, newest first, at most EXPORT_MAX rows, times in Korea time; one row at a time
    (a file of 100,000 rows is written as they are read)."""
    # Translated once per file, not once per row.
    subjects = {key: str(label) for key, label in SUBJECT_LABELS.items()}
    actions = {key: str(label) for key, label in ACTION_LABELS.items()}
    last: tuple = (None, None)  # a request's rows share their time: converted once
    for at, name, email, subject_type, subject_id, action, what, via in access_log.export_rows(f, EXPORT_MAX):
        if at != last[0]:
            last = (at, at.astimezone(SEOUL).replace(tzinfo=None))
        yield [
            last[1],
            name,
            email,
            subjects.get(subject_type, subject_type),
            subject_id,
            actions.get(action, action),
            what,
            via,
        ]


def write_csv(f: AccessFilter, out: IO[bytes]) -> None:
    text_rows = ([row[0].strftime("%Y-%m-%d %H:%M:%S"), *row[1:]] for row in rows(f))
    spreadsheets.write_csv(out, headers(), text_rows)


def write_xlsx(f: AccessFilter, out: IO[bytes]) -> None:
    spreadsheets.write_xlsx([("access-log", headers(), rows(f))], out)


# The page's files (at most INLINE_ROWS rows), sent from memory.


def csv_bytes(f: AccessFilter) -> bytes:
    out = io.BytesIO()
    write_csv(f, out)
    return out.getvalue()


def xlsx_bytes(f: AccessFilter) -> bytes:
    out = io.BytesIO()
    write_xlsx(f, out)
    return out.getvalue()


def filename(day: date, ext: str) -> str:
    return f"access-log-{day.isoformat()}.{ext}"


def params(f: AccessFilter, locale: str, day: date) -> dict[str, Any]:
    """What the job needs to write the same file later: the filter, the language, the day asked."""
    return {
        "filter": {
            "actor_id": f.actor_id,
            "subject_type": f.subject_type,
            "subject_id": f.subject_id,
            "action": f.action,
            "start": f.start.isoformat() if f.start else None,
            "end": f.end.isoformat() if f.end else None,
        },
        "locale": locale,
        "day": day.isoformat(),
    }


def filter_of(params: dict[str, Any]) -> AccessFilter:
    raw = params["filter"]
    return AccessFilter(
        actor_id=raw["actor_id"],
        subject_type=raw["subject_type"],
        subject_id=raw["subject_id"],
        action=raw["action"],
        start=date.fromisoformat(raw["start"]) if raw["start"] else None,
        end=date.fromisoformat(raw["end"]) if raw["end"] else None,
    )


def _prepared(write):
    def prepare(params: dict[str, Any], _now: datetime, out: IO[bytes]) -> None:
        with force_locale(params["locale"]):
            write(filter_of(params), out)

    return prepare


CSV_KIND = register(
    FileKind(
        name="access_log_csv",
        mimetype="text/csv; charset=utf-8",
        filename=lambda p: filename(date.fromisoformat(p["day"]), "csv"),
        write=_prepared(write_csv),
        title=_l("Access log (CSV)"),
        allowed=access_log.can_read_access_log,
    )
)
XLSX_KIND = register(
    FileKind(
        name="access_log_xlsx",
        mimetype=XLSX,
        filename=lambda p: filename(date.fromisoformat(p["day"]), "xlsx"),
        write=_prepared(write_xlsx),
        title=_l("Access log (XLSX)"),
        allowed=access_log.can_read_access_log,
    )
)
