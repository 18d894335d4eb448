"""Staff pages for the buyer registry: list, detail with history, create, edit, deactivate, import."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from babel.dates import get_day_names
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.buyers import importing, policies, services
from consultroom.buyers.forms import ActiveForm, BuyerForm, ConfirmImportForm
from consultroom.buyers.models import Buyer
from consultroom.buyers.queries import (
    STATUSES,
    BuyerFilter,
    buyer_history,
    buyer_search,
    registry_countries,
)
from consultroom.buyers.schemas import BUYER_LABELS
from consultroom.companies.validation import language_choices
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.forms_util import confirmed
from consultroom.import_pages import ImportPages
from consultroom.privacy import access_log
from consultroom.request_transaction import attempt, log_access
from consultroom.timeutil import SEOUL

bp = Blueprint("buyers", __name__, url_prefix="/staff/buyers")


@bp.context_processor
def _field_labels():
    # Buyer pages name fields with the schema's labels (said once, in buyers.schemas).
    return {"buyer_labels": BUYER_LABELS}


def _staff() -> None:
    authorize(policies.can_manage_buyers(current_user))


@bp.get("")
@login_required
def index():
    _staff()
    status = request.args.get("status", "active")
    f = BuyerFilter(
        q=request.args.get("q", "")[:100],
        country=request.args.get("country", "")[:2],
        hs=request.args.get("hs", "")[:8],
        language=request.args.get("language", "")[:8],
        status=status if status in STATUSES else "active",
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(
        buyer_search(f),
        page=max(page, 1),
        per_page=current_app.config.get("BUYERS_PER_PAGE", 25),
        error_out=False,
    )
    locale = str(get_locale() or "ko")
    page_html = render_template(
        "buyers/index.html",
        pagination=pagination,
        filters=f,
        countries=db.session.scalars(registry_countries()).all(),
        languages=language_choices(locale),
    )
    # PIPA access log: the contact persons of the buyers on the page shown (written with the request's commit).
    log_access(actor=current_user, subjects=access_log.buyers(pagination.items), what="buyers.index")
    return page_html


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _staff()
    form = BuyerForm()
    if request.method == "GET":
        form.load_defaults()
    if form.validate_on_submit():
        with attempt(form) as done:
            buyer = services.create_buyer(data=form.payload(), actor=current_user)
        if done:
            flash(_("The buyer is registered."), "success")
            return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    return render_template("buyers/form.html", form=form, buyer=None)


def _local_view(buyer: Buyer) -> dict[str, str]:
    """The buyer's days and time now, and today's meeting hours in Seoul time, for staff arranging a slot."""
    tz = ZoneInfo(buyer.timezone)
    now = utcnow().astimezone(tz)
    locale = str(get_locale() or "ko")
    start = datetime.combine(now.date(), buyer.meet_from, tzinfo=tz).astimezone(SEOUL)
    end = datetime.combine(now.date(), buyer.meet_to, tzinfo=tz).astimezone(SEOUL)
    day_names = get_day_names("abbreviated", locale=locale)
    return {
        "days": ", ".join(day_names[d] for d in sorted(buyer.meet_days or [])),
        "now": babel_datetime(now, "EEE HH:mm", tzinfo=tz, locale=locale),
        "seoul_from": start.strftime("%H:%M"),
        "seoul_to": end.strftime("%H:%M"),
    }


@bp.get("/<int:buyer_id>")
@login_required
def detail(buyer_id: int):
    _staff()
    buyer = get_or_404(db.session, Buyer, buyer_id)
    authorize(policies.can_view_buyer(current_user, buyer))
    page_html = render_template(
        "buyers/detail.html",
        buyer=buyer,
        history=buyer_history(buyer.id),
        local=_local_view(buyer),
        active_form=ActiveForm(active="0" if buyer.active else "1"),
    )
    log_access(actor=current_user, subjects=[("buyer", buyer_id)], what="buyers.detail")
    return page_html


@bp.route("/<int:buyer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(buyer_id: int):
    _staff()
    buyer = get_or_404(db.session, Buyer, buyer_id)
    authorize(policies.can_view_buyer(current_user, buyer), policies.can_edit_buyer(current_user, buyer))
    form = BuyerForm()
    if request.method == "GET":
        form.load(buyer)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.update_buyer(buyer=buyer, data=form.payload(), actor=current_user)
        if done:
            flash(_("The buyer is saved."), "success")
            return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    page_html = render_template("buyers/form.html", form=form, buyer=buyer)
    log_access(actor=current_user, subjects=[("buyer", buyer_id)], what="buyers.edit")
    return page_html


@bp.post("/<int:buyer_id>/active")
@login_required
def set_active(buyer_id: int):
    _staff()
    buyer = get_or_404(db.session, Buyer, buyer_id)
    authorize(policies.can_view_buyer(current_user, buyer), policies.can_edit_buyer(current_user, buyer))
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        flash(_("Nothing was changed. Please try again."), "danger")
        return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    active = form.active.data == "1"
    if not active and not confirmed():
        return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    with attempt() as done:
        services.set_buyer_active(buyer=buyer, active=active, actor=current_user)
    if done:
        flash(_("The buyer is active again.") if active else _("The buyer is deactivated."), "success")
    return redirect(url_for("buyers.detail", buyer_id=buyer.id))


# --- import --------------------------------------------------------------------------------------


ImportPages(
    importer=importing.IMPORTER,
    parse=importing.parse_upload,
    staff=_staff,
    uploader=policies.can_use_import_batch,
    folder="buyers",
    index="buyers.index",
    confirm_form=ConfirmImportForm,
    aliases=importing.COLUMN_ALIASES,
    required=importing.REQUIRED_COLUMNS,
    subject="buyer",
    imported=lambda created, skipped: _(
        "%(created)d buyers imported; %(skipped)d duplicates skipped.", created=created, skipped=skipped
    ),
).register(bp, "/import")
