from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize
from consultroom.bookings.policies import can_manage_rounds
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.scheduler.models import JobRun
from consultroom.scheduler.queries import last_runs, recent_failures_stmt
from consultroom.scheduler.registry import JOBS

bp = Blueprint("scheduler", __name__, url_prefix="/staff/jobs")


@bp.get("")
@login_required
def index():
    authorize(can_manage_rounds(current_user))
    from consultroom.scheduler import jobs as _jobs  # noqa: F401 - registers the jobs

    recent = db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(100)).all()
    failures = db.session.scalars(
        recent_failures_stmt(utcnow()).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    ).all()
    last = last_runs(list(JOBS))
    return render_template("staff/jobs.html", jobs=JOBS.values(), recent=recent, failures=failures, last=last)
