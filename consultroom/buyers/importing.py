"""Buyer import from CSV and XLSX: read, preview every row, then write all or nothing.

The steps every staff import shares are in consultroom.table_import; here are the buyer's columns,
its duplicates (the same e-mail, or the same company in the same country, in the registry or earlier
in the file: reported and skipped) and what a row creates.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom import table_import as ti
from consultroom.accounts.models import User
from consultroom.buyers import services
from consultroom.buyers import validation as v
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.buyers.schemas import load_buyer
from consultroom.errors import NotAllowed
from consultroom.extensions import db
from consultroom.spreadsheets import read_table
from consultroom.table_import import (  # noqa: F401 - the API, views and tests read them here too
    BATCH_TTL,
    MAX_BYTES,
    ImportPreview,
    ParsedUpload,
    batch_expired,
)

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


def cell_text(value: Any, name: str) -> str:
    """A cell as the text a person would have typed; HS codes as Excel did not mean to change them."""
    if name == "interest_codes" and not isinstance(value, bool):
        if isinstance(value, str):
            return excel_hs_text(value.strip())
        if isinstance(value, float) and not value.is_integer():
            return excel_hs_text(f"{value:.2f}")
        if isinstance(value, int | float):
            return excel_hs_text(str(int(value)))
    return ti.cell_text(value, time_of_day=name in TIME_FIELDS)


COLUMNS = ti.Columns(
    aliases=COLUMN_ALIASES,
    required=REQUIRED_COLUMNS,
    no_headings=lambda: _("The first row must hold the column headings (e.g. company, country, email)."),
    cell=cell_text,
    time_fields=TIME_FIELDS,
)


def parse_upload(filename: str, raw_bytes: bytes) -> ParsedUpload:
    """Read a .csv or .xlsx file. Raises Invalid (field "file") for a file that cannot be imported."""
    name, table, notes = read_table(filename, raw_bytes, max_bytes=MAX_BYTES)
    return ti.rows_from_table(COLUMNS, name, table, notes)


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


class RowResult(ti.RowResult):
    @property
    def duplicate_of_buyer(self) -> int | None:
        return self.duplicate_of_record


def preview_import(
    rows: list[dict[str, Any]],
    *,
    columns: dict[str, dict[str, str]] | None = None,
    filename: str = "",
    batch_id: int | None = None,
) -> ImportPreview:
    """Check every row; mark duplicates of registered buyers and of earlier rows. Writes nothing."""
    columns = columns or {}
    results: list[RowResult] = ti.check_rows(rows, columns, load_buyer, RowResult)
    clean_results = [r for r in results if r.clean is not None]
    by_email, by_company = _registered([r.clean for r in clean_results if r.clean])
    seen_email: dict[str, int] = {}
    seen_company: dict[tuple[str, str], int] = {}
    for r in clean_results:
        clean = r.clean or {}
        email = clean["email"]
        company = (v.company_key(clean["company_name"]), clean["country"])
        if email in by_email:
            r.duplicate_of_record, r.duplicate_by = by_email[email], "email"
        elif company in by_company:
            r.duplicate_of_record, r.duplicate_by = by_company[company], "company"
        elif email in seen_email:
            r.duplicate_of_row, r.duplicate_by = seen_email[email], "email"
        elif company in seen_company:
            r.duplicate_of_row, r.duplicate_by = seen_company[company], "company"
        else:
            seen_email[email] = r.row
            seen_company[company] = r.row
    digest = ti.plan_digest(rows, columns, results, batch_id)
    return ImportPreview(
        filename=filename, columns=columns, rows=rows, results=results, digest=digest, batch_id=batch_id
    )


def _registered(cleans: list[dict[str, Any]]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Registered buyers sharing an e-mail, or a company and country, with the given rows."""
    emails = sorted({c["email"] for c in cleans})
    keys = sorted({v.company_key(c["company_name"]) for c in cleans})
    by_email: dict[str, int] = {}
    by_company: dict[tuple[str, str], int] = {}
    for chunk in ti.chunks(emails):
        for buyer_id, email in db.session.execute(select(Buyer.id, Buyer.email).where(Buyer.email.in_(chunk))):
            by_email[email] = buyer_id
    for chunk in ti.chunks(keys):
        stmt = select(Buyer.id, Buyer.company_key, Buyer.country).where(Buyer.company_key.in_(chunk))
        for buyer_id, key, country in db.session.execute(stmt):
            by_company[(key, country)] = buyer_id
    return by_email, by_company


# --- batches and writing -------------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    from consultroom.buyers.policies import can_manage_buyers

    if not can_manage_buyers(actor):
        raise NotAllowed(_("You cannot change the buyer registry."))


def _uploader(actor: User, batch: BuyerImportBatch) -> bool:
    from consultroom.buyers.policies import can_use_import_batch

    return can_use_import_batch(actor, batch)


IMPORTER = ti.Importer(
    batch_model=BuyerImportBatch,
    preview=preview_import,
    require_staff=_require_staff,
    uploader=_uploader,
    build=services.new_buyer,
    action="buyer.import",
    ids_key="buyer_ids",
    taken_meanwhile=lambda: _(
        "A buyer in the file was registered by someone else meanwhile. Upload the file again to see it."
    ),
)
save_batch = IMPORTER.save_batch
preview_batch = IMPORTER.preview_batch
confirm_batch = IMPORTER.confirm_batch
discard_batch = IMPORTER.discard_batch
apply_import = IMPORTER.apply_import
