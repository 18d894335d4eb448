"""The survey results workbook is written row by row (issue 16): its memory stays that of a batch of
rows however many answers a year holds, where a workbook kept in memory grows by about a kilobyte
per cell. The rows here come from a generator, as answer_rows reads them from the database."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date, datetime, timedelta

from openpyxl import load_workbook

from consultroom.surveys import export
from consultroom.surveys.queries import AnswerRow, Results, Scope


def _rows(count: int):
    for n in range(count):
        yield AnswerRow(
            round_title=f"2026년 {n % 10 + 3}월 수출상담회",
            consulted_on=date(2026, 3, 10) + timedelta(days=n % 280),
            company=f"벤치기업 {n}",
            buyer=f"Buyer Trading {n}",
            respondent="sme",
            version=1,
            position=n % 4 + 1,
            question="상담에 만족하셨습니까?",
            kind="scale5",
            score=n % 5 + 1,
            text="좋았습니다" if n % 3 == 0 else None,
            submitted_at=datetime(2026, 3, 11, 10, 0) + timedelta(minutes=n),
        )


def _peak(count: int) -> tuple[int, int]:
    results = Results(scope=Scope(), invited=count, answered=count, expired=0, average=None, versions=[])
    tracemalloc.start()
    try:
        out = export.results_xlsx(results, _rows(count), "ko")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with out:
        return peak, len(out.read())


def test_results_workbook_memory_does_not_grow_with_the_rows(app):
    with app.test_request_context():
        small, small_size = _peak(500)
        large, large_size = _peak(2_500)

    assert large_size > 3 * small_size  # five times the rows really were written
    # Held as cells, the 2,000 more rows took 7 MB more (measured: 2.5 MB -> 9.5 MB with 500 -> 2,500
    # rows); written through, the peak stays where it was.
    assert large - small < 2 * 1024 * 1024, f"peak {small / 2**20:.1f} MB -> {large / 2**20:.1f} MB"


def test_results_workbook_streams_typed_dates_and_numbers(app):
    with app.test_request_context():
        results = Results(scope=Scope(), invited=3, answered=2, expired=1, average=None, versions=[])
        out = export.results_xlsx(results, _rows(3), "ko")
    with out:
        wb = load_workbook(io.BytesIO(out.read()))
    summary, answers = wb.worksheets
    assert [row[1].value for row in summary.iter_rows(min_row=1, max_row=3)] == [3, 2, 1]
    first = next(answers.iter_rows(min_row=2, max_row=2))
    assert (first[1].value, first[1].number_format) == (datetime(2026, 3, 10), "yyyy-mm-dd")
    assert (first[10].value, first[10].number_format) == (datetime(2026, 3, 11, 10, 0), "yyyy-mm-dd hh:mm")
    assert [c.value for c in first[6:9]] == [1, "상담에 만족하셨습니까?", 1]
    assert answers.max_row == 4
