from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from consultroom.accounts import services as account_services
from consultroom.extensions import db
from consultroom.security import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    if current_user.is_authenticated and current_user.is_sme and current_user.company_id is None:
        return redirect(url_for("companies.new"))
    return render_template("main/home.html")


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            account_services.set_preferences(user=current_user, locale=lang)
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), default=url_for("main.home")))


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
