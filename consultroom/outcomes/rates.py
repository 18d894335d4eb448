"""The dated KRW rate table: lookup for a day, and the CSV import with a preview.

Lookup takes the rate of the day itself or, when the bank published none (weekends, holidays), the
latest earlier one within RATE_MAX_AGE_DAYS; anything older is an error naming currency and date,
never a guess.

Import: parse_rates_csv() reads and checks every row (row, column, reason), plan_import() compares
with the table, apply_import() writes all rows or none; existing rates change only when the admin
confirms it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, tuple_

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.outcomes.models import ExchangeRate
from consultroom.outcomes.money import MoneyError, normalize_currency
from consultroom.spreadsheets import csv_text, text_rows

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
# At most 9 + 6 digits: read back exactly even where the driver passes numbers through a float (SQLite).
RATE_MAX = Decimal("1e9")
COLUMNS = ("date", "currency", "krw_per_unit")


@dataclass(frozen=True)
class Rate:
    currency: str
    day: date
    krw_per_unit: Decimal


def max_age_days() -> int:
    return int(current_app.config.get("RATE_MAX_AGE_DAYS", 7))


def rate_for(*, currency: str, day: date) -> Rate:
    """KRW per unit of `currency` for `day`: that day's rate or the latest earlier one within the limit."""
    if currency == "KRW":
        return Rate("KRW", day, Decimal(1))
    oldest = day - timedelta(days=max_age_days())
    row = db.session.scalars(
        select(ExchangeRate)
        .where(ExchangeRate.currency == currency, ExchangeRate.day <= day, ExchangeRate.day >= oldest)
        .order_by(ExchangeRate.day.desc())
        .limit(1)
    ).first()
    if row is None:
        message = _(
            "No %(currency)s rate for %(day)s or the %(n)d days before it. "
            "Add the rate on the exchange rates page first.",
            currency=currency,
            day=day.isoformat(),
            n=max_age_days(),
        )
        raise Invalid(message, fields={"signed_on": [message]})
    return Rate(row.currency, row.day, row.krw_per_unit)


def parse_rate(text: str | Decimal) -> Decimal:
    """A positive rate with at most 6 decimals (the column's scale), or MoneyError."""
    try:
        value = text if isinstance(text, Decimal) else Decimal((text or "").strip().replace(",", ""))
    except ArithmeticError:
        raise MoneyError("rate") from None
    if not value.is_finite() or value <= 0 or value >= RATE_MAX:
        raise MoneyError("rate")
    if value != value.quantize(Decimal("0.000001")):
        raise MoneyError("rate_decimals")
    return value


def rate_error(exc: MoneyError) -> str:
    if exc.code == "rate_decimals":
        return _("At most 6 decimals.")
    return _("Enter a positive number of won, e.g. 1387.25.")


def currency_error() -> str:
    return _("Not an ISO 4217 currency code (e.g. USD, JPY, EUR).")


def clean_rate_fields(*, currency: str, rate: str | Decimal) -> tuple[str, Decimal]:
    errors: dict[str, list[str]] = {}
    code = ""
    value = Decimal(0)
    try:
        code = normalize_currency(currency)
        if code == "KRW":
            errors["currency"] = [_("KRW is the base currency; it needs no rate.")]
    except MoneyError:
        errors["currency"] = [currency_error()]
    try:
        value = parse_rate(rate)
    except MoneyError as exc:
        errors["krw_per_unit"] = [rate_error(exc)]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    return code, value


# --- CSV import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int  # as a spreadsheet numbers it: the heading row is 1
    column: str
    reason: str


@dataclass
class RateImport:
    rows: list[tuple[int, Rate]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # (currency, day) -> the rate in the table now, for rows that would change it
    changes: dict[tuple[str, date], Decimal] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new_count(self) -> int:
        return len(self.rows) - len(self.changes) - self.unchanged

    def digest(self) -> str:
        """Covers the rows and what they would change, so a confirm after the table moved is refused."""
        h = hashlib.sha256()
        for _row, r in self.rows:
            h.update(f"{r.currency}|{r.day}|{r.krw_per_unit}\n".encode())
        for (cur, day), old in sorted(self.changes.items()):
            h.update(f"old {cur}|{day}|{old}\n".encode())
        return h.hexdigest()


def read_csv_text(raw: bytes) -> str:
    """The file as text (UTF-8, UTF-8 with BOM, UTF-16 or CP949), or Invalid naming the file."""
    if not raw:
        raise Invalid(_("The file is empty."), fields={"file": [_("The file is empty.")]})
    if len(raw) > MAX_BYTES:
        message = _("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024))
        raise Invalid(message, fields={"file": [message]})
    return csv_text(raw)


def parse_rates_csv(text: str) -> RateImport:
    """Every row checked; every problem named by row, column and reason."""
    result = RateImport()
    reader = text_rows(text)
    header = next((cells for _number, cells in reader), None)
    names = [(h or "").strip().lower() for h in header or []]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        message = _(
            "The first row must name the columns date, currency, krw_per_unit; missing: %(cols)s.",
            cols=", ".join(missing),
        )
        raise Invalid(message, fields={"file": [message]})
    index = {c: names.index(c) for c in COLUMNS}
    seen: dict[tuple[str, date], int] = {}
    for line_no, cells in reader:
        if not any((c or "").strip() for c in cells):
            continue
        if line_no - 1 > MAX_ROWS:
            message = _("At most %(n)d rows per file.", n=MAX_ROWS)
            raise Invalid(message, fields={"file": [message]})

        def cell(name: str, cells=cells) -> str:
            i = index[name]
            return cells[i].strip() if i < len(cells) else ""

        before = len(result.problems)
        day = None
        try:
            day = date.fromisoformat(cell("date"))
        except ValueError:
            result.problems.append(RowProblem(line_no, "date", _("Not a date in the form YYYY-MM-DD.")))
        code = ""
        try:
            code = normalize_currency(cell("currency"))
            if code == "KRW":
                message = _("KRW is the base currency; it needs no rate.")
                result.problems.append(RowProblem(line_no, "currency", message))
        except MoneyError:
            result.problems.append(RowProblem(line_no, "currency", currency_error()))
        value = None
        try:
            value = parse_rate(cell("krw_per_unit"))
        except MoneyError as exc:
            result.problems.append(RowProblem(line_no, "krw_per_unit", rate_error(exc)))
        if len(result.problems) > before or day is None or value is None:
            continue
        key = (code, day)
        if key in seen:
            result.problems.append(
                RowProblem(
                    line_no,
                    "date",
                    _("%(currency)s on %(day)s is already in row %(row)d.", currency=code, day=day, row=seen[key]),
                )
            )
            continue
        seen[key] = line_no
        result.rows.append((line_no, Rate(code, day, value)))
    if not result.rows and not result.problems:
        raise Invalid(_("The file has no rows."), fields={"file": [_("The file has no rows.")]})
    return result


def _existing(keys: list[tuple[str, date]]) -> dict[tuple[str, date], ExchangeRate]:
    found: dict[tuple[str, date], ExchangeRate] = {}
    for start in range(0, len(keys), 300):
        chunk = keys[start : start + 300]
        for row in db.session.scalars(
            select(ExchangeRate).where(tuple_(ExchangeRate.currency, ExchangeRate.day).in_(chunk))
        ):
            found[(row.currency, row.day)] = row
    return found


def plan_import(result: RateImport) -> RateImport:
    """Fill in which rows would change a rate already in the table."""
    existing = _existing([(r.currency, r.day) for _row, r in result.rows])
    result.changes = {}
    result.unchanged = 0
    for _row, r in result.rows:
        current = existing.get((r.currency, r.day))
        if current is None:
            continue
        if Decimal(current.krw_per_unit) == r.krw_per_unit:
            result.unchanged += 1
        else:
            result.changes[(r.currency, r.day)] = Decimal(current.krw_per_unit)
    return result


def apply_import(*, text: str, digest: str, update_existing: bool, actor: User) -> RateImport:
    """Write every row, or none: bad rows, a table changed since the preview, or unconfirmed updates refuse."""
    result = plan_import(parse_rates_csv(text))
    if not result.ok:
        raise Invalid(_("The file has errors; nothing was imported."))
    if result.digest() != digest:
        raise Invalid(_("The rates changed since the preview. Check the new preview and confirm again."))
    if result.changes and not update_existing:
        message = ngettext(
            "%(num)d row would change an existing rate. Tick the box to update it.",
            "%(num)d rows would change existing rates. Tick the box to update them.",
            len(result.changes),
        )
        raise Invalid(message, fields={"update_existing": [message]})
    existing = _existing([(r.currency, r.day) for _row, r in result.rows])
    for _row, r in result.rows:
        row = existing.get((r.currency, r.day))
        if row is None:
            row = ExchangeRate(currency=r.currency, day=r.day, krw_per_unit=r.krw_per_unit, updated_by_id=actor.id)
            db.session.add(row)
        elif (r.currency, r.day) in result.changes:
            row.krw_per_unit = r.krw_per_unit
            row.updated_by_id = actor.id
    db.session.flush()
    # One entry for the whole import, listing what changed; each row is on the rates page.
    record(
        actor=actor,
        action="exchange_rates.import",
        obj=_RateTable(),
        before=None,
        after={
            "rows": len(result.rows),
            "new": result.new_count,
            "updated": len(result.changes),
            "unchanged": result.unchanged,
            # "USD 2026-03-06": [before, after] for every rate the import changed
            "changes": {
                f"{r.currency} {r.day}": [f"{result.changes[(r.currency, r.day)]:.6f}", f"{r.krw_per_unit:.6f}"]
                for _row, r in result.rows
                if (r.currency, r.day) in result.changes
            },
        },
    )
    return result


class _RateTable:
    """Stands for the whole table in the audit log (an import touches many rows)."""

    __tablename__ = "exchange_rates"
    id = None
