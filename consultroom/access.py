"""authorize(): 404 for what the user may not know exists, 403 for what they may see but not do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort


def authorize(can_see: bool, can_do: bool = True) -> None:
    if not can_see:
        abort(404)
    if not can_do:
        abort(403)


def get_or_404(session, model: type, ident: Any) -> Any:
    try:
        obj = session.get(model, int(ident))
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        abort(404)
    return obj


Predicate = Callable[..., bool]
