from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from consultroom.accounts import services
from consultroom.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    MarketingForm,
    PreferencesForm,
    RegisterForm,
    RenewConsentForm,
    ResetPasswordForm,
)
from consultroom.accounts.loader import SESSION_KEY
from consultroom.errors import DomainError
from consultroom.extensions import limiter
from consultroom.privacy import consent, notices
from consultroom.request_transaction import attempt
from consultroom.security import safe_next

bp = Blueprint("accounts", __name__)


def _login_account_key() -> str:
    # Per-account limit: keyed on the submitted address, whatever IP the attempts come from.
    return "login-account:" + services.normalize_email(request.form.get("email", ""))


def _failed_login(response) -> bool:
    # Only failed attempts count (a success redirects), so a user who logs in often is never locked out.
    return response.status_code != 302


def _start_session(user) -> None:
    """Log `user` in with a new server-side session (committed at the boundary, before the answer leaves)."""
    raw_key = services.start_login_session(user=user)
    # A fresh session at login: nothing planted before login survives it (session fixation).
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SESSION_KEY] = raw_key
    login_user(user)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed_login)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed_login,
)
def login():
    next_url = safe_next(request.args.get("next"), default="")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(email=form.email.data, password=form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail address or password is not correct."))
        elif not user.email_confirmed:
            services.send_confirmation(user=user)
            flash(_("Please confirm your e-mail address first. We have sent you a new link."), "warning")
        else:
            _start_session(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(next_url or url_for("main.home"))
    return render_template("accounts/login.html", form=form, next_url=next_url)


@bp.post("/logout")
@login_required
def logout():
    # The server forgets the session first: a copy of this cookie is worthless from now on.
    services.end_login_session(raw_key=session.get(SESSION_KEY))
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = session.get("lang", current_app.config["BABEL_DEFAULT_LOCALE"])
    if form.validate_on_submit():
        with attempt(form) as done:
            services.register_sme(
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                consent_account=form.consent_account.data,
                consent_marketing=form.consent_marketing.data,
                locale=form.locale.data,
            )
        if done:
            session["lang"] = form.locale.data
            return render_template("accounts/registered.html", email=services.normalize_email(form.email.data))
    return render_template(
        "accounts/register.html",
        form=form,
        account_notice=notices.view(notices.ACCOUNT),
        marketing_notice=notices.view(notices.MARKETING_EMAIL),
    )


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    try:
        services.confirm_email(token=token)
    except DomainError as exc:  # an error answer: the boundary rolls back
        return render_template("accounts/link_problem.html", message=exc.message), 400
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data)
        # Same answer whether or not the account exists.
        flash(_("If an account exists for this address, we have sent a link to reset its password."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except DomainError as exc:
        return render_template("accounts/link_problem.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            services.reset_password(token=token, new=form.password.data)
        if done:
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password has been changed. Please log in."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    prefs = PreferencesForm(prefix="prefs", obj=current_user)
    pw = ChangePasswordForm(prefix="pw")
    subject = {"subject_type": "user", "subject_id": current_user.id}
    consents = consent.current_consents(**subject)
    marketing = MarketingForm(prefix="mk")
    renew = RenewConsentForm(prefix="rc")
    if request.method == "GET":
        marketing.marketing_email.data = consent.has_consent(**subject, purpose=notices.MARKETING_EMAIL)
    if marketing.submit.data and marketing.validate_on_submit():
        granted = bool(marketing.marketing_email.data)
        consent.set_consent(**subject, user=current_user, purpose=notices.MARKETING_EMAIL, granted=granted)
        flash(
            _("You will get news of other programs.") if granted else _("You will not get news of other programs."),
            "success",
        )
        return redirect(url_for("accounts.account"))
    if renew.submit.data and renew.validate_on_submit():
        consent.record_consent(**subject, user=current_user, purpose=notices.ACCOUNT, granted=True)
        flash(_("Thank you: your consent is recorded."), "success")
        return redirect(url_for("accounts.account"))
    if prefs.submit.data and prefs.validate_on_submit():
        with attempt(prefs) as done:
            services.set_preferences(user=current_user, locale=prefs.locale.data, timezone=prefs.timezone.data)
        if done:
            session["lang"] = current_user.locale
            flash(_("Your preferences are saved."), "success")
            return redirect(url_for("accounts.account"))
    elif pw.submit.data and pw.validate_on_submit():
        with attempt(pw) as done:
            services.change_password(user=current_user, current=pw.current_password.data, new=pw.password.data)
        if done:
            # The password change ended every session, this one too; it goes on as a new one.
            _start_session(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html",
        prefs=prefs,
        pw=pw,
        marketing=marketing,
        renew=renew,
        consents=consents,
        company_consents=consent.current_consents(subject_type="company", subject_id=current_user.company_id)
        if current_user.company_id
        else {},
        renew_notice=notices.view(notices.ACCOUNT)
        if current_user.is_sme and consent.needs_renewal(**subject, purpose=notices.ACCOUNT)
        else None,
        marketing_notice=notices.view(notices.MARKETING_EMAIL),
        titles={p: str(n.title) for p, n in notices.NOTICES.items()},
    )
