"""Buyer import from CSV and XLSX: read, preview every row, then write all or nothing.

1. parse_upload() reads the file into rows of text keyed by field name. Problems with the file itself
   (type, size, encoding, headings) raise Invalid naming them; nothing is kept.
2. save_batch() keeps the parsed rows server-side for the uploader, with a digest of them.
3. preview_import() checks every row with the same rules as the buyer form, and finds duplicates
   against the registry and within the file. Its digest covers the rows and that plan.
4. confirm_batch() / apply_import() write the non-duplicate rows in the caller's transaction, and
   only if the file has no bad row and nothing changed since the preview the uploader saw.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.buyers import services
from consultroom.buyers import validation as v
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.buyers.schemas import load_buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.spreadsheets import EMPTY_ROWS_END, MAX_ROWS, file_error, read_table

MAX_BYTES = 5 * 1024 * 1024
BATCH_TTL = timedelta(hours=2)
_CHUNK = 500  # IN lists stay well below every database's parameter limit

# Field -> headings accepted for it, compared after _heading_key() (case, spaces, "_-." and
# parenthesised notes such as "(필수)" ignored). English and Korean, as staff name their columns.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "company_name": (
        "company",
        "company name",
        "buyer",
        "buyer name",
        "회사명",
        "회사",
        "업체명",
        "기업명",
        "바이어",
        "바이어명",
        "바이어사",
    ),
    "country": ("country", "country code", "국가", "국가코드", "나라"),
    "contact_name": ("contact", "contact name", "contact person", "name", "담당자", "담당자명", "성명", "이름"),
    "email": ("email", "e-mail", "mail", "email address", "이메일", "메일", "전자우편", "이메일주소"),
    "phone": ("phone", "tel", "telephone", "phone number", "mobile", "전화", "전화번호", "연락처", "휴대폰"),
    "timezone": ("timezone", "time zone", "tz", "시간대", "타임존", "표준시간대"),
    "website": ("website", "web site", "web", "url", "homepage", "home page", "웹사이트", "홈페이지", "사이트"),
    "preferred_language": (
        "preferred_language",
        "preferred language",
        "mail language",
        "language for mails",
        "locale",
        "선호 언어",
        "선호언어",
        "안내 언어",
        "메일 언어",
    ),
    "languages": ("languages", "language", "lang", "언어", "사용언어", "사용 언어"),
    "interest_codes": (
        "hs_codes",
        "hs codes",
        "hs code",
        "hs",
        "interests",
        "interest codes",
        "관심 HS",
        "관심HS코드",
        "HS코드",
        "관심품목 HS",
    ),
    "keywords": ("keywords", "keyword", "interest keywords", "키워드", "관심 키워드", "관심품목"),
    "size": ("size", "company size", "규모", "기업규모", "기업 규모"),
    "source": ("source", "출처", "발굴경로", "발굴 경로", "경로"),
    "notes": ("notes", "note", "memo", "remarks", "비고", "메모"),
    "meet_from": (
        "meet_from",
        "meet from",
        "meeting from",
        "meeting start",
        "available from",
        "미팅 시작",
        "상담가능 시작",
        "시작시간",
    ),
    "meet_to": (
        "meet_to",
        "meet to",
        "meeting to",
        "meeting end",
        "available to",
        "미팅 종료",
        "상담가능 종료",
        "종료시간",
    ),
    "meet_days": ("meet_days", "meet days", "meeting days", "days", "미팅 요일", "상담가능 요일", "요일"),
}
REQUIRED_COLUMNS = ("company_name", "country", "email")
TIME_FIELDS = ("meet_from", "meet_to")


def _heading_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]|\*", "", text)
    return re.sub(r"[\s_\-.:/]+", "", text)


_ALIAS_INDEX = {_heading_key(alias): name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", as Excel names its columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class ParsedUpload:
    filename: str
    # field -> {"heading": the heading as written in the file, "letter": its column, e.g. "C"}
    columns: dict[str, dict[str, str]]
    # {"row": the row number Excel shows (the heading row is 1), "values": {field: text}}
    rows: list[dict[str, Any]]


def parse_upload(filename: str, raw_bytes: bytes) -> ParsedUpload:
    """Read a .csv or .xlsx file. Raises Invalid (field "file") for a file that cannot be imported."""
    name, table, notes = read_table(filename, raw_bytes, max_bytes=MAX_BYTES)
    return _rows_from_table(name, table, notes)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows_from_table(
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
    if header is None or all(_blank(h) for h in header):
        raise file_error(_("The first row must hold the column headings (e.g. company, country, email)."))

    columns: dict[str, dict[str, str]] = {}
    by_index: dict[int, str] = {}
    problems: list[str] = []
    headless: set[int] = set()
    for index, heading in enumerate(header):
        if _blank(heading):
            headless.add(index)
            continue
        heading_text = " ".join(str(heading).split())
        name = _ALIAS_INDEX.get(_heading_key(heading_text))
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
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(_('The column "%(heading)s" is missing.', heading=COLUMN_ALIASES[name][0]))
    if problems:
        problems.append(_("Known columns: %(names)s", names=", ".join(a[0] for a in COLUMN_ALIASES.values())))
        raise file_error(*problems)

    rows: list[dict[str, Any]] = []
    empty_run = 0
    stray: dict[int, int] = {}  # column index without a heading -> first row with a value there
    for number, values in it:
        if all(_blank(x) for x in values):
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
                if not _blank(value) and (index in headless or index >= len(header)):
                    stray.setdefault(index, number)
                continue
            row_values[name] = cell_text(value, name)
            note = notes.get((number, index))
            if note is not None and _blank(value):
                warnings.append({"field": name, "kind": note[0], "detail": note[1]})
            elif isinstance(value, date | datetime) and name not in TIME_FIELDS:
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


def cell_text(value: Any, name: str) -> str:
    """A cell as the text a person would have typed. Excel hands over numbers, dates and times."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        return excel_hs_text(text) if name == "interest_codes" else text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if name in TIME_FIELDS:
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
        if name in TIME_FIELDS and isinstance(value, float) and 0 <= value < 1:
            minutes = round(value * 24 * 60)  # Excel keeps a time of day as a fraction of a day
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        if name == "interest_codes":
            if isinstance(value, float) and not value.is_integer():
                return excel_hs_text(f"{value:.2f}")
            return excel_hs_text(str(int(value)))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # phone numbers and other digits typed as numbers
        return str(value)
    return str(value).strip()


def excel_hs_text(text: str) -> str:
    """Undo what Excel does to HS codes stored as numbers: 10121 was 010121, 3304.1 was 3304.10.

    HS codes always have an even number of digits, and Excel drops a leading zero (chapters 01-09)
    and a trailing zero after the decimal point. Other text is left for the validator to judge.
    """
    parts = []
    for code in re.split(r"([,;\s]+)", text):
        match = re.fullmatch(r"(\d{1,4})\.(\d{1,2})", code)
        if match:
            left, right = match.groups()
            # 3304.99 / 302.1 are subheadings (0302.10); 33.04 / 3.1 are headings (0301.0 -> 0310).
            code = (left.zfill(4) if len(left) > 2 else left.zfill(2)) + right.ljust(2, "0")
        elif re.fullmatch(r"\d|\d{3}|\d{5}", code):
            code = "0" + code
        parts.append(code)
    return "".join(parts)


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
    duplicate_of_buyer: int | None = None
    duplicate_of_row: int | None = None
    duplicate_by: str = ""  # "email" or "company"

    @property
    def status(self) -> str:
        if self.issues:
            return "error"
        if self.duplicate_of_buyer is not None or self.duplicate_of_row is not None:
            return "duplicate"
        return "create"


@dataclass
class ImportPreview:
    filename: str
    columns: dict[str, dict[str, str]]
    rows: list[dict[str, Any]]
    results: list[RowResult]
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
    def to_create(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "create"]

    @property
    def duplicates(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "duplicate"]

    @property
    def error_rows(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "error"]


def rows_digest(rows: list[dict[str, Any]], columns: dict[str, Any]) -> str:
    payload = json.dumps({"columns": columns, "rows": rows}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _heading(columns: dict[str, dict[str, str]], name: str) -> str:
    col = columns.get(name)
    return f"{col['letter']} ({col['heading']})" if col else name


def preview_import(
    rows: list[dict[str, Any]],
    *,
    columns: dict[str, dict[str, str]] | None = None,
    filename: str = "",
    batch_id: int | None = None,
) -> ImportPreview:
    """Check every row; mark duplicates of registered buyers and of earlier rows. Writes nothing."""
    columns = columns or {}
    results: list[RowResult] = []
    for row in rows:
        result = RowResult(row=int(row["row"]), values=dict(row["values"]))
        for w in row.get("warnings", []):
            value = str(result.values.get(w["field"], ""))
            message = warning_message(w["kind"], w["detail"])
            result.warnings.append(RowIssue(result.row, w["field"], _heading(columns, w["field"]), message, value))
        try:
            result.clean = load_buyer(row["values"])
        except Invalid as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    value = str(result.values.get(name, ""))
                    result.issues.append(RowIssue(result.row, name, _heading(columns, name), message, value))
        results.append(result)

    clean_results = [r for r in results if r.clean is not None]
    by_email, by_company = _registered([r.clean for r in clean_results if r.clean])
    seen_email: dict[str, int] = {}
    seen_company: dict[tuple[str, str], int] = {}
    for r in clean_results:
        clean = r.clean or {}
        email = clean["email"]
        company = (v.company_key(clean["company_name"]), clean["country"])
        if email in by_email:
            r.duplicate_of_buyer, r.duplicate_by = by_email[email], "email"
        elif company in by_company:
            r.duplicate_of_buyer, r.duplicate_by = by_company[company], "company"
        elif email in seen_email:
            r.duplicate_of_row, r.duplicate_by = seen_email[email], "email"
        elif company in seen_company:
            r.duplicate_of_row, r.duplicate_by = seen_company[company], "company"
        else:
            seen_email[email] = r.row
            seen_company[company] = r.row

    plan = [[r.row, r.status, r.duplicate_of_buyer, r.duplicate_of_row] for r in results]
    digest = hashlib.sha256(
        json.dumps({"rows": rows_digest(rows, columns), "plan": plan, "batch": batch_id}).encode()
    ).hexdigest()
    return ImportPreview(
        filename=filename, columns=columns, rows=rows, results=results, digest=digest, batch_id=batch_id
    )


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _registered(cleans: list[dict[str, Any]]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Registered buyers sharing an e-mail, or a company and country, with the given rows."""
    emails = sorted({c["email"] for c in cleans})
    keys = sorted({v.company_key(c["company_name"]) for c in cleans})
    by_email: dict[str, int] = {}
    by_company: dict[tuple[str, str], int] = {}
    for chunk in _chunks(emails):
        for buyer_id, email in db.session.execute(select(Buyer.id, Buyer.email).where(Buyer.email.in_(chunk))):
            by_email[email] = buyer_id
    for chunk in _chunks(keys):
        stmt = select(Buyer.id, Buyer.company_key, Buyer.country).where(Buyer.company_key.in_(chunk))
        for buyer_id, key, country in db.session.execute(stmt):
            by_company[(key, country)] = buyer_id
    return by_email, by_company


# --- batches and writing -------------------------------------------------------------------------


def save_batch(*, parsed: ParsedUpload, actor: User) -> BuyerImportBatch:
    """Keep a parsed file for its uploader's preview and confirmation; drop expired ones."""
    from consultroom.buyers.policies import can_manage_buyers

    if not can_manage_buyers(actor):
        raise NotAllowed(_("You cannot change the buyer registry."))
    # Pending batches hold buyers' personal data; none is kept past its time to be confirmed.
    db.session.execute(
        delete(BuyerImportBatch).where(
            BuyerImportBatch.status == "pending", BuyerImportBatch.created_at < utcnow() - BATCH_TTL
        )
    )
    batch = BuyerImportBatch(
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


def batch_expired(batch: BuyerImportBatch) -> bool:
    return batch.created_at < utcnow() - BATCH_TTL


def preview_batch(batch: BuyerImportBatch) -> ImportPreview:
    return preview_import(batch.rows, columns=batch.columns, filename=batch.filename, batch_id=batch.id)


def _check_batch_usable(batch: BuyerImportBatch, actor: User) -> None:
    from consultroom.buyers.policies import can_use_import_batch

    if not can_use_import_batch(actor, batch):
        raise NotAllowed(_("Only the person who uploaded this file can import it."))
    if batch.status != "pending":
        raise Conflict(_("This file was already imported or discarded."))
    if batch_expired(batch):
        raise Conflict(_("This preview has expired. Upload the file again."))
    if not hmac.compare_digest(rows_digest(batch.rows, batch.columns), batch.digest):
        raise Conflict(_("The stored file no longer matches what was uploaded. Upload the file again."))


def confirm_batch(*, batch: BuyerImportBatch, digest: str, actor: User) -> ImportPreview:
    """Import a batch as previewed: `digest` is the preview's, from the page the uploader confirmed."""
    _check_batch_usable(batch, actor)
    preview = preview_batch(batch)
    # As bytes: compare_digest refuses str with non-ASCII characters, and the digest comes from a form.
    if not hmac.compare_digest(preview.digest.encode(), (digest or "").encode()):
        raise Conflict(
            _("The file or the registry changed since your preview. Check the new preview and confirm again.")
        )
    apply_import(preview, actor=actor)
    return preview


def discard_batch(*, batch: BuyerImportBatch, actor: User) -> None:
    from consultroom.buyers.policies import can_use_import_batch

    if not can_use_import_batch(actor, batch):
        raise NotAllowed(_("Only the person who uploaded this file can discard it."))
    if batch.status != "pending":
        raise Conflict(_("This file was already imported or discarded."))
    batch.status = "discarded"
    batch.rows = []
    batch.finished_at = utcnow()
    db.session.flush()


def apply_import(preview: ImportPreview, *, actor: User) -> BuyerImportBatch:
    """Create the previewed non-duplicate rows, all or none, with one audit entry for the import.

    Flushes in the caller's transaction; the caller commits once. Raises Invalid if any row is bad.
    """
    from consultroom.buyers.policies import can_manage_buyers

    if not can_manage_buyers(actor):
        raise NotAllowed(_("You cannot change the buyer registry."))
    if not preview.ok:
        raise Invalid(
            _("%(n)d rows have errors; nothing was imported.", n=len(preview.error_rows)),
            fields={"file": [_("%(n)d rows have errors; nothing was imported.", n=len(preview.error_rows))]},
        )
    now = utcnow()
    created = preview.to_create
    skipped = len(preview.duplicates)
    if preview.batch_id is not None:
        # Claim the batch first: of two confirmations at once, the second finds it taken and writes nothing.
        claimed = db.session.execute(
            update(BuyerImportBatch)
            .where(BuyerImportBatch.id == preview.batch_id, BuyerImportBatch.status == "pending")
            .values(status="applied", finished_at=now, created_count=len(created), skipped_count=skipped, rows=[])
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise Conflict(_("This file was already imported or discarded."))
        batch = db.session.get(BuyerImportBatch, preview.batch_id, populate_existing=True)
    else:
        batch = BuyerImportBatch(
            created_by_id=actor.id,
            filename=preview.filename[:255],
            columns=preview.columns,
            rows=[],
            row_count=len(preview.rows),
            digest=rows_digest(preview.rows, preview.columns),
            status="applied",
            finished_at=now,
            created_count=len(created),
            skipped_count=skipped,
        )
        db.session.add(batch)
    buyers = [services.new_buyer(r.clean) for r in created if r.clean is not None]
    db.session.add_all(buyers)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            _("A buyer in the file was registered by someone else meanwhile. Upload the file again to see it.")
        ) from exc
    record(
        actor=actor,
        action="buyer.import",
        obj=batch,
        after={
            "file": preview.filename,
            "rows": len(preview.rows),
            "created": len(buyers),
            "skipped_duplicates": skipped,
            "buyer_ids": [b.id for b in buyers],
        },
    )
    return batch
