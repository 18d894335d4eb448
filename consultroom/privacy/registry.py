"""Where personal data is stored: one registry, used by erasure and retention alike.

A person's data lives in two sorts of places:

1. **Their own rows** (COLUMNS below): the users, companies, buyers and interpreters tables and the
   free text attached to their consultations. consultroom.privacy.anonymise replaces these field by
   field, keeping what the reports count.
2. **Copies elsewhere** (COPIES below): the same values repeated where no foreign key leads, so a
   clean-up by id never reaches them: values nested anywhere inside audit entries about *any* object,
   mails to *other* people that name the person (and the delivery errors that quote addresses),
   uploads waiting for an import preview, prepared export files, and the text of erasure requests.
   scrub_copies() finds each old value in all of them and replaces it with its anonymised form (an
   export file, which cannot be searched, is deleted).

Both erasure (a request carried out) and retention (the daily job) go through
anonymise.anonymise_subject, which calls scrub_copies() with every value it replaces, so the two
cannot drift apart. The server's request log is the one copy outside the database: the gunicorn
configuration (gunicorn.conf.py) logs paths without query strings, where searches put names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select

from consultroom.audit.models import AuditEntry
from consultroom.buyers.models import BuyerImportBatch
from consultroom.exports.models import ExportFile
from consultroom.extensions import db
from consultroom.interpreters.models import InterpreterImportBatch
from consultroom.notifications.models import OutboxMail
from consultroom.privacy.models import ErasureRequest

# Values shorter than this are not searched for: they would match unrelated text everywhere.
MIN_VALUE_LENGTH = 2

# The person's own rows, per subject type: the fields anonymise replaces (documentation, and the
# erasure test checks that none of the seeded values survives in them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("name", "email", "phone", "password_hash"),
    "companies": ("representative", "contact_name", "contact_email", "contact_phone"),
    "buyers": ("contact_name", "email", "phone", "notes"),
    "interpreters": ("name", "email", "phone"),
    "interpreter_exceptions": ("note",),
    "bookings": ("products", "buyer_profile", "notes"),
    "waitlist_entries": ("products", "buyer_profile", "notes"),
    "consultation_logs": ("products_discussed", "samples_text", "next_action", "notes"),
    "outcome_changes": ("note",),
    "contracts": ("items", "withdrawal_reason"),
    "survey_answers": ("text",),
    "outbox_mails (to the person)": ("to_addr", "body_text", "body_html"),
    "login_sessions, api_tokens": ("all sessions end, every token is revoked",),
}


@dataclass(frozen=True)
class Copy:
    name: str
    description: str
    scrub: Callable[[re.Pattern[str], Mapping[str, str]], int]  # returns rows changed or removed


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    wanted = sorted({v for v in values if v and len(v.strip()) >= MIN_VALUE_LENGTH}, key=len, reverse=True)
    if not wanted:
        return None
    return re.compile("|".join(re.escape(v) for v in wanted), re.IGNORECASE)


def _replace(pattern: re.Pattern[str], replacements: Mapping[str, str], text: str) -> str:
    lowered = {k.lower(): v for k, v in replacements.items()}
    return pattern.sub(lambda m: lowered.get(m.group(0).lower(), ""), text)


def _like_terms(values: Iterable[str]) -> list[str]:
    """Each value as it may appear in stored text: as is, and as JSON writes it (non-ASCII escaped)."""
    terms: set[str] = set()
    for value in values:
        terms.add(value)
        terms.add(json.dumps(value)[1:-1])
    return sorted(terms)


def _prefilter(columns: Iterable[Any], values: Iterable[str]):
    """A SQL condition true for rows whose text may hold a value (case-insensitive; '/' escapes the
    LIKE wildcards, so backslashes of JSON escapes stay literal on both databases)."""
    conds = []
    for term in _like_terms(values):
        escaped = term.replace("/", "//").replace("%", "/%").replace("_", "/_")
        conds += [cast(column, Text).ilike(f"%{escaped}%", escape="/") for column in columns]
    return or_(*conds)


def _scrub_json(value: Any, pattern: re.Pattern[str], replacements: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _replace(pattern, replacements, value)
    if isinstance(value, list):
        return [_scrub_json(v, pattern, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, pattern, replacements) for k, v in value.items()}
    return value


def _audit_entries(pattern: re.Pattern[str], replacements: Mapping[str, str]) -> int:
    changed = 0
    stmt = select(AuditEntry).where(_prefilter([AuditEntry.before, AuditEntry.after], replacements))
    for entry in db.session.scalars(stmt):
        for attr in ("before", "after"):
            data = getattr(entry, attr)
            if data:
                new = _scrub_json(data, pattern, replacements)
                if new != data:
                    setattr(entry, attr, new)  # a new object: the JSON column notices reassignment only
                    changed += 1
    return changed


MAIL_TEXT = ("subject", "body_text", "body_html", "last_error", "to_addr")


def _mails(pattern: re.Pattern[str], replacements: Mapping[str, str]) -> int:
    changed = 0
    columns = [getattr(OutboxMail, name) for name in MAIL_TEXT]
    for mail in db.session.scalars(select(OutboxMail).where(_prefilter(columns, replacements))):
        for name in MAIL_TEXT:
            text = getattr(mail, name)
            if text:
                new = _replace(pattern, replacements, text)
                if new != text:
                    setattr(mail, name, new)
                    changed += 1
    return changed


def _pending_uploads(model: type) -> Callable[[re.Pattern[str], Mapping[str, str]], int]:
    """An upload waiting for its preview holds the file's rows; confirming it would bring the
    person back. It is dropped: the uploader sees the preview gone and uploads again."""

    def scrub(pattern: re.Pattern[str], replacements: Mapping[str, str]) -> int:
        stmt = select(model.id, model.rows).where(model.status == "pending", _prefilter([model.rows], replacements))
        ids = [
            batch_id
            for batch_id, rows in db.session.execute(stmt)
            if pattern.search(json.dumps(rows, ensure_ascii=False))
        ]
        if ids:
            db.session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
        return len(ids)

    return scrub


def _erasure_requests(pattern: re.Pattern[str], replacements: Mapping[str, str]) -> int:
    changed = 0
    stmt = select(ErasureRequest).where(_prefilter([ErasureRequest.note, ErasureRequest.response], replacements))
    for req in db.session.scalars(stmt):
        for name in ("note", "response"):
            text = getattr(req, name)
            new = _replace(pattern, replacements, text or "")
            if new != text:
                setattr(req, name, new)
                changed += 1
    return changed


def _export_files(pattern: re.Pattern[str], replacements: Mapping[str, str]) -> int:
    """Prepared exports (survey answers) name companies and buyers and hold free-text answers. An
    .xlsx is compressed, so whom a file names cannot be searched for: every file written or being
    written is deleted (its requester prepares it again, from the anonymised rows). Queued ones have
    no file yet and stay."""
    result = db.session.execute(
        delete(ExportFile)
        .where(ExportFile.status.in_(("done", "running")))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


_WAITING = "uploads waiting for their preview to be confirmed"
COPIES: tuple[Copy, ...] = (
    Copy("audit_entries", "values at any depth of before/after, of entries about any object", _audit_entries),
    Copy("outbox_mails", "mails to anyone: subject, bodies, delivery errors, addresses", _mails),
    Copy("buyer_import_batches", _WAITING, _pending_uploads(BuyerImportBatch)),
    Copy("interpreter_import_batches", _WAITING, _pending_uploads(InterpreterImportBatch)),
    Copy("export_files", "prepared export files: every stored one is deleted", _export_files),
    Copy("erasure_requests", "the words of the requests and of the answers", _erasure_requests),
)


def scrub_copies(replacements: Mapping[str, str]) -> dict[str, int]:
    """Replace each old value (key) by its new one (value) in every copy. Flushes, does not commit.
    Returns, per copy, how many rows were changed or removed."""
    replacements = {old: new for old, new in replacements.items() if old and old != new}
    pattern = _pattern(replacements)
    if pattern is None:
        return {}
    db.session.flush()  # the rows' own changes first, so the searches below see them
    return {copy.name: copy.scrub(pattern, replacements) for copy in COPIES}
