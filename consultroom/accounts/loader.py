from __future__ import annotations

from flask import Flask, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consultroom.accounts.models import LoginSession, User
from consultroom.accounts.services import hash_session_key, session_cutoff
from consultroom.extensions import db, login_manager

# The cookie key that holds the random session key (the server keeps its hash in login_sessions).
SESSION_KEY = "_sk"


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # "strong" drops the session when the IP/agent fingerprint changes mid-session.
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_key: str) -> User | None:
        user_id, _, version = user_key.partition(".")
        if not user_id.isdigit() or not version.isdigit():
            return None
        raw_key = session.get(SESSION_KEY)
        if not raw_key:
            return None
        # One query: the user, only while the server still holds this session (logout deletes it).
        user = db.session.scalar(
            select(User)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                User.id == int(user_id),
                LoginSession.key_hash == hash_session_key(raw_key),
                LoginSession.created_at >= session_cutoff(),
            )
        )
        if user is None or user.session_version != int(version):
            return None
        return user
