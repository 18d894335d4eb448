"""HTML error pages, and JSON errors for the API (which never answers with an HTML page)."""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from consultroom.errors import DomainError
from consultroom.schemas import field_errors


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    503: "unavailable",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _message_for(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You are not allowed to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _(
            "The request is larger than %(n)d MB, the most this site accepts. Send a smaller file.",
            n=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        ),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait a moment and try again."),
        503: _("The service is briefly unavailable. Please try again in a minute."),
    }.get(status, _("Something went wrong on our side. Please try again."))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = _("Your form expired or was sent from another site. Please reload the page and try again.")
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if _wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.fields)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(ValidationError)
    def _schema(exc: ValidationError):
        """A schema's load failing outside the API's argument parser: the same 422 naming each field."""
        message = _("Please correct the marked fields.")
        if _wants_json():
            return json_error(422, "invalid", message, field_errors(exc.messages))
        return render_template("errors/error.html", status=422, message=message), 422

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        # A description given at abort() is ours and translated; Werkzeug's defaults are not shown.
        custom = exc.description if exc.description != type(exc).description else None
        message = custom or _message_for(status)
        if _wants_json():
            response = json_error(status, HTTP_CODES.get(status, "error"), message)
        else:
            response = app.make_response((render_template("errors/error.html", status=status, message=message), status))
        if status == 429:
            retry = getattr(exc, "retry_after", None)
            if retry:
                response.headers["Retry-After"] = str(retry)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    def _unavailable(exc: Exception):
        """503 with Retry-After while the database is away; one log line per outage, not per request."""
        from flask import g

        from consultroom.extensions import db, login_manager
        from consultroom.outage import outage_for

        outage_for(app).failed(exc)
        with suppress(Exception):  # the connection is gone; there is nothing to roll back on it
            db.session.rollback()
        # The page must not need the database: no user is loaded for it (the loader would query).
        g._login_user = login_manager.anonymous_user()
        message = _message_for(503)
        if _wants_json():
            response = json_error(503, HTTP_CODES[503], message)
        else:
            response = app.make_response((render_template("errors/error.html", status=503, message=message), 503))
        response.headers["Retry-After"] = str(app.config["DB_OUTAGE_RETRY_AFTER"])
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from consultroom.outage import is_outage

        if is_outage(exc):
            return _unavailable(exc)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        from consultroom.extensions import db

        db.session.rollback()
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise exc
        if _wants_json():
            return json_error(500, "server_error", _message_for(500))
        return render_template("errors/error.html", status=500, message=_message_for(500)), 500
