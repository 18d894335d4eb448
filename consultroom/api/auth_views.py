"""Tokens and the current user: POST/GET /tokens, DELETE /tokens/current and /tokens/{id}, GET /me."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.access import authorize
from consultroom.accounts.models import ApiToken
from consultroom.accounts.services import authenticate, normalize_email
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import check_storable, iso, json_object, peek_json_object, unauthorized, unit_of_work
from consultroom.api.policies import can_manage_token
from consultroom.api.serializers import token_json, user_json
from consultroom.api.tokens import NAME_MAX, issue_token, revoke_token
from consultroom.errors import Invalid
from consultroom.extensions import db, limiter

TOKEN_REQUEST_FIELDS = {"email": 254, "password": 1024, "name": NAME_MAX}


def _token_account_key() -> str:
    # Per-account limit, as on the web login: keyed on the address, whatever IP the attempts come from.
    email = peek_json_object().get("email")
    return "api-token-account:" + (normalize_email(email) if isinstance(email, str) else "")


def _failed(response) -> bool:
    # Only failures count, so a script that fetches a token often is never locked out.
    return response.status_code != 201


def _token_request(data: dict[str, Any]) -> tuple[str, str, str]:
    check_storable(data)
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(TOKEN_REQUEST_FIELDS)):
        errors[name] = [_("Unknown field.")]
    values: dict[str, str] = {}
    for name, max_len in TOKEN_REQUEST_FIELDS.items():
        value = data.get(name)
        if name == "name" and value is None:
            value = ""
        if value is None:
            errors[name] = [_("This field is required.")]
        elif not isinstance(value, str):
            errors[name] = [_("Must be text.")]
        elif name != "name" and not value.strip():
            errors[name] = [_("This field is required.")]
        elif len(value) > max_len:
            errors[name] = [_("Use at most %(n)d characters.", n=max_len)]
        else:
            values[name] = value
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return values["email"], values["password"], values["name"]


@bp.post("/tokens")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_token_account_key,
    deduct_when=_failed,
)
def create_token():
    email, password, name = _token_request(json_object())
    user = authenticate(email=email, password=password)
    if user is None:
        # The same answer whether the account is unknown, the password wrong or the account inactive.
        return unauthorized(_("The e-mail address or password is not correct."))
    if not user.email_confirmed:
        db.session.rollback()
        return unauthorized(_("Please confirm your e-mail address first."))
    with unit_of_work():
        token, raw = issue_token(user=user, name=name)
        body = {"token": raw, "id": token.id, "prefix": token.prefix, "name": token.name}
        body["expires_at"] = iso(token.expires_at)
    return jsonify(body), 201


@bp.get("/tokens")
@api_auth
def list_tokens():
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == g.api_user.id).order_by(ApiToken.id.desc())
    ).all()
    return jsonify({"items": [token_json(t, current_id=g.api_token.id) for t in tokens]})


@bp.delete("/tokens/current")
@api_auth
def revoke_current_token():
    with unit_of_work():
        revoke_token(token=g.api_token, actor=g.api_user)
    return Response(status=204)


@bp.delete("/tokens/<int:token_id>")
@api_auth
def revoke_token_by_id(token_id: int):
    token = db.session.get(ApiToken, token_id)
    authorize(token is not None and can_manage_token(g.api_user, token))
    with unit_of_work():
        revoke_token(token=token, actor=g.api_user)
    return Response(status=204)


@bp.get("/me")
@api_auth
def me():
    return jsonify(user_json(g.api_user))
