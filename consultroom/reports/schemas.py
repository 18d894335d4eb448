"""The program report as the API shows it, and the query that chooses its period.

Money is whole won (integers); averages and percentages are strings, exact."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validates_schema

from consultroom.reports.figures import MAX_YEAR, MIN_YEAR
from consultroom.reports.targets import WHOLE_METRICS
from consultroom.schemas import DECIMAL_TEXT, ID_MAX, InSchema, OutSchema, UtcDateTime

_COUNT = {"minimum": 0}
_NULLABLE_DECIMAL = {**DECIMAL_TEXT, "type": ["string", "null"]}
BREAKDOWNS = ("month", "country", "industry", "language")
METRICS = ["consultations", "contracts", "contract_value_krw", "smes", "satisfaction"]


class DecimalText(fields.Field):
    """An exact decimal as text, null when there is none (no answers yet, no target)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class ReportFiguresSchema(OutSchema):
    held = fields.Integer(metadata=_COUNT)
    no_shows = fields.Integer(metadata=_COUNT)
    smes = fields.Integer(metadata={**_COUNT, "description": "Distinct companies with a held consultation."})
    contracted = fields.Integer(metadata={**_COUNT, "description": "Held consultations with a contract."})
    contracts = fields.Integer(metadata=_COUNT)
    krw = fields.Integer(metadata={**_COUNT, "description": "The contracts' value in whole won."})
    satisfaction = DecimalText(metadata={**_NULLABLE_DECIMAL, "description": "Average SME satisfaction (1-5) to 0.01."})
    conversion = DecimalText(
        metadata={**_NULLABLE_DECIMAL, "description": "Consultations with a contract per held one, in %."}
    )


class ReportGroupSchema(OutSchema):
    inline = True
    key = fields.String(metadata={"description": "Empty when not known."})
    figures = fields.Nested(ReportFiguresSchema)


class ReportBreakdownsSchema(OutSchema):
    inline = True
    month = fields.List(fields.Nested(ReportGroupSchema))
    country = fields.List(fields.Nested(ReportGroupSchema))
    industry = fields.List(fields.Nested(ReportGroupSchema))
    language = fields.List(fields.Nested(ReportGroupSchema))


_TARGET_VALUE = {
    "anyOf": [{"type": "integer"}, DECIMAL_TEXT, {"type": "null"}],
    "description": "Counts and won as integers, the satisfaction score as a string.",
}


def _whole_or_text(metric: str, value: Any) -> int | str | None:
    if value is None:
        return None
    return int(value) if metric in WHOLE_METRICS else str(value)


class ReportTargetSchema(OutSchema):
    inline = True
    metric = fields.String(metadata={"enum": METRICS})
    target = fields.Function(lambda line: _whole_or_text(line.metric, line.target), metadata=_TARGET_VALUE)
    result = fields.Function(lambda line: _whole_or_text(line.metric, line.result), metadata=_TARGET_VALUE)
    achievement = DecimalText(metadata={**_NULLABLE_DECIMAL, "description": "result / target in %."})
    published = fields.Boolean()
    published_at = UtcDateTime(allow_none=True)


class ProgramReportSchema(OutSchema):
    """Dumps report_row(): the report, its scorecard lines and the year chosen (if one)."""

    start = fields.Date(attribute="report.start")
    end = fields.Date(attribute="report.end")
    round_id = fields.Integer(attribute="report.round_id", allow_none=True)
    year = fields.Integer(allow_none=True)
    rounds_held = fields.Integer(attribute="report.rounds_held", metadata=_COUNT)
    total = fields.Nested(ReportFiguresSchema, attribute="report.total")
    breakdowns = fields.Nested(ReportBreakdownsSchema)
    targets = fields.List(
        fields.Nested(ReportTargetSchema),
        attribute="lines",
        metadata={"description": "Compared only for a calendar year (?year=); otherwise every target is null."},
    )


def report_row(report: Any, lines: list[Any], *, year: int | None) -> dict[str, Any]:
    return {"report": report, "lines": lines, "year": year, "breakdowns": dict(report.breakdowns())}


class ReportArgs(InSchema):
    """The report page's own ?year=, ?start=&end= or ?round_id= (reports.selection reads them); here
    only that numbers are plain ASCII digits, so "²" or "٣" is named before the page's rules see it."""

    year = fields.String(
        metadata={"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR, "description": "A calendar year."}
    )
    start = fields.String(metadata={"format": "date", "description": "First day (with end)."})
    end = fields.String(metadata={"format": "date", "description": "Last day (with start)."})
    round_id = fields.String(metadata={"type": "integer", "minimum": 1, "maximum": ID_MAX, "description": "One round."})

    @validates_schema
    def _ascii_numbers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for name, low, high in (("round_id", 1, ID_MAX), ("year", MIN_YEAR, MAX_YEAR)):
            if not data.get(name, "").isascii():
                raise ValidationError(_("Use a whole number from %(low)d to %(high)d.", low=low, high=high), name)
