"""Users: an SME member by default; traits for staff, admin and an address not yet confirmed."""

from __future__ import annotations

import factory

from consultroom.accounts.models import User
from consultroom.accounts.passwords import hash_password
from consultroom.db import utcnow
from tests.factories.base import BaseFactory

PASSWORD = "correct horse battery"
_hash_cache: dict[str, str] = {}


def password_hash(password: str) -> str:
    # argon2 is slow on purpose; one hash per distinct test password keeps the suite fast.
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


class UserFactory(BaseFactory):
    class Meta:
        model = User

    class Params:
        password = PASSWORD
        confirmed = True
        company = None
        staff = factory.Trait(role="staff")
        admin = factory.Trait(role="admin")
        unconfirmed = factory.Trait(confirmed=False)

    role = "sme"
    email = factory.LazyAttributeSequence(lambda o, n: f"{o.role}{n}@example.test")
    name = factory.LazyAttributeSequence(lambda o, n: f"{o.role.title()} {n}")
    password_hash = factory.LazyAttribute(lambda o: password_hash(o.password))
    # English by default so tests can read messages; Korean is tested where the language is the point.
    locale = "en"
    timezone = "Asia/Seoul"
    active = True
    email_confirmed_at = factory.LazyAttribute(lambda o: utcnow() if o.confirmed else None)
    company_id = factory.LazyAttribute(lambda o: o.company.id if o.company is not None else None)


def make_user(role: str = "sme", *, email: str | None = None, **fields) -> User:
    """A user of `role` (sme, staff, admin, interpreter); fields as UserFactory takes them."""
    if email is not None:
        fields["email"] = email.lower()
    return UserFactory(role=role, **fields)
