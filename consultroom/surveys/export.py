"""Survey result files: XLSX (numbers as numbers, dates as dates) and CSV (UTF-8 with BOM).

Both are written row by row from an iterator of answers. The XLSX is streamed into a temporary file
(consultroom.xlsx), so a year of 200,000 consultations takes the memory of a batch of rows, not of a
workbook of cell objects (about a kilobyte each); the CSV holds only its own text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

from flask_babel import gettext as _

from consultroom import spreadsheets
from consultroom.placeholders import shown
from consultroom.spreadsheets import Sheet
from consultroom.surveys.queries import AnswerRow, Results


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


def _answer_values(rows: Iterable[AnswerRow]) -> Iterator[list]:
    respondents = _respondents()
    titles: dict[str, str] = {}  # a year has a dozen rounds: each title is put in the reader's language once
    for r in rows:
        title = titles.get(r.round_title)
        if title is None:
            title = titles[r.round_title] = shown(r.round_title)
        yield [
            title,
            r.consulted_on,
            r.company,
            r.buyer,
            respondents[r.respondent],
            r.version,
            r.position,
            r.question,
            r.score,
            r.text,
            r.submitted_at,
        ]


def results_xlsx(results: Results, rows: Iterable[AnswerRow], locale: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound for sending (it is deleted when closed)."""
    summary: list[list] = [
        [_("Invited"), results.invited],
        [_("Answered"), results.answered],
        [_("Expired"), results.expired],
        [_("Response rate (%)"), float(results.rate) if results.rate is not None else None],
        [_("Average satisfaction"), float(results.average) if results.average is not None else None],
        [],
        [_("Version"), _("No."), _("Question"), _("Responses"), _("Average"), "1", "2", "3", "4", "5"],
    ]
    for vr in results.versions:
        for qr in vr.questions:
            q = qr.question
            scale = q.kind == "scale5"
            summary.append(
                [
                    vr.version.number,
                    q.position,
                    q.text_in(locale),
                    qr.count,
                    float(qr.average) if qr.average is not None else None,
                    *([qr.distribution[s] for s in range(1, 6)] if scale else [None] * 5),
                ]
            )
    answers = _answer_values(rows)
    return spreadsheets.xlsx_file(
        [
            Sheet(_("Summary"), None, summary),
            Sheet(_("Answers"), _answer_headers(), answers, formats={1: "yyyy-mm-dd", 10: "yyyy-mm-dd hh:mm"}),
        ]
    )


def answers_csv(rows: Iterable[AnswerRow]) -> bytes:
    """UTF-8 with a BOM, so Excel on Korean Windows reads the Korean text correctly."""

    def as_text(values: Iterable[list]) -> Iterator[list]:
        last: tuple[datetime | None, str] = (None, "")
        for row in values:
            row[1] = row[1].isoformat()
            if row[10] != last[0]:  # a response's answers share their submission time
                last = (row[10], row[10].strftime("%Y-%m-%d %H:%M"))
            row[10] = last[1]
            yield row

    return spreadsheets.csv_bytes(_answer_headers(), as_text(_answer_values(rows)))
