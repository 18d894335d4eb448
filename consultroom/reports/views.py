"""Staff report page and downloads, the admins' targets page, and the public target disclosure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.forms_util import apply_domain_error, small_int
from consultroom.reports import charts, export, policies, services
from consultroom.reports.forms import TargetsForm
from consultroom.reports.models import METRICS
from consultroom.rounds.models import Round
from consultroom.timeutil import seoul_date

bp = Blueprint("reports", __name__)

MAX_SPAN_DAYS = 366 * 10


@dataclass(frozen=True)
class Selection:
    start: date
    end: date
    round: Round | None = None
    year: int | None = None

    @property
    def round_id(self) -> int | None:
        return self.round.id if self.round is not None else None

    def args(self) -> dict[str, str]:
        if self.round is not None:
            return {"round_id": str(self.round.id)}
        if self.year is not None:
            return {"year": str(self.year)}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def filename(self, ext: str) -> str:
        if self.round is not None:
            part = f"round{self.round.id}"
        elif self.year is not None:
            part = str(self.year)
        else:
            part = f"{self.start.isoformat()}-{self.end.isoformat()}"
        return f"program-report-{part}.{ext}"


def _locale() -> str:
    return str(get_locale() or "ko")


def _this_year() -> int:
    return seoul_date(utcnow()).year


def _year(raw: str) -> int | None:
    raw = raw.strip()[:6]
    year = small_int(raw, max_digits=4)
    if year is not None and services.MIN_YEAR <= year <= services.MAX_YEAR:
        return year
    return None


def _selection(default_year: int | None = None) -> tuple[Selection | None, dict[str, str]]:
    """One of ?round_id=, ?start=&end= or ?year= (`default_year`, else the current year, when none)."""
    args = request.args
    errors: dict[str, str] = {}
    raw_round = args.get("round_id", "").strip()[:12]
    if raw_round:
        round_id = small_int(raw_round)
        rnd = db.session.get(Round, round_id) if round_id is not None else None
        if rnd is None:
            errors["round_id"] = _("Choose a round from the list.")
            return None, errors
        return Selection(start=rnd.day, end=rnd.day, round=rnd), errors
    if args.get("start", "").strip() or args.get("end", "").strip():
        dates: dict[str, date | None] = {}
        for name in ("start", "end"):
            raw = args.get(name, "")[:20].strip()
            dates[name] = None
            if not raw:
                errors[name] = _("Give both dates.")
                continue
            try:
                dates[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = _("Give the date as YYYY-MM-DD.")
        start, end = dates["start"], dates["end"]
        if start and end:
            if start > end:
                errors["end"] = _("The end date is before the start date.")
            elif (end - start).days > MAX_SPAN_DAYS:
                errors["end"] = _("Choose at most ten years.")
        if errors or start is None or end is None:
            return None, errors
        return Selection(start=start, end=end), errors
    raw_year = args.get("year", "")
    year = _year(raw_year) if raw_year.strip() else (default_year or _this_year())
    if year is None:
        errors["year"] = _("Choose a year from %(lo)d to %(hi)d.", lo=services.MIN_YEAR, hi=services.MAX_YEAR)
        return None, errors
    start, end = services.year_period(year)
    return Selection(start=start, end=end, year=year), errors


def _compute(sel: Selection) -> tuple[services.Report, list[services.ScoreLine]]:
    report = services.program_report(start=sel.start, end=sel.end, round_id=sel.round_id)
    # Targets are yearly: they are compared only with a whole calendar year's results.
    targets = services.targets_for(sel.year) if report.is_calendar_year and sel.year else {}
    return report, services.scorecard(report, targets)


def _charts(report: services.Report, locale: str, *, prefix: str = "chart") -> dict[str, object]:
    consultations, contracts = _("Consultations held"), _("Consultations with a contract")
    months = report.by_month
    out: dict[str, object] = {
        "month": charts.column_chart(
            chart_id=f"{prefix}-month",
            title=_("Consultations and contracts by month"),
            desc=_(
                "Bars per month (Seoul time) of consultations held and of consultations with a contract; "
                "the table below gives the same figures."
            ),
            labels=[g.key for g in months],
            series=[
                charts.Series(consultations, [g.figures.held for g in months]),
                charts.Series(contracts, [g.figures.contracted for g in months]),
            ],
        )
    }
    countries = report.by_country
    if countries:
        out["country"] = charts.bar_chart(
            chart_id=f"{prefix}-country",
            title=_("Consultations and contracts by buyer country"),
            desc=_(
                "Bars per buyer country of consultations held and of consultations with a contract; "
                "the table below gives the same figures."
            ),
            labels=[services.group_label("country", g.key, locale) for g in countries],
            series=[
                charts.Series(consultations, [g.figures.held for g in countries]),
                charts.Series(contracts, [g.figures.contracted for g in countries]),
            ],
        )
    return out


def _staff_charts(report: services.Report, last: services.Report | None, locale: str) -> dict[str, object]:
    """The staff report's charts: the public page's, by HS section, the funnel, and the year beside
    the one before it."""
    out = _charts(report, locale)
    consultations, contracts = _("Consultations held"), _("Consultations with a contract")
    sections = report.by_industry
    if sections:
        out["industry"] = charts.bar_chart(
            chart_id="chart-industry",
            title=_("Consultations and contracts by HS section"),
            desc=_(
                "Bars per HS section of the company's first HS code, of consultations held and of "
                "consultations with a contract; the table below gives the same figures."
            ),
            labels=[services.group_label("industry", g.key, locale) for g in sections],
            series=[
                charts.Series(consultations, [g.figures.held for g in sections]),
                charts.Series(contracts, [g.figures.contracted for g in sections]),
            ],
        )
    t = report.total
    out["funnel"] = charts.bar_chart(
        chart_id="chart-funnel",
        title=_("From booked to held to contracted"),
        desc=_(
            "%(booked)d consultations booked (not cancelled), %(held)d held, %(contracted)d with a contract; "
            "the table below gives the same figures.",
            booked=report.booked,
            held=t.held,
            contracted=t.contracted,
        ),
        labels=[_("Booked"), _("Held"), _("With a contract")],
        series=[charts.Series(_("Consultations"), [report.booked, t.held, t.contracted])],
    )
    if last is not None:
        this_year, last_year = str(report.start.year), str(last.start.year)
        out["compare"] = charts.column_chart(
            chart_id="chart-compare",
            title=_("Consultations held by month: %(year)s beside %(last)s", year=this_year, last=last_year),
            desc=_(
                "Bars per month of the consultations held in %(last)s and in %(year)s; "
                "the table below gives the same figures.",
                year=this_year,
                last=last_year,
            ),
            labels=[g.key[5:] for g in report.by_month],
            series=[
                charts.Series(last_year, [g.figures.held for g in last.by_month]),
                charts.Series(this_year, [g.figures.held for g in report.by_month]),
            ],
        )
    return out


# --- staff report ------------------------------------------------------------------------------------


@bp.get("/staff/reports")
@login_required
def report():
    authorize(policies.can_see_reports(current_user))
    # Without a choice the page opens on the latest year with consultations, not an empty year.
    chosen = any(request.args.get(k, "").strip() for k in ("year", "round_id", "start", "end"))
    sel, errors = _selection(None if chosen else services.latest_year_with_data())
    data = lines = chart_svgs = last = None
    locale = _locale()
    if sel is not None:
        data, lines = _compute(sel)
        if data.is_calendar_year and sel.year and sel.year > services.MIN_YEAR:
            start, end = services.year_period(sel.year - 1)
            last = services.program_report(start=start, end=end, months_only=True)
        chart_svgs = _staff_charts(data, last, locale)
    return (
        render_template(
            "reports/report.html",
            sel=sel,
            report=data,
            last=last,
            lines=lines,
            charts=chart_svgs,
            errors=errors,
            args=request.args,
            years=services.recorded_years() or [_this_year()],
            this_year=_this_year(),
            rounds=services.rounds_for_filter(),
            locale=locale,
            group_label=services.group_label,
            breakdown_title=services.breakdown_title,
            metric_label=services.metric_label,
            percent=services.percent,
        ),
        400 if errors else 200,
    )


def _export_selection() -> Selection:
    sel, errors = _selection()
    if sel is None:
        abort(400, description=" ".join(errors.values()))
    return sel


@bp.get("/staff/reports.xlsx")
@login_required
def report_xlsx():
    authorize(policies.can_see_reports(current_user))
    sel = _export_selection()
    data, lines = _compute(sel)
    return Response(
        export.report_xlsx(data, lines, _locale()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{sel.filename("xlsx")}"'},
    )


@bp.get("/staff/reports.csv")
@login_required
def report_csv():
    authorize(policies.can_see_reports(current_user))
    sel = _export_selection()
    data, lines = _compute(sel)
    return Response(
        export.report_csv(data, lines, _locale()),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{sel.filename("csv")}"',
        },
    )


# --- admin: targets ----------------------------------------------------------------------------------


@bp.route("/admin/targets", methods=["GET", "POST"])
@login_required
def targets():
    authorize(policies.can_set_targets(current_user))
    raw_year = request.args.get("year", "")
    year = _year(raw_year) if raw_year.strip() else _this_year()
    if year is None:
        message = _("Choose a year from %(lo)d to %(hi)d.", lo=services.MIN_YEAR, hi=services.MAX_YEAR)
        return render_template("reports/targets.html", form=None, year=None, year_error=message, rows={}), 400
    existing = services.targets_for(year)
    form = TargetsForm()
    if request.method == "GET":
        for metric in METRICS:
            target = existing.get(metric)
            getattr(form, metric).data = str(services.target_value(target)) if target is not None else ""
            getattr(form, f"publish_{metric}").data = bool(target and target.published)
    elif form.validate_on_submit():
        try:
            services.save_targets(
                year=year, values=form.values(), publish=form.published(), actor=current_user, now=utcnow()
            )
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The targets for %(year)d are saved.", year=year), "success")
            return redirect(url_for("reports.targets", year=year))
    return render_template(
        "reports/targets.html",
        form=form,
        year=year,
        year_error=None,
        rows=existing,
        metrics=METRICS,
        metric_label=services.metric_label,
    )


# --- public disclosure -------------------------------------------------------------------------------


@bp.get("/program")
def program_current():
    return program(_this_year())


@bp.get("/program/<int:year>")
def program(year: int):
    authorize(policies.can_see_disclosure(current_user) and services.MIN_YEAR <= year <= services.MAX_YEAR)
    start, end = services.year_period(year)
    data = services.program_report(start=start, end=end)
    lines = services.scorecard(data, services.targets_for(year, published_only=True))
    return render_template(
        "reports/public.html",
        year=year,
        report=data,
        lines=lines,
        charts=_charts(data, _locale(), prefix="public"),
        metric_label=services.metric_label,
    )
