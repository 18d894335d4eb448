from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize, get_or_404
from consultroom.accounts import services as account_services
from consultroom.accounts.forms import CreateUserForm
from consultroom.accounts.models import User
from consultroom.accounts.policies import can_manage_users
from consultroom.extensions import db
from consultroom.forms_util import confirmed
from consultroom.privacy import access_log
from consultroom.request_transaction import attempt, log_access

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    authorize(can_manage_users(current_user))
    form = CreateUserForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            user = account_services.create_user(
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                role=form.role.data,
                locale=form.locale.data,
                actor=current_user,
            )
        if done:
            flash(_("The account %(email)s is created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.role, User.email)
    if role:
        stmt = stmt.where(User.role == role)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    page_html = render_template("admin/users.html", form=form, pagination=pagination, role=role)
    # PIPA access log: the accounts (names, e-mails) on the page shown; an admin's own row is not logged.
    log_access(actor=current_user, subjects=access_log.users(pagination.items), what="admin.users")
    return page_html


@bp.post("/users/<int:user_id>/active")
@login_required
def set_active(user_id: int):
    authorize(can_manage_users(current_user))
    user = get_or_404(db.session, User, user_id)
    if request.form.get("active") != "1" and not confirmed():
        return redirect(url_for("admin.users"))
    with attempt() as done:
        account_services.set_user_active(user=user, active=request.form.get("active") == "1", actor=current_user)
    if done:
        flash(_("The account is updated."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sign-out")
@login_required
def sign_out_everywhere(user_id: int):
    authorize(can_manage_users(current_user))
    user = get_or_404(db.session, User, user_id)
    if not confirmed():
        return redirect(url_for("admin.users"))
    ended = account_services.sign_out_everywhere(user=user, actor=current_user)
    flash(
        _(
            "%(email)s is signed out everywhere (%(n)d sessions ended); their API tokens are revoked.",
            email=user.email,
            n=ended,
        ),
        "success",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@login_required
def set_role(user_id: int):
    authorize(can_manage_users(current_user))
    user = get_or_404(db.session, User, user_id)
    with attempt() as done:
        account_services.set_user_role(user=user, role=request.form.get("role", ""), actor=current_user)
    if done:
        flash(_("The account is updated."), "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit_moved():
    """The audit log is a staff page (consultroom.audit.views); old links and bookmarks lead there."""
    return redirect(url_for("audit.index", **request.args), code=308)
