"""argon2id password hashing.

Production uses argon2-cffi's defaults, which follow RFC 9106's recommendations. The parameters come
from the app's config (PASSWORD_HASH_PARAMS) so that the test configuration can choose cheap ones: a
hash there costs microseconds instead of tens of milliseconds, and one test keeps the production ones.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

MIN_LENGTH = 10
MAX_LENGTH = 128


@cache
def _hasher(params: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(**dict(params))
    # Compared against when the account does not exist, so a miss costs as much time as a hit.
    return hasher, hasher.hash("consultroom-timing-equaliser")


def current_hasher() -> tuple[PasswordHasher, str]:
    params = current_app.config.get("PASSWORD_HASH_PARAMS") if has_app_context() else None
    return _hasher(tuple(sorted((params or {}).items())))


def hash_password(password: str) -> str:
    return current_hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = current_hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return current_hasher()[0].check_needs_rehash(password_hash)
