from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import TimestampMixin
from consultroom.extensions import db
from consultroom.table_import import ImportBatchMixin


class Interpreter(TimestampMixin, db.Model):
    """An interpreter between Korean and one or more of `languages` (ISO 639-1)."""

    __tablename__ = "interpreters"
    __table_args__ = (CheckConstraint("max_sessions_per_day BETWEEN 1 AND 12", name="daily_cap_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    specialties: Mapped[str] = mapped_column(Text, default="")
    max_sessions_per_day: Mapped[int] = mapped_column(default=4)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    # Optional account; without one the interpreter works through signed links.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)

    language_rows: Mapped[list[InterpreterLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="InterpreterLanguage.code"
    )
    hours: Mapped[list[InterpreterHours]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="(InterpreterHours.weekday, InterpreterHours.start)"
    )
    exceptions: Mapped[list[InterpreterException]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="InterpreterException.day"
    )

    @property
    def languages(self) -> list[str]:
        return [row.code for row in self.language_rows]


class InterpreterLanguage(db.Model):
    """A language (ISO 639-1) the interpreter works in, always paired with Korean."""

    __tablename__ = "interpreter_languages"

    interpreter_id: Mapped[int] = mapped_column(ForeignKey("interpreters.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class InterpreterHours(db.Model):
    """Recurring weekly availability, in Asia/Seoul."""

    __tablename__ = "interpreter_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint('start < "end"', name="time_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interpreter_id: Mapped[int] = mapped_column(ForeignKey("interpreters.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start: Mapped[time]
    end: Mapped[time]


class InterpreterException(db.Model):
    """A dated change: away (all day, or start-end) or extra hours (available, start-end)."""

    __tablename__ = "interpreter_exceptions"
    __table_args__ = (Index("ix_interpreter_exceptions_day", "interpreter_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interpreter_id: Mapped[int] = mapped_column(ForeignKey("interpreters.id", ondelete="CASCADE"))
    day: Mapped[date]
    available: Mapped[bool] = mapped_column(default=False)
    start: Mapped[time | None]
    end: Mapped[time | None]
    note: Mapped[str] = mapped_column(String(200), default="")


class InterpreterImportBatch(ImportBatchMixin, db.Model):
    """An interpreter file between its preview and its confirmation (consultroom.table_import)."""

    __tablename__ = "interpreter_import_batches"
