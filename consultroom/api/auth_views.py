"""Tokens and the current user: POST/GET /tokens, DELETE /tokens/current and /tokens/{id}, GET /me."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.access import authorize
from consultroom.accounts.models import ApiToken
from consultroom.accounts.schemas import MeSchema, TokenListSchema, TokenRequestSchema, TokenSchema
from consultroom.accounts.services import authenticate, normalize_email
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import peek_json_object, unauthorized, unit_of_work
from consultroom.api.policies import can_manage_token
from consultroom.api.spec import errors
from consultroom.api.tokens import issue_token, revoke_token
from consultroom.extensions import db, limiter


def _token_account_key() -> str:
    # Per-account limit, as on the web login: keyed on the address, whatever IP the attempts come from.
    email = peek_json_object().get("email")
    return "api-token-account:" + (normalize_email(email) if isinstance(email, str) else "")


def _failed(response) -> bool:
    # Only failures count, so a script that fetches a token often is never locked out.
    return response.status_code != 201


@bp.post("/tokens", tags=["tokens"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_token_account_key,
    deduct_when=_failed,
)
@bp.doc(
    operationId="createToken",
    summary="Log in: exchange e-mail and password for a bearer token",
    description="Rate-limited per IP and per account like the web login; only failures count.",
    security=[],
    responses=errors(400, 401, 415, 422, 429),
)
@bp.arguments(TokenRequestSchema)
@bp.response(201, TokenSchema, description="The token, shown only this once.")
def create_token(data: dict[str, Any]):
    email, password, name = data["email"], data["password"], data.get("name") or ""
    user = authenticate(email=email, password=password)
    if user is None:
        # The same answer whether the account is unknown, the password wrong or the account inactive.
        return unauthorized(_("The e-mail address or password is not correct."))
    if not user.email_confirmed:
        db.session.rollback()
        return unauthorized(_("Please confirm your e-mail address first."))
    with unit_of_work():
        token, raw = issue_token(user=user, name=name)
        body = TokenSchema().dump(
            {"token": raw, "id": token.id, "prefix": token.prefix, "name": token.name, "expires_at": token.expires_at}
        )
    return jsonify(body), 201


@bp.get("/tokens", tags=["tokens"])
@api_auth
@bp.doc(operationId="listTokens", summary="Your tokens (never their secrets)", responses=errors(401))
@bp.response(200, TokenListSchema, description="Your tokens, newest first.")
def list_tokens():
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == g.api_user.id).order_by(ApiToken.id.desc())
    ).all()
    # `current`: the token this request was made with.
    return {"items": [{**_token_columns(t), "current": t.id == g.api_token.id} for t in tokens]}


def _token_columns(token: ApiToken) -> dict[str, Any]:
    names = ("id", "prefix", "name", "created_at", "expires_at", "last_used_at", "revoked_at")
    return {name: getattr(token, name) for name in names}


@bp.delete("/tokens/current", tags=["tokens"])
@api_auth
@bp.doc(operationId="revokeCurrentToken", summary="Log out: revoke the token this request uses", responses=errors(401))
@bp.response(204, description="Revoked.")
def revoke_current_token():
    with unit_of_work():
        revoke_token(token=g.api_token, actor=g.api_user)
    return Response(status=204)


@bp.delete("/tokens/<int:token_id>", tags=["tokens"])
@api_auth
@bp.doc(operationId="revokeToken", summary="Revoke one of your tokens", responses=errors(401, 404))
@bp.response(204, description="Revoked (also when it already was).")
def revoke_token_by_id(token_id: int):
    token = db.session.get(ApiToken, token_id)
    authorize(token is not None and can_manage_token(g.api_user, token))
    with unit_of_work():
        revoke_token(token=token, actor=g.api_user)
    return Response(status=204)


@bp.get("/me", tags=["account"])
@api_auth
@bp.doc(operationId="getMe", summary="The user the token belongs to", responses=errors(401))
@bp.response(200, MeSchema, description="You.")
def me():
    return g.api_user
