"""The year's targets (the city's target disclosure): reading and saving them, and the scorecard
that sets a period's results against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.reports.figures import MAX_YEAR, MIN_YEAR, Figures, Report, percent
from consultroom.reports.models import METRICS, Metric, ReportTarget
from consultroom.reports.queries import targets_for

CENT = Decimal("0.01")
WHOLE_METRICS = (
    Metric.CONSULTATIONS.value,
    Metric.CONTRACTS.value,
    Metric.CONTRACT_VALUE_KRW.value,
    Metric.SMES.value,
)
MAX_TARGET = Decimal(10) ** 17  # fits Numeric(20, 2)


@dataclass(frozen=True)
class ScoreLine:
    metric: str
    target: Decimal | None
    result: int | Decimal | None
    achievement: Decimal | None  # result / target in per cent
    published: bool
    published_at: datetime | None


def result_of(metric: str, figures: Figures) -> int | Decimal | None:
    return {
        Metric.CONSULTATIONS.value: figures.held,
        Metric.CONTRACTS.value: figures.contracted,
        Metric.CONTRACT_VALUE_KRW.value: figures.krw,
        Metric.SMES.value: figures.smes,
        Metric.SATISFACTION.value: figures.satisfaction,
    }[metric]


def target_value(target: ReportTarget) -> Decimal:
    """Counts and won as whole numbers, the satisfaction score to 0.01."""
    value = Decimal(target.value)
    return value.quantize(Decimal(1)) if target.metric in WHOLE_METRICS else value.quantize(CENT)


def scorecard(report: Report, targets: dict[str, ReportTarget]) -> list[ScoreLine]:
    lines = []
    for metric in METRICS:
        target = targets.get(metric)
        value = target_value(target) if target is not None else None
        result = result_of(metric, report.total)
        lines.append(
            ScoreLine(
                metric=metric,
                target=value,
                result=result,
                achievement=percent(result, value) if value is not None else None,
                published=bool(target and target.published),
                published_at=target.published_at if target is not None else None,
            )
        )
    return lines


def _snapshot(target: ReportTarget | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {
        "year": target.year,
        "metric": target.metric,
        "value": str(target_value(target)),
        "published": target.published,
        "published_at": target.published_at.isoformat() if target.published_at else None,
    }


def _clean_value(metric: str, raw: str | Decimal | None) -> Decimal | None:
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(_("Enter a number."))
    if value < 0:
        raise ValueError(_("The target cannot be negative."))
    if metric in WHOLE_METRICS:
        if value != value.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        if value >= MAX_TARGET:
            raise ValueError(_("The target is too large."))
        return value.quantize(Decimal(1))
    if value > 5:
        raise ValueError(_("Satisfaction is scored from 1 to 5."))
    if value != value.quantize(CENT):
        raise ValueError(_("Enter at most two decimals."))
    return value.quantize(CENT)


def save_targets(
    *,
    year: int,
    values: dict[str, str | Decimal | None],
    publish: set[str],
    actor: User,
    now: datetime,
) -> dict[str, ReportTarget]:
    """Set the year's targets (an empty value removes an unpublished one) and which are published.
    Every change is audited; `published_at` is when a target was published. Flushes only."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = _("Choose a year from %(lo)d to %(hi)d.", lo=MIN_YEAR, hi=MAX_YEAR)
        raise Invalid(message, fields={"year": [message]})
    existing = targets_for(year)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Decimal | None] = {}
    for metric in METRICS:
        try:
            clean[metric] = _clean_value(metric, values.get(metric))
        except ValueError as exc:
            errors[metric] = [str(exc)]
            continue
        if clean[metric] is None and metric in publish:
            errors[metric] = [_("Enter the target before publishing it.")]
        elif clean[metric] is None and metric in existing and existing[metric].published:
            errors[metric] = [_("A published target cannot be removed; unpublish it first.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    for metric in METRICS:
        target = existing.get(metric)
        before = _snapshot(target)
        value = clean[metric]
        if value is None:
            if target is not None:
                db.session.delete(target)
                record(actor=actor, action="report_target.delete", obj=target, before=before, after={})
            continue
        published = metric in publish
        if target is None:
            target = ReportTarget(year=year, metric=metric, value=value, updated_by_id=actor.id, updated_at=now)
            db.session.add(target)
        elif target_value(target) == value and target.published == published:
            continue
        target.value = value
        target.updated_by_id = actor.id
        target.updated_at = now
        if published and not target.published:
            target.published_at = now
        elif not published:
            target.published_at = None
        target.published = published
        db.session.flush()
        record(
            actor=actor,
            action="report_target.update" if before else "report_target.create",
            obj=target,
            before=before or None,
            after=_snapshot(target),
        )
    db.session.flush()
    existing = targets_for(year)
    return existing
