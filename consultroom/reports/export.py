"""Report files: XLSX (numbers as numbers, dates as dates, won with a number format) and CSV
(UTF-8 with a BOM so Excel on Korean Windows reads it; formula-looking text kept as text)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from consultroom.reports.figures import Group, Report
from consultroom.reports.phrases import breakdown_title, group_label, metric_label
from consultroom.reports.targets import ScoreLine
from consultroom.spreadsheets import csv_bytes, guard

KRW_FORMAT = '#,##0 "원"'
PERCENT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"
BOLD = Font(bold=True)


def _num(value: int | Decimal | None) -> int | float | None:
    """Ints stay ints (exact won); Decimals become numbers for the spreadsheet, None stays empty."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _ratio(per_cent: Decimal | None) -> float | None:
    return None if per_cent is None else float(per_cent / 100)


def _group_headers(kind: str) -> list[str]:
    return [
        {"month": _("Month"), "country": _("Buyer country"), "industry": _("HS section"), "language": _("Language")}[
            kind
        ],
        _("Consultations held"),
        _("No-shows"),
        _("Participating SMEs"),
        _("Consultations with a contract"),
        _("Contracts"),
        _("Contract value (KRW)"),
        _("Conversion rate"),
        _("Average satisfaction (1-5)"),
    ]


def _figures(g: Group) -> list:
    f = g.figures
    return [f.held, f.no_shows, f.smes, f.contracted, f.contracts, f.krw, _ratio(f.conversion), _num(f.satisfaction)]


def report_xlsx(report: Report, lines: list[ScoreLine], locale: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    ws.append([_("Program report")])
    ws["A1"].font = BOLD
    ws.append([pgettext("period", "From"), report.start])
    ws.append([_("Until"), report.end])
    for row in (2, 3):
        ws.cell(row=row, column=2).number_format = DATE_FORMAT
    ws.append([])
    ws.append([_("Metric"), _("Target"), _("Result"), _("Achievement")])
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    for line in lines:
        ws.append([metric_label(line.metric), _num(line.target), _num(line.result), _ratio(line.achievement)])
        r = ws.max_row
        fmt = {"contract_value_krw": KRW_FORMAT, "satisfaction": SCORE_FORMAT}.get(line.metric, "#,##0")
        ws.cell(row=r, column=2).number_format = fmt
        ws.cell(row=r, column=3).number_format = fmt
        ws.cell(row=r, column=4).number_format = PERCENT_FORMAT
    ws.append([])
    t = report.total
    for label, value, fmt in (
        (_("Rounds held"), report.rounds_held, "#,##0"),
        (_("No-shows"), t.no_shows, "#,##0"),
        (_("Contracts"), t.contracts, "#,##0"),
        (_("Conversion rate"), _ratio(t.conversion), PERCENT_FORMAT),
    ):
        ws.append([label, None, value])
        ws.cell(row=ws.max_row, column=3).number_format = fmt
    ws.column_dimensions["A"].width = 34
    for col in "BCD":
        ws.column_dimensions[col].width = 20
    for kind, groups in report.breakdowns():
        sheet = wb.create_sheet(breakdown_title(kind)[:31])
        sheet.append(_group_headers(kind))
        for cell in sheet[1]:
            cell.font = BOLD
        for g in groups:
            if kind == "month":
                year, month = (int(p) for p in g.key.split("-"))
                first: object = date(year, month, 1)
            else:
                first = guard(group_label(kind, g.key, locale))
            sheet.append([first, *_figures(g)])
            r = sheet.max_row
            if kind == "month":
                sheet.cell(row=r, column=1).number_format = MONTH_FORMAT
            sheet.cell(row=r, column=7).number_format = KRW_FORMAT
            sheet.cell(row=r, column=8).number_format = PERCENT_FORMAT
            sheet.cell(row=r, column=9).number_format = SCORE_FORMAT
        sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_csv(report: Report, lines: list[ScoreLine], locale: str) -> bytes:
    """The summary (metric, target, result, achievement %), a blank line, then every breakdown row
    under one header: [breakdown, group, figures...]. Plain numbers, no thousands separators."""
    rows: list[list] = []  # written once, by the one CSV writer (formula guard, BOM)

    def s(v) -> str:
        return "" if v is None else str(v)

    for line in lines:
        rows.append([metric_label(line.metric), s(line.target), s(line.result), s(line.achievement)])
    rows.append([_("Rounds held"), "", report.rounds_held, ""])
    rows.append([])
    rows.append(
        [
            _("Breakdown"),
            _("Group"),
            _("Consultations held"),
            _("No-shows"),
            _("Participating SMEs"),
            _("Consultations with a contract"),
            _("Contracts"),
            _("Contract value (KRW)"),
            _("Conversion rate (%)"),
            _("Average satisfaction (1-5)"),
        ]
    )
    t = report.total
    rows.append(
        [
            _("Total"),
            "",
            t.held,
            t.no_shows,
            t.smes,
            t.contracted,
            t.contracts,
            t.krw,
            s(t.conversion),
            s(t.satisfaction),
        ]
    )
    for kind, groups in report.breakdowns():
        for g in groups:
            f = g.figures
            label = g.key if kind == "month" else group_label(kind, g.key, locale)
            rows.append(
                [
                    guard(breakdown_title(kind)),
                    guard(label),
                    f.held,
                    f.no_shows,
                    f.smes,
                    f.contracted,
                    f.contracts,
                    f.krw,
                    s(f.conversion),
                    s(f.satisfaction),
                ]
            )
    return csv_bytes([_("Metric"), _("Target"), _("Result"), _("Achievement (%)")], rows)
