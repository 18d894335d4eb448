"""An in-memory copy of what matching reads of the buyer and interpreter registries, per process,
kept consistent with the database.

Reading a chapter's interest rows on every page cost most of a recommendation at 20,000 buyers. So
each process keeps the registry as plain rows and arrays (consultroom.matching.recommend builds
them) and checks one number before using them: triggers on the registry tables (migration
6f1f5cca064f) set matching_registry.version to a new random number in every transaction that
changes a buyer, an interest, a language or an interpreter. The number is read in the caller's
transaction, before the rows, so a copy is never older than its number says; a process that sees
a number it has not cached rebuilds from the database. Several processes, on one host or many,
each notice the change on their next read; nothing is shared between them but the database.

`MATCHING_REGISTRY_CACHE = False` (the tests' default: their clean-up empties tables with triggers
off) builds the copy on every use instead, through the same code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import text

from consultroom.extensions import db

T = TypeVar("T")
MAX_ENTRIES = 256  # interpreters for sets of days, their hours by slot time; stale versions go first

_lock = threading.Lock()
_entries: dict[tuple[str, Hashable], tuple[int, object]] = {}


def version() -> int | None:
    """The registry's version as this transaction sees it (None if its row is missing: no copy is kept)."""
    return db.session.connection().execute(text("SELECT version FROM matching_registry WHERE id = 1")).scalar()


def cached(key: Hashable, current: int | None, build: Callable[[], T]) -> T:
    """`build()`'s value for `key`, reused while the registry's version stays `current`."""
    if current is None or not current_app.config.get("MATCHING_REGISTRY_CACHE", True):
        return build()
    full_key = (str(db.engine.url), key)
    hit = _entries.get(full_key)
    if hit is not None and hit[0] == current:
        return hit[1]  # type: ignore[return-value]
    value = build()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            for k in [k for k, (v, _value) in _entries.items() if v != current] or list(_entries)[:1]:
                del _entries[k]
        _entries[full_key] = (current, value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
