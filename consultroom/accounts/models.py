from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import TimestampMixin
from consultroom.extensions import db

if TYPE_CHECKING:
    from consultroom.companies.models import Company


class Role(enum.StrEnum):
    SME = "sme"
    STAFF = "staff"
    ADMIN = "admin"


ROLES = tuple(r.value for r in Role)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('sme', 'staff', 'admin')", name="role_known"),
        CheckConstraint("locale IN ('ko', 'en')", name="locale_known"),
        # Company links only exist for SME users.
        CheckConstraint("company_id IS NULL OR role = 'sme'", name="company_only_for_sme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased by the services, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10), default=Role.SME.value)
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped on password change and "log out everywhere"; part of the session id, so old sessions die.
    session_version: Mapped[int] = mapped_column(default=1)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)

    company: Mapped[Company | None] = relationship(back_populates="users")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_sme(self) -> bool:
        return self.role == Role.SME

    @property
    def is_staff(self) -> bool:
        """Staff and admins both run the program; admin adds settings and users."""
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginSession(db.Model):
    """One browser login, known to the server. The cookie holds only a random key whose SHA-256
    is stored here; a request is logged in only while this row exists, so logging out (which
    deletes it) ends the session even for a copy of the cookie made before."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
