"""Consultroom: booking, matching and reporting for a city's export consultation room."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from config import CONFIGS, ProductionConfig

ROOT = Path(__file__).resolve().parent.parent


class BoundedInt(IntegerConverter):
    """Ids in URLs: at most 10 digits, and anything past the 32-bit column range becomes 0, an id
    that never exists, so the view answers 404. (Rejecting it in the converter would make Werkzeug
    answer 405 when another method's rule shares the path, and PostgreSQL fails on larger values.)"""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= 2**31 - 1 else 0


def create_app(config_name: str | None = None, **overrides) -> Flask:
    config_name = config_name or os.environ.get("CONSULTROOM_CONFIG", "development")
    config_cls = CONFIGS[config_name]
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_cls)
    app.config.update(overrides)
    if config_cls is ProductionConfig:
        ProductionConfig.validate()
        from werkzeug.middleware.proxy_fix import ProxyFix

        # One proxy (nginx or a load balancer) in front; its X-Forwarded-For gives the client IP.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Ids in URLs fit the database's 32-bit integer columns; a longer number is simply not found.
    app.url_map.converters["int"] = BoundedInt
    _init_extensions(app)
    _register_blueprints(app)

    from consultroom.cli import register_cli
    from consultroom.errorpages import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from consultroom import models  # noqa: F401 - registers every model with the metadata
    from consultroom.accounts.loader import init_login
    from consultroom.extensions import babel, bootstrap, csrf, db, limiter, migrate
    from consultroom.i18n import init_filters, select_locale, select_timezone
    from consultroom.security import init_security
    from consultroom.static_assets import init_static

    db.init_app(app)
    from flask_sqlalchemy.session import Session

    from consultroom.reports import facts

    facts.install(Session)  # the consultation facts follow their sources in every transaction
    from consultroom import request_transaction
    from consultroom.outage import init_outage

    request_transaction.init_app(app)

    with app.app_context():
        init_outage(app, db.engine)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from consultroom.sqlite import configure_sqlite, init_request_intent

        with app.app_context():
            configure_sqlite(db.engine)
        init_request_intent(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    bootstrap.init_app(app)
    limiter.init_app(app)
    init_login(app)
    init_filters(app)
    init_security(app)
    init_static(app)


def _register_blueprints(app: Flask) -> None:
    from consultroom.accounts.views import bp as accounts_bp
    from consultroom.admin.views import bp as admin_bp
    from consultroom.api import init_api
    from consultroom.audit.views import bp as audit_bp
    from consultroom.bookings.views import bp as bookings_bp
    from consultroom.buyers.views import bp as buyers_bp
    from consultroom.companies.views import bp as companies_bp
    from consultroom.exports.views import bp as exports_bp
    from consultroom.interpreters import portal as _portal  # noqa: F401 - adds the portal's routes
    from consultroom.interpreters.views import bp as interpreters_bp
    from consultroom.main.views import bp as main_bp
    from consultroom.matching.views import bp as matching_bp
    from consultroom.notifications.views import bp as notifications_bp
    from consultroom.outcomes.views import bp as outcomes_bp
    from consultroom.privacy.views import bp as privacy_bp
    from consultroom.reports.views import bp as reports_bp
    from consultroom.respond.views import bp as respond_bp
    from consultroom.rounds.views import bp as rounds_bp
    from consultroom.scheduler.views import bp as jobs_bp
    from consultroom.surveys.views import bp as surveys_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(companies_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(buyers_bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(respond_bp)
    app.register_blueprint(interpreters_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(privacy_bp)
    init_api(app)
