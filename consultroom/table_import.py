"""What the staff imports from a spreadsheet share (buyers, interpreters): read, preview every row,
then write all or nothing.

1. rows_from_table() maps the headings to fields by their aliases and keeps each cell as the text a
   person would have typed. Problems with the file itself raise Invalid on the field "file".
2. Importer.save_batch() keeps the parsed rows server-side for their uploader, with a digest of them.
3. check_rows() validates every row with the registry's own schema; each issue names its row and
   column. plan_digest() covers the rows and what the preview plans for each.
4. Importer.confirm_batch() lets the uploader confirm once, while the batch is fresh and unchanged,
   and writes the new records, all or none, in the caller's transaction with one audit entry.

The domains keep what differs: their columns, their duplicate rules and what a row creates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.spreadsheets import EMPTY_ROWS_END, MAX_ROWS, file_error

if TYPE_CHECKING:
    from consultroom.accounts.models import User

MAX_BYTES = 5 * 1024 * 1024
BATCH_TTL = timedelta(hours=2)
_CHUNK = 500  # IN lists stay well below every database's parameter limit


# --- reading -------------------------------------------------------------------------------------


def heading_key(text: str) -> str:
    """A heading as compared with the aliases: case, spaces, "_-.:/" and notes such as "(필수)" ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]|\*", "", text)
    return re.sub(r"[\s_\-.:/]+", "", text)


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", as Excel names its columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Columns:
    """The columns an import reads: field -> headings accepted for it (English and Korean)."""

    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # The error for a first row without headings, with examples of this import's headings.
    no_headings: Callable[[], str]
    # A cell as the text a person would have typed in this field.
    cell: Callable[[Any, str], str]
    # Fields whose cells hold a time of day (a date-time there is no "date in a text column").
    time_fields: tuple[str, ...] = ()
    _index: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {heading_key(a): name for name, aliases in self.aliases.items() for a in aliases}

    def field_for(self, heading: str) -> str | None:
        return self._index.get(heading_key(heading))


@dataclass
class ParsedUpload:
    filename: str
    # field -> {"heading": the heading as written in the file, "letter": its column, e.g. "C"}
    columns: dict[str, dict[str, str]]
    # {"row": the row number Excel shows (the heading row is 1), "values": {field: text}}
    rows: list[dict[str, Any]]


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _map_headings(spec: Columns, header: list[Any]) -> tuple[dict[str, dict[str, str]], dict[int, str], set[int]]:
    columns: dict[str, dict[str, str]] = {}
    by_index: dict[int, str] = {}
    problems: list[str] = []
    headless: set[int] = set()
    for index, heading in enumerate(header):
        if blank(heading):
            headless.add(index)
            continue
        heading_text = " ".join(str(heading).split())
        name = spec.field_for(heading_text)
        letter = column_letter(index)
        if name is None:
            problems.append(
                _('Column %(letter)s "%(heading)s" is not a known column.', letter=letter, heading=heading_text)
            )
        elif name in columns:
            problems.append(
                _(
                    'Columns %(first)s and %(second)s both mean "%(heading)s".',
                    first=columns[name]["letter"],
                    second=letter,
                    heading=columns[name]["heading"],
                )
            )
        else:
            columns[name] = {"heading": heading_text, "letter": letter}
            by_index[index] = name
    for name in spec.required:
        if name not in columns:
            problems.append(_('The column "%(heading)s" is missing.', heading=spec.aliases[name][0]))
    if problems:
        problems.append(_("Known columns: %(names)s", names=", ".join(a[0] for a in spec.aliases.values())))
        raise file_error(*problems)
    return columns, by_index, headless


def rows_from_table(
    spec: Columns,
    filename: str,
    table: Iterable[tuple[int, list[Any]]],
    notes: dict[tuple[int, int], tuple[str, str]] | None = None,
) -> ParsedUpload:
    """`notes` (filled while `table` is read): cells whose value the file does not show plainly."""
    notes = {} if notes is None else notes
    it = iter(table)
    header: list[Any] | None = None
    for _number, values in it:
        header = values
        break
    if header is None or all(blank(h) for h in header):
        raise file_error(spec.no_headings())
    columns, by_index, headless = _map_headings(spec, header)

    rows: list[dict[str, Any]] = []
    empty_run = 0
    stray: dict[int, int] = {}  # column index without a heading -> first row with a value there
    for number, values in it:
        if all(blank(x) for x in values):
            empty_run += 1
            if empty_run >= EMPTY_ROWS_END:
                break
            continue
        empty_run = 0
        if len(rows) >= MAX_ROWS:
            raise file_error(_("The file has more than %(n)d rows. Split it and import the parts.", n=MAX_ROWS))
        row_values: dict[str, str] = dict.fromkeys(columns, "")
        warnings: list[dict[str, str]] = []
        for index, value in enumerate(values):
            name = by_index.get(index)
            if name is None:
                if not blank(value) and (index in headless or index >= len(header)):
                    stray.setdefault(index, number)
                continue
            row_values[name] = spec.cell(value, name)
            note = notes.get((number, index))
            if note is not None and blank(value):
                warnings.append({"field": name, "kind": note[0], "detail": note[1]})
            elif isinstance(value, date | datetime) and name not in spec.time_fields:
                warnings.append({"field": name, "kind": "date", "detail": row_values[name]})
        row = {"row": number, "values": row_values}
        if warnings:
            row["warnings"] = warnings
        rows.append(row)
    if stray:
        raise file_error(
            *[
                _("Column %(letter)s has values (from row %(row)d) but no heading.", letter=column_letter(i), row=r)
                for i, r in sorted(stray.items())
            ]
        )
    if not rows:
        raise file_error(_("The file has headings but no rows."))
    return ParsedUpload(filename=filename, columns=columns, rows=rows)


def cell_text(value: Any, *, time_of_day: bool = False) -> str:
    """A cell as the text a person would have typed. Excel hands over numbers, dates and times."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if time_of_day:
            return value.strftime("%H:%M")
        # Excel keeps a date as a datetime at midnight: stored as the ISO date a person typed.
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):  # a time typed in an [h]:mm cell
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, int | float):
        if time_of_day and isinstance(value, float) and 0 <= value < 1:
            minutes = round(value * 24 * 60)  # Excel keeps a time of day as a fraction of a day
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # phone numbers and other digits typed as numbers
        return str(value)
    return str(value).strip()


# --- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowIssue:
    row: int
    column: str  # field name
    heading: str  # the column as the file names it, e.g. "C (이메일)"
    message: str
    value: str = ""  # what the cell holds


def warning_message(kind: str, detail: str) -> str:
    """A reading warning in the viewer's language (stored as a kind, shown at preview time)."""
    if kind == "merged":
        return _(
            "This cell is part of a merged range whose value is only in %(first)s; it is read as empty. "
            "Unmerge the cells and fill in every row.",
            first=detail,
        )
    if kind == "formula":
        return _(
            "The formula in %(cell)s has no saved result, so it is read as empty. Open the file in Excel, "
            "save it, and upload it again.",
            cell=detail,
        )
    return _("A date in a text column; it is stored as %(value)s.", value=detail)


@dataclass
class RowResult:
    row: int
    values: dict[str, str]
    clean: dict[str, Any] | None = None
    issues: list[RowIssue] = field(default_factory=list)
    # Not errors: the row can be imported, but the file may not say what its author meant.
    warnings: list[RowIssue] = field(default_factory=list)
    duplicate_of_record: int | None = None  # the registered record the row repeats
    duplicate_of_row: int | None = None
    duplicate_by: str = ""  # the rule that found it, e.g. "email"

    @property
    def status(self) -> str:
        if self.issues:
            return "error"
        if self.duplicate_of_record is not None or self.duplicate_of_row is not None:
            return "duplicate"
        return "create"


@dataclass
class ImportPreview:
    filename: str
    columns: dict[str, dict[str, str]]
    rows: list[dict[str, Any]]
    results: list[Any]  # RowResult or a domain's subclass
    digest: str
    batch_id: int | None = None

    @property
    def errors(self) -> list[RowIssue]:
        return [issue for r in self.results for issue in r.issues]

    @property
    def warnings(self) -> list[RowIssue]:
        return [warning for r in self.results for warning in r.warnings]

    @property
    def ok(self) -> bool:
        return not any(r.issues for r in self.results)

    @property
    def to_create(self) -> list[Any]:
        return [r for r in self.results if r.status == "create"]

    @property
    def duplicates(self) -> list[Any]:
        return [r for r in self.results if r.status == "duplicate"]

    @property
    def error_rows(self) -> list[Any]:
        return [r for r in self.results if r.status == "error"]


def rows_digest(rows: list[dict[str, Any]], columns: dict[str, Any]) -> str:
    payload = json.dumps({"columns": columns, "rows": rows}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def column_heading(columns: dict[str, dict[str, str]], name: str) -> str:
    col = columns.get(name)
    return f"{col['letter']} ({col['heading']})" if col else name


def check_rows(
    rows: list[dict[str, Any]],
    columns: dict[str, dict[str, str]],
    load: Callable[[dict[str, str]], dict[str, Any]],
    result_type: type[RowResult] = RowResult,
) -> list[Any]:
    """Each row's warnings, and its clean data or its issues from `load` (raising Invalid by field)."""
    results = []
    for row in rows:
        result = result_type(row=int(row["row"]), values=dict(row["values"]))
        for w in row.get("warnings", []):
            value = str(result.values.get(w["field"], ""))
            message = warning_message(w["kind"], w["detail"])
            result.warnings.append(
                RowIssue(result.row, w["field"], column_heading(columns, w["field"]), message, value)
            )
        try:
            result.clean = load(row["values"])
        except Invalid as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    value = str(result.values.get(name, ""))
                    result.issues.append(RowIssue(result.row, name, column_heading(columns, name), message, value))
        results.append(result)
    return results


def chunks(items: list[Any]) -> Iterator[list[Any]]:
    """`items` in lists short enough for one IN (...) each: a file's rows are looked up in a few queries."""
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def plan_digest(rows: list[dict[str, Any]], columns: dict[str, Any], results: list[RowResult], batch_id) -> str:
    """The digest a confirmation must bring back: the rows, and what the preview planned for each."""
    plan = [[r.row, r.status, r.duplicate_of_record, r.duplicate_of_row] for r in results]
    return hashlib.sha256(
        json.dumps({"rows": rows_digest(rows, columns), "plan": plan, "batch": batch_id}).encode()
    ).hexdigest()


# --- batches -------------------------------------------------------------------------------------


class ImportBatchMixin:
    """An uploaded file, parsed, kept between the preview and the confirmation.

    Only its uploader may confirm it, once, while it is fresh; `digest` is the hash of `rows` taken
    when the file was read, so rows changed afterwards are noticed and nothing is written.
    Rows are cleared once the batch is applied or discarded: the registry holds the data then.
    """

    __tablename__: str

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (
            CheckConstraint("status IN ('pending', 'applied', 'discarded')", name="status_known"),
            Index(f"ix_{cls.__tablename__}_status_created", "status", "created_at"),
        )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    # field name -> the column heading as written in the file (e.g. "company_name" -> "회사명")
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    row_count: Mapped[int] = mapped_column(default=0)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    finished_at: Mapped[datetime | None]
    created_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)


def batch_expired(batch: ImportBatchMixin) -> bool:
    return batch.created_at < utcnow() - BATCH_TTL


@dataclass(frozen=True)
class Importer:
    """One registry's import: its batch table, preview and writes. The steps around them (who may
    use a batch, when it is stale or changed, the claim, the audit entry) are the same for all."""

    batch_model: type
    # (rows, columns=, filename=, batch_id=) -> ImportPreview, writing nothing
    preview: Callable[..., ImportPreview]
    # Raises NotAllowed unless the actor keeps the registry.
    require_staff: Callable[[User], None]
    # The actor is the batch's uploader (the domain's policy).
    uploader: Callable[[User, Any], bool]
    # A new record, not added, from a row's clean data.
    build: Callable[[dict[str, Any]], Any]
    action: str  # the audit entry's, e.g. "buyer.import"
    ids_key: str  # the audit entry's list of created ids, e.g. "buyer_ids"
    # The Conflict's message when a unique constraint meets a record registered meanwhile.
    taken_meanwhile: Callable[[], str]

    def save_batch(self, *, parsed: ParsedUpload, actor: User):
        """Keep a parsed file for its uploader's preview and confirmation; drop expired ones."""
        self.require_staff(actor)
        model = self.batch_model
        # Pending batches hold people's personal data; none is kept past its time to be confirmed.
        db.session.execute(delete(model).where(model.status == "pending", model.created_at < utcnow() - BATCH_TTL))
        batch = model(
            created_by_id=actor.id,
            filename=parsed.filename,
            columns=parsed.columns,
            rows=parsed.rows,
            row_count=len(parsed.rows),
            digest=rows_digest(parsed.rows, parsed.columns),
            status="pending",
        )
        db.session.add(batch)
        db.session.flush()
        return batch

    def preview_batch(self, batch) -> ImportPreview:
        return self.preview(batch.rows, columns=batch.columns, filename=batch.filename, batch_id=batch.id)

    def confirm_batch(self, *, batch, digest: str, actor: User) -> ImportPreview:
        """Import a batch as previewed: `digest` is the preview's, from the page the uploader confirmed."""
        if not self.uploader(actor, batch):
            raise NotAllowed(_("Only the person who uploaded this file can import it."))
        if batch.status != "pending":
            raise Conflict(_("This file was already imported or discarded."))
        if batch_expired(batch):
            raise Conflict(_("This preview has expired. Upload the file again."))
        if not hmac.compare_digest(rows_digest(batch.rows, batch.columns), batch.digest):
            raise Conflict(_("The stored file no longer matches what was uploaded. Upload the file again."))
        preview = self.preview_batch(batch)
        # As bytes: compare_digest refuses str with non-ASCII characters, and the digest comes from a form.
        if not hmac.compare_digest(preview.digest.encode(), (digest or "").encode()):
            raise Conflict(
                _("The file or the registry changed since your preview. Check the new preview and confirm again.")
            )
        self.apply_import(preview, actor=actor)
        return preview

    def discard_batch(self, *, batch, actor: User) -> None:
        if not self.uploader(actor, batch):
            raise NotAllowed(_("Only the person who uploaded this file can discard it."))
        if batch.status != "pending":
            raise Conflict(_("This file was already imported or discarded."))
        batch.status = "discarded"
        batch.rows = []
        batch.finished_at = utcnow()
        db.session.flush()

    def apply_import(self, preview: ImportPreview, *, actor: User):
        """Create the previewed non-duplicate rows, all or none, with one audit entry for the import.

        Flushes in the caller's transaction; the caller commits once. Raises Invalid if any row is bad.
        """
        # Here, not at the top: the models import this module for the batch mixin.
        from consultroom.audit.services import record

        self.require_staff(actor)
        if not preview.ok:
            message = _("%(n)d rows have errors; nothing was imported.", n=len(preview.error_rows))
            raise Invalid(message, fields={"file": [message]})
        batch = self._finish_batch(preview, actor=actor)
        records = [self.build(r.clean) for r in preview.to_create if r.clean is not None]
        db.session.add_all(records)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as exc:
            raise Conflict(self.taken_meanwhile()) from exc
        after = {
            "file": preview.filename,
            "rows": len(preview.rows),
            "created": len(records),
            "skipped_duplicates": len(preview.duplicates),
            self.ids_key: [r.id for r in records],
        }
        record(actor=actor, action=self.action, obj=batch, after=after)
        return batch

    def _finish_batch(self, preview: ImportPreview, *, actor: User):
        """The batch, marked applied with its counts: claimed if the preview came from one, else new."""
        model = self.batch_model
        now = utcnow()
        created, skipped = len(preview.to_create), len(preview.duplicates)
        if preview.batch_id is None:
            batch = model(
                created_by_id=actor.id,
                filename=preview.filename[:255],
                columns=preview.columns,
                rows=[],
                row_count=len(preview.rows),
                digest=rows_digest(preview.rows, preview.columns),
                status="applied",
                finished_at=now,
                created_count=created,
                skipped_count=skipped,
            )
            db.session.add(batch)
            return batch
        # Claimed first: of two confirmations at once, the second finds it taken and writes nothing.
        claimed = db.session.execute(
            update(model)
            .where(model.id == preview.batch_id, model.status == "pending")
            .values(status="applied", finished_at=now, created_count=created, skipped_count=skipped, rows=[])
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise Conflict(_("This file was already imported or discarded."))
        return db.session.get(model, preview.batch_id, populate_existing=True)
