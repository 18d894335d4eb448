"""Helpers for the API tests: bearer headers, and calls whose answers must match the OpenAPI document.

Every call made through `api_call` checks that the status it got is documented for that operation
and that the body validates against the documented schema, so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from consultroom.accounts.models import User
from consultroom.api.spec import openapi_document
from consultroom.api.tokens import issue_token
from consultroom.extensions import db

DOC = openapi_document()
_ABSENT = object()


def bearer(user: User, name: str = "test") -> dict[str, str]:
    """Authorization headers with a fresh, committed token for `user`."""
    _token, raw = issue_token(user=user, name=name)
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        node: Any = DOC
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def documented_response(template: str, method: str, status: int) -> dict[str, Any]:
    operation = DOC["paths"][template][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, not listed in the OpenAPI document"
    return _resolve(responses[str(status)])


def validate_json(schema: dict[str, Any], value: Any) -> None:
    rooted = {**schema, "components": DOC["components"]}
    Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(value)


def assert_documented(response, template: str, method: str) -> None:
    spec = documented_response(template, method, response.status_code)
    content = spec.get("content")
    if not content:
        assert response.data == b"", f"{method} {template} {response.status_code} should have no body"
        return
    assert response.mimetype == "application/json", response.data[:200]
    validate_json(content["application/json"]["schema"], response.get_json())
    for header in spec.get("headers", {}):
        if header != "Retry-After":  # the limiter sets it; its presence is tested where it matters
            assert header in response.headers, f"{method} {template} {response.status_code} lacks {header}"


def api_call(
    client,
    method: str,
    template: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = _ABSENT,
    data: bytes | str | None = None,
    content_type: str | None = None,
    query: dict[str, Any] | None = None,
    **params: Any,
):
    """Call an operation by its documented path template and check the answer against the document."""
    url = template.format(**params)
    # English, as an API client would ask; a token user's own language still wins (see test_api_tokens).
    headers = {"Accept-Language": "en", **(headers or {})}
    kwargs: dict[str, Any] = {"method": method, "headers": headers, "query_string": query}
    if json is not _ABSENT:
        kwargs["json"] = json
    if data is not None:
        kwargs["data"] = data
    if content_type is not None:
        kwargs["content_type"] = content_type
    response = client.open(url, **kwargs)
    assert_documented(response, template, method)
    return response


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    """The JSON error body, after checking status, shape and code."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    validate_json({"$ref": "#/components/schemas/Error"}, body)
    assert body["error"]["code"] == code
    return body["error"]
