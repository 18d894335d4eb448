"""Account rules: registration, confirmation, login, passwords, staff accounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from consultroom.accounts.models import ROLES, ApiToken, LoginSession, Role, User
from consultroom.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from consultroom.audit.services import record
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.notifications.services import external_url, queue_mail_to_user
from consultroom.privacy.consent import record_consent
from consultroom.privacy.notices import ACCOUNT, MARKETING_EMAIL
from consultroom.signing import LinkExpired, LinkInvalid, make_token, read_token

CONFIRM_PURPOSE = "confirm-email"
RESET_PURPOSE = "reset-password"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def password_problem(password: str, *, email: str = "") -> str | None:
    """The reason a password is refused, or None. Shared by forms, API and CLI."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_LENGTH)
    if email and password.strip().lower() == normalize_email(email):
        return _("The password must not be your e-mail address.")
    if len(set(password)) < 4:
        return _("This password is too easy to guess.")
    return None


def _check_password(password: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise Invalid(problem, fields={"password": [problem]})


def _check_new_email(email: str) -> str:
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        msg = _("An account with this e-mail address already exists.")
        raise Conflict(msg, fields={"email": [msg]})
    return email


def register_sme(
    *,
    email: str,
    password: str,
    name: str,
    consent_account: bool,
    consent_marketing: bool,
    locale: str = "ko",
    via: str = "web",
) -> User:
    """A new SME account. PIPA: the account notice must be agreed to; the marketing answer is
    recorded either way, so a refusal is on record as well as an agreement."""
    if not consent_account:
        msg = _("Please agree to the collection of your personal data to create an account.")
        raise Invalid(msg, fields={"consent_account": [msg]})
    email = _check_new_email(email)
    _check_password(password, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name.strip(),
        role=Role.SME.value,
        locale=locale if locale in current_app.config["LANGUAGES"] else "ko",
    )
    db.session.add(user)
    db.session.flush()
    for purpose, granted in ((ACCOUNT, True), (MARKETING_EMAIL, consent_marketing)):
        record_consent(subject_type="user", subject_id=user.id, user=user, purpose=purpose, granted=granted, via=via)
    send_confirmation(user=user)
    return user


def send_confirmation(*, user: User) -> None:
    token = make_token(CONFIRM_PURPOSE, {"uid": user.id, "email": user.email})
    queue_mail_to_user(
        user=user,
        template="confirm_email",
        context={"link": external_url("accounts.confirm_email", token=token)},
    )


def confirm_email(*, token: str) -> User:
    """Mark the address confirmed. The token names the address, so it dies if the address changes."""
    try:
        data = read_token(CONFIRM_PURPOSE, token, current_app.config["CONFIRM_EMAIL_MAX_AGE"])
    except LinkExpired as exc:
        raise Invalid(_("This confirmation link has expired. Log in to get a new one.")) from exc
    except LinkInvalid as exc:
        raise Invalid(_("This confirmation link is not valid.")) from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("email"):
        raise Invalid(_("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def authenticate(*, email: str, password: str) -> User | None:
    """The user for these credentials, or None. Same work whether or not the account exists."""
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def change_password(*, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        msg = _("The current password is not correct.")
        raise Invalid(msg, fields={"current_password": [msg]})
    _check_password(new, user.email)
    user.password_hash = hash_password(new)
    # Every other session of this user ends; the caller logs the current one in again.
    _end_other_access(user)


def _end_other_access(user: User) -> None:
    """A new password ends every session and revokes every API token: whoever knew the old one
    (the reason for a change, often) keeps no way in."""
    user.session_version += 1
    end_all_sessions_of(user)
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


# --- server-side login sessions ------------------------------------------------------------------


def hash_session_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def session_cutoff():
    """Sessions started before this are over, however busy they were: a stolen cookie that is
    kept alive by use still dies within LOGIN_SESSION_MAX_AGE of the login."""
    return utcnow() - timedelta(seconds=current_app.config["LOGIN_SESSION_MAX_AGE"])


def start_login_session(*, user: User) -> str:
    """A new server-side session for `user`; returns the raw key for the cookie (only its hash is stored)."""
    # The user's own sessions past their age go now, so the table does not grow with every login.
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.created_at < session_cutoff())
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=hash_session_key(raw), created_at=utcnow()))
    db.session.flush()
    return raw


def end_login_session(*, raw_key: str | None) -> None:
    """Logout: this session's row goes, so the cookie (and any copy of it) no longer logs anyone in."""
    if raw_key:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == hash_session_key(raw_key)))


def end_all_sessions_of(user: User) -> int:
    result = db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return result.rowcount


def sign_out_everywhere(*, user: User, actor: User) -> int:
    """An admin ends every session of `user` and revokes their API tokens (used when an account
    may be in the wrong hands: a token the intruder issued would otherwise outlive the sessions).
    Returns the number of browser sessions ended."""
    if not actor.is_admin:
        raise NotAllowed(_("Only admins can do this."))
    ended = end_all_sessions_of(user)
    user.session_version += 1
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    ).rowcount
    record(
        actor=actor,
        action="user.sign_out_everywhere",
        obj=user,
        after={"sessions_ended": ended, "tokens_revoked": revoked},
    )
    db.session.flush()
    return ended


def _reset_fingerprint(user: User) -> str:
    # Part of the stored hash: the link stops working once the password has changed (single use).
    return user.password_hash[-16:]


def request_password_reset(*, email: str) -> None:
    """Queue a reset mail if the account exists. Says nothing either way (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = make_token(RESET_PURPOSE, {"uid": user.id, "fp": _reset_fingerprint(user)})
    queue_mail_to_user(
        user=user,
        template="reset_password",
        context={
            "link": external_url("accounts.reset_password", token=token),
            "hours": current_app.config["RESET_PASSWORD_MAX_AGE"] // 3600,
        },
    )


def user_for_reset_token(token: str) -> User:
    try:
        data = read_token(RESET_PURPOSE, token, current_app.config["RESET_PASSWORD_MAX_AGE"])
    except LinkExpired as exc:
        raise Invalid(_("This password reset link has expired. Please ask for a new one.")) from exc
    except LinkInvalid as exc:
        raise Invalid(_("This password reset link is not valid.")) from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("fp") != _reset_fingerprint(user):
        raise Invalid(_("This password reset link is not valid or was already used."))
    return user


def reset_password(*, token: str, new: str) -> User:
    user = user_for_reset_token(token)
    _check_password(new, user.email)
    user.password_hash = hash_password(new)
    _end_other_access(user)
    # Following a link sent to the address proves the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def create_user(*, email: str, password: str, name: str, role: str, actor: User | None, locale: str = "ko") -> User:
    """Staff and admin accounts (and SME accounts made by an admin); confirmed from the start."""
    if role not in ROLES:
        msg = _("Unknown role.")
        raise Invalid(msg, fields={"role": [msg]})
    if actor is not None and not actor.is_admin:
        raise NotAllowed(_("Only admins create accounts."))
    email = _check_new_email(email)
    _check_password(password, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name.strip(),
        role=role,
        locale=locale,
        email_confirmed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    record(actor=actor, action="user.create", obj=user, after={"email": email, "role": role})
    return user


def set_user_active(*, user: User, active: bool, actor: User) -> None:
    if user.id == actor.id and not active:
        raise Invalid(_("You cannot deactivate your own account."))
    before = {"active": user.active}
    user.active = active
    if not active:
        user.session_version += 1
        end_all_sessions_of(user)
    record(actor=actor, action="user.set_active", obj=user, before=before, after={"active": active})


def set_user_role(*, user: User, role: str, actor: User) -> None:
    if role not in ROLES:
        raise Invalid(_("Unknown role."), fields={"role": [_("Unknown role.")]})
    if user.id == actor.id:
        raise Invalid(_("You cannot change your own role."))
    if user.company_id is not None and role != Role.SME:
        raise Invalid(_("This account belongs to a company; it can only be an SME account."))
    before = {"role": user.role}
    user.role = role
    user.session_version += 1
    record(actor=actor, action="user.set_role", obj=user, before=before, after={"role": role})


def set_preferences(*, user: User, locale: str | None = None, timezone: str | None = None) -> None:
    from zoneinfo import available_timezones

    if locale is not None:
        if locale not in current_app.config["LANGUAGES"]:
            raise Invalid(_("Unknown language."), fields={"locale": [_("Unknown language.")]})
        user.locale = locale
    if timezone is not None:
        if timezone not in available_timezones():
            raise Invalid(_("Unknown time zone."), fields={"timezone": [_("Unknown time zone.")]})
        user.timezone = timezone
