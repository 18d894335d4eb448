"""Survey result files: XLSX (numbers as numbers, dates as dates) and CSV (UTF-8 with BOM).

Both are written row by row from an iterator of answers. The XLSX, openpyxl's write-only mode into
a temporary file, so a year of 200,000 consultations takes the memory of a batch of rows, not of a
workbook of cell objects (about a kilobyte each); the CSV holds only its own text."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from consultroom.placeholders import shown
from consultroom.surveys.queries import AnswerRow, Results


def _cell(value: str) -> str:
    # Text typed as "=HYPERLINK(...)" must stay text when the file is opened in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _respondents() -> dict[str, str]:
    # Translated once per file: a year's export has a hundred thousand rows.
    return {"sme": _("Company"), "buyer": _("Buyer")}


def _answer_headers() -> list[str]:
    return [
        _("Round"),
        _("Consultation date"),
        _("Company"),
        _("Buyer"),
        _("Respondent"),
        _("Version"),
        _("No."),
        _("Question"),
        _("Score"),
        _("Text answer"),
        _("Submitted (Seoul time)"),
    ]


def _answer_values(r: AnswerRow, respondents: dict[str, str]) -> list:
    return [
        _cell(shown(r.round_title)),
        r.consulted_on,
        _cell(r.company),
        _cell(r.buyer),
        respondents[r.respondent],
        r.version,
        r.position,
        _cell(r.question),
        r.score,
        _cell(r.text) if r.text is not None else None,
        r.submitted_at,
    ]


def results_xlsx(results: Results, rows: Iterable[AnswerRow], locale: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound for sending (it is deleted when closed)."""
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(_("Summary")[:31])
    summary.append([_("Invited"), results.invited])
    summary.append([_("Answered"), results.answered])
    summary.append([_("Expired"), results.expired])
    summary.append([_("Response rate (%)"), float(results.rate) if results.rate is not None else None])
    summary.append([_("Average satisfaction"), float(results.average) if results.average is not None else None])
    summary.append([])
    summary.append([_("Version"), _("No."), _("Question"), _("Responses"), _("Average"), "1", "2", "3", "4", "5"])
    for vr in results.versions:
        for qr in vr.questions:
            q = qr.question
            scale = q.kind == "scale5"
            summary.append(
                [
                    vr.version.number,
                    q.position,
                    _cell(q.text_in(locale)),
                    qr.count,
                    float(qr.average) if qr.average is not None else None,
                    *([qr.distribution[s] for s in range(1, 6)] if scale else [None] * 5),
                ]
            )
    sheet = wb.create_sheet(_("Answers")[:31])
    sheet.append(_answer_headers())
    respondents = _respondents()
    for r in rows:
        values = _answer_values(r, respondents)
        values[1] = _formatted(sheet, values[1], "yyyy-mm-dd")
        values[10] = _formatted(sheet, values[10], "yyyy-mm-dd hh:mm")
        sheet.append(values)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response sends it, then closes (and so deletes) it
    wb.save(out)
    out.seek(0)
    return out


def _formatted(sheet, value, number_format: str) -> WriteOnlyCell:
    # A write-only sheet keeps no cells to format afterwards: each date cell carries its format.
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def answers_csv(rows: Iterable[AnswerRow]) -> bytes:
    """UTF-8 with a BOM, so Excel on Korean Windows reads the Korean text correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(_answer_headers())
    respondents = _respondents()
    for r in rows:
        values = _answer_values(r, respondents)
        values[1] = r.consulted_on.isoformat()
        values[10] = r.submitted_at.strftime("%Y-%m-%d %H:%M")
        writer.writerow(["" if v is None else v for v in values])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
