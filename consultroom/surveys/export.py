"""Survey result files: XLSX (numbers as numbers, dates as dates) and CSV (UTF-8 with BOM).

Both are written row by row from an iterator of answers. The XLSX is streamed into a temporary file
(consultroom.xlsx), so a year of 200,000 consultations takes the memory of a batch of rows, not of a
workbook of cell objects (about a kilobyte each). The CSV the page sends is held in memory (at most
INLINE_ANSWERS answers); the export job writes a larger one row by row into its file."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consultroom import spreadsheets
from consultroom.exports.kinds import FileKind, register
from consultroom.placeholders import shown
from consultroom.spreadsheets import Sheet
from consultroom.surveys import policies, queries
from consultroom.surveys.queries import AnswerRow, Results, Scope

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _results_sheets(results: Results, rows: Iterable[AnswerRow], locale: str) -> list[Sheet]:
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
    return [
        Sheet(_("Summary"), None, summary),
        Sheet(_("Answers"), _answer_headers(), answers, formats={1: "yyyy-mm-dd", 10: "yyyy-mm-dd hh:mm"}),
    ]


def results_xlsx(results: Results, rows: Iterable[AnswerRow], locale: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound for sending (it is deleted when closed)."""
    return spreadsheets.xlsx_file(_results_sheets(results, rows, locale))


def write_results_xlsx(results: Results, rows: Iterable[AnswerRow], locale: str, out: IO[bytes]) -> None:
    spreadsheets.write_xlsx(_results_sheets(results, rows, locale), out)


def write_answers_csv(rows: Iterable[AnswerRow], out: IO[bytes]) -> None:
    """UTF-8 with a BOM, so Excel on Korean Windows reads the Korean text correctly; each row written
    to `out` as it is read."""

    def as_text(values: Iterable[list]) -> Iterator[list]:
        last: tuple[datetime | None, str] = (None, "")
        for row in values:
            row[1] = row[1].isoformat()
            if row[10] != last[0]:  # a response's answers share their submission time
                last = (row[10], row[10].strftime("%Y-%m-%d %H:%M"))
            row[10] = last[1]
            yield row

    spreadsheets.write_csv(out, _answer_headers(), as_text(_answer_values(rows)))


def answers_csv(rows: Iterable[AnswerRow]) -> bytes:
    """As write_answers_csv, in memory: the page's file, of at most INLINE_ANSWERS answers."""
    out = io.BytesIO()
    write_answers_csv(rows, out)
    return out.getvalue()


# --- the files, as the download sends them and as the export job prepares them ----------------------


def filename(scope: Scope, ext: str) -> str:
    parts = ["survey", scope.audience]
    if scope.round_id is not None:
        parts.append(f"round{scope.round_id}")
    if scope.start:
        parts.append(scope.start.isoformat())
    if scope.end:
        parts.append(scope.end.isoformat())
    return "-".join(parts) + f".{ext}"


def csv_file(scope: Scope, locale: str) -> bytes:
    """The answers CSV of a scope, in the current locale (the caller's request or force_locale)."""
    return answers_csv(queries.answer_rows(scope, locale))


def xlsx_file(scope: Scope, locale: str, *, now: datetime) -> IO[bytes]:
    """The results workbook of a scope (summary and answers), in a temporary file."""
    return results_xlsx(queries.results(scope, now=now), queries.answer_rows(scope, locale), locale)


# A background export stores the scope and the locale it was asked in; these turn them into params
# (JSON) and back.


def params(scope: Scope, locale: str) -> dict[str, Any]:
    return {
        "scope": {
            "audience": scope.audience,
            "round_id": scope.round_id,
            "start": scope.start.isoformat() if scope.start else None,
            "end": scope.end.isoformat() if scope.end else None,
        },
        "locale": locale,
    }


def scope_of(params: dict[str, Any]) -> Scope:
    raw = params["scope"]
    return Scope(
        audience=raw["audience"],
        round_id=raw["round_id"],
        start=date.fromisoformat(raw["start"]) if raw["start"] else None,
        end=date.fromisoformat(raw["end"]) if raw["end"] else None,
    )


def _prepared_csv(params: dict[str, Any], now: datetime, out: IO[bytes]) -> None:
    with force_locale(params["locale"]):
        write_answers_csv(queries.answer_rows(scope_of(params), params["locale"]), out)


def _prepared_xlsx(params: dict[str, Any], now: datetime, out: IO[bytes]) -> None:
    scope, locale = scope_of(params), params["locale"]
    with force_locale(locale):
        write_results_xlsx(queries.results(scope, now=now), queries.answer_rows(scope, locale), locale, out)


ANSWERS_CSV = register(
    FileKind(
        name="survey_answers_csv",
        mimetype="text/csv; charset=utf-8",
        filename=lambda p: filename(scope_of(p), "csv"),
        write=_prepared_csv,
        title=_l("Survey answers (CSV)"),
        allowed=policies.can_see_results,
    )
)
RESULTS_XLSX = register(
    FileKind(
        name="survey_results_xlsx",
        mimetype=XLSX_MIMETYPE,
        filename=lambda p: filename(scope_of(p), "xlsx"),
        write=_prepared_xlsx,
        title=_l("Survey results (XLSX)"),
        allowed=policies.can_see_results,
    )
)
