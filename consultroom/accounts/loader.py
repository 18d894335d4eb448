from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from consultroom.accounts.models import User
from consultroom.extensions import db, login_manager


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
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version):
            return None
        return user
