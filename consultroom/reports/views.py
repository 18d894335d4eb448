"""Staff report page and downloads, the admins' targets page, and the public target disclosure."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.reports import charts, export, figures, phrases, policies, queries, selection
from consultroom.reports import targets as year_targets
from consultroom.reports.forms import TargetsForm
from consultroom.reports.models import METRICS
from consultroom.reports.selection import Selection
from consultroom.request_transaction import attempt

bp = Blueprint("reports", __name__)


def _locale() -> str:
    return str(get_locale() or "ko")


def _selection(default_year: int | None = None) -> tuple[Selection | None, dict[str, str]]:
    return selection.read(request.args, default_year)


def _charts(report: figures.Report, locale: str, *, prefix: str = "chart") -> dict[str, object]:
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
            labels=[phrases.group_label("country", g.key, locale) for g in countries],
            series=[
                charts.Series(consultations, [g.figures.held for g in countries]),
                charts.Series(contracts, [g.figures.contracted for g in countries]),
            ],
        )
    return out


def _staff_charts(report: figures.Report, last: figures.Report | None, locale: str) -> dict[str, object]:
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
            labels=[phrases.group_label("industry", g.key, locale) for g in sections],
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
    sel, errors = _selection(None if chosen else figures.latest_year_with_data())
    data = lines = chart_svgs = last = None
    locale = _locale()
    if sel is not None:
        data, lines = selection.compute(sel)
        if data.is_calendar_year and sel.year and sel.year > figures.MIN_YEAR:
            start, end = figures.year_period(sel.year - 1)
            last = figures.program_report(start=start, end=end, months_only=True)
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
            years=queries.recorded_years() or [selection.this_year()],
            this_year=selection.this_year(),
            rounds=queries.rounds_for_filter(),
            locale=locale,
            group_label=phrases.group_label,
            breakdown_title=phrases.breakdown_title,
            metric_label=phrases.metric_label,
            percent=figures.percent,
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
    data, lines = selection.compute(sel)
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
    data, lines = selection.compute(sel)
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
    year = selection.parse_year(raw_year) if raw_year.strip() else selection.this_year()
    if year is None:
        message = _("Choose a year from %(lo)d to %(hi)d.", lo=figures.MIN_YEAR, hi=figures.MAX_YEAR)
        return render_template("reports/targets.html", form=None, year=None, year_error=message, rows={}), 400
    existing = queries.targets_for(year)
    form = TargetsForm()
    if request.method == "GET":
        for metric in METRICS:
            target = existing.get(metric)
            getattr(form, metric).data = str(year_targets.target_value(target)) if target is not None else ""
            getattr(form, f"publish_{metric}").data = bool(target and target.published)
    elif form.validate_on_submit():
        with attempt(form) as done:
            year_targets.save_targets(
                year=year, values=form.values(), publish=form.published(), actor=current_user, now=utcnow()
            )
        if done:
            flash(_("The targets for %(year)d are saved.", year=year), "success")
            return redirect(url_for("reports.targets", year=year))
    return render_template(
        "reports/targets.html",
        form=form,
        year=year,
        year_error=None,
        rows=existing,
        metrics=METRICS,
        metric_label=phrases.metric_label,
    )


# --- public disclosure -------------------------------------------------------------------------------


@bp.get("/program")
def program_current():
    return program(selection.this_year())


@bp.get("/program/<int:year>")
def program(year: int):
    authorize(policies.can_see_disclosure(current_user) and figures.MIN_YEAR <= year <= figures.MAX_YEAR)
    start, end = figures.year_period(year)
    data = figures.program_report(start=start, end=end)
    lines = year_targets.scorecard(data, queries.targets_for(year, published_only=True))
    return render_template(
        "reports/public.html",
        year=year,
        report=data,
        lines=lines,
        charts=_charts(data, _locale(), prefix="public"),
        metric_label=phrases.metric_label,
    )
