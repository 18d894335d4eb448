"""Round rules: generation from the settings (idempotent), opening and closing, slots, cancellation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.placeholders import generated_round_title
from consultroom.rounds.models import ClosedDate, Round, RoundSettings, RoundStatus, Slot
from consultroom.rounds.schedule import Pattern, booking_window, round_day, slot_starts
from consultroom.timeutil import SEOUL, month_add, seoul_to_utc

SETTINGS_FIELDS = (
    "pattern", "nth", "weekday", "fixed_day", "day_start", "day_end", "slot_minutes", "break_minutes", "booths",
    "opens_days_before", "opens_at", "closes_days_before", "closes_at", "cancel_hours_before", "company_cap",
    "months", "region_windows", "interpreter_policy",
)  # fmt: skip
MAX_WINDOWS = 4
_WINDOW = re.compile(r"^\s*(?P<label>.*?)\s*(?P<start>\d{1,2}:\d{2})\s*[-–]\s*(?P<end>\d{1,2}:\d{2})\s*$")


def parse_windows(text: str) -> list[dict[str, str]]:
    """Region windows from lines like "Europe 17:00-21:00" (Seoul hours); Invalid names the line."""
    out: list[dict[str, str]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        m = _WINDOW.match(line)
        try:
            if m is None:
                raise ValueError
            start, end = time.fromisoformat(m["start"].zfill(5)), time.fromisoformat(m["end"].zfill(5))
        except ValueError:
            message = _("Line %(n)d: write a name and Seoul hours, e.g. Europe 17:00-21:00.", n=number)
            raise Invalid(message, fields={"region_windows": [message]}) from None
        if start >= end:
            message = _("Line %(n)d: the window must end after it starts.", n=number)
            raise Invalid(message, fields={"region_windows": [message]})
        out.append({"label": m["label"][:40], "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")})
    if len(out) > MAX_WINDOWS:
        message = _("At most %(n)d region windows.", n=MAX_WINDOWS)
        raise Invalid(message, fields={"region_windows": [message]})
    return out


def format_windows(rows: list[dict[str, str]] | None) -> str:
    return "\n".join(f"{r.get('label', '')} {r['start']}-{r['end']}".strip() for r in rows or [])


def get_settings() -> RoundSettings:
    settings = db.session.get(RoundSettings, 1)
    if settings is None:
        settings = RoundSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time | datetime) else value


def update_settings(*, data: Mapping[str, Any], actor: User) -> RoundSettings:
    settings = get_settings()
    errors: dict[str, list[str]] = {}
    if data.get("day_start") and data.get("day_end") and data["day_start"] >= data["day_end"]:
        errors["day_end"] = [_("The day must end after it starts.")]
    months = data.get("months")
    if months is not None and (not months or any(not isinstance(m, int) or not 1 <= m <= 12 for m in months)):
        errors["months"] = [_("Choose at least one month.")]
    if (
        "opens_days_before" in data
        and "closes_days_before" in data
        and data["opens_days_before"] <= data["closes_days_before"]
    ):
        errors["closes_days_before"] = [_("Booking must close after it opens.")]
    if data.get("interpreter_policy") is not None and data["interpreter_policy"] not in ("always", "needed"):
        errors["interpreter_policy"] = [_("Choose one of the listed policies.")]
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    if isinstance(data.get("region_windows"), str):
        data = {**data, "region_windows": parse_windows(data["region_windows"])}
    before = {f: _jsonable(getattr(settings, f)) for f in SETTINGS_FIELDS}
    for field in SETTINGS_FIELDS:
        if field in data:
            setattr(settings, field, sorted(data[field]) if field == "months" else data[field])
    after = {f: _jsonable(getattr(settings, f)) for f in SETTINGS_FIELDS}
    record(actor=actor, action="round_settings.update", obj=settings, before=before, after=after)
    return settings


def closed_dates(year: int, month: int) -> set[date]:
    first = date(year, month, 1)
    last = date(*month_add(year, month, 1), 1)
    rows = db.session.scalars(select(ClosedDate.day).where(ClosedDate.day >= first, ClosedDate.day < last))
    return set(rows)


def _make_slots(rnd: Round, pattern: Pattern, day: date) -> None:
    rnd.slots = [
        Slot(booth=booth, starts_at=start, ends_at=end)
        for start, end in slot_starts(pattern, day)
        for booth in range(1, pattern.booths + 1)
    ]


def ensure_round(
    *, year: int, month: int, actor: User | None = None, not_after: datetime | None = None
) -> tuple[Round | None, bool]:
    """The round of a month, generated from the settings if it does not exist yet.

    Returns (round, created). Safe to call from several processes at once: the unique
    (year, month) key lets exactly one insert win; the others get the winner's row.
    (None, False) when the month is not a program month or has no open day, or when
    `not_after` is given and the booking window would already have closed by then.
    """
    existing = db.session.scalar(select(Round).where(Round.year == year, Round.month == month))
    if existing is not None:
        return existing, False
    settings = get_settings()
    if month not in settings.months:
        return None, False
    pattern = Pattern.from_settings(settings)
    day = round_day(pattern, year, month, closed_dates(year, month))
    if day is None:
        return None, False
    opens, closes = booking_window(pattern, day)
    if not_after is not None and closes <= not_after:
        return None, False
    rnd = Round(
        year=year,
        month=month,
        title=_round_title(year, month),
        day=day,
        status=RoundStatus.DRAFT.value,
        booking_opens_at=opens,
        booking_closes_at=closes,
        cancel_hours_before=settings.cancel_hours_before,
        company_cap=settings.company_cap,
    )
    _make_slots(rnd, pattern, day)
    try:
        with db.session.begin_nested():
            db.session.add(rnd)
            db.session.flush()
    except IntegrityError:
        return db.session.scalar(select(Round).where(Round.year == year, Round.month == month)), False
    record(actor=actor, action="round.generate", obj=rnd, after={"year": year, "month": month, "day": day.isoformat()})
    return rnd, True


def _round_title(year: int, month: int) -> str:
    # Stored in Korean, the program's language; pages show it in the viewer's (placeholders.shown).
    return generated_round_title(year, month)


def upcoming_program_months(now: datetime, count: int = 2) -> list[tuple[int, int]]:
    local = now.astimezone(SEOUL)
    return [month_add(local.year, local.month, i) for i in range(count)]


def create_round(*, data: Mapping[str, Any], actor: User) -> Round:
    """A round made by hand (e.g. an extra month or a special day), with slots from the given times."""
    settings = get_settings()
    day: date = data["day"]
    year, month = day.year, day.month
    if db.session.scalar(select(Round.id).where(Round.year == year, Round.month == month)) is not None:
        msg = _("There is already a round in this month.")
        raise Conflict(msg, fields={"day": [msg]})
    pattern = Pattern.from_settings(settings)
    pattern = Pattern(
        **{
            **pattern.__dict__,
            **{k: data[k] for k in ("day_start", "day_end", "slot_minutes", "break_minutes", "booths") if k in data},
        }
    )
    opens = data.get("booking_opens_at") or booking_window(pattern, day)[0]
    closes = data.get("booking_closes_at") or booking_window(pattern, day)[1]
    _check_window(opens, closes, day)
    rnd = Round(
        year=year,
        month=month,
        title=data.get("title") or _round_title(year, month),
        day=day,
        status=RoundStatus.DRAFT.value,
        booking_opens_at=opens,
        booking_closes_at=closes,
        cancel_hours_before=data.get("cancel_hours_before", settings.cancel_hours_before),
        company_cap=data.get("company_cap", settings.company_cap),
        notes=data.get("notes", ""),
    )
    _make_slots(rnd, pattern, day)
    if not rnd.slots:
        raise Invalid(_("These hours leave no room for a single slot."), fields={"day_end": [_("Too short.")]})
    db.session.add(rnd)
    db.session.flush()
    record(actor=actor, action="round.create", obj=rnd, after=round_snapshot(rnd))
    return rnd


def _check_window(opens: datetime, closes: datetime, day: date) -> None:
    if opens >= closes:
        msg = _("Booking must close after it opens.")
        raise Invalid(msg, fields={"booking_closes_at": [msg]})
    if closes > seoul_to_utc(day, time(0, 0)) + timedelta(days=1):
        msg = _("Booking must close before the end of the consultation day.")
        raise Invalid(msg, fields={"booking_closes_at": [msg]})


def round_snapshot(rnd: Round) -> dict[str, Any]:
    return {
        "title": rnd.title,
        "day": rnd.day.isoformat(),
        "status": rnd.status,
        "booking_opens_at": rnd.booking_opens_at.isoformat(),
        "booking_closes_at": rnd.booking_closes_at.isoformat(),
        "cancel_hours_before": rnd.cancel_hours_before,
        "company_cap": rnd.company_cap,
        "notes": rnd.notes,
    }


def update_round(*, rnd: Round, data: Mapping[str, Any], actor: User) -> Round:
    if rnd.status in (RoundStatus.CANCELLED, RoundStatus.FINALIZED):
        raise Conflict(_("This round can no longer be changed."))
    before = round_snapshot(rnd)
    for field in ("title", "booking_opens_at", "booking_closes_at", "cancel_hours_before", "notes"):
        if field in data and data[field] is not None:
            setattr(rnd, field, data[field])
    if "company_cap" in data and data["company_cap"] is not None:
        if data["company_cap"] < rnd.company_cap and _has_bookings(rnd):
            msg = _("The cap cannot be lowered once companies have booked.")
            raise Conflict(msg, fields={"company_cap": [msg]})
        rnd.company_cap = data["company_cap"]
    _check_window(rnd.booking_opens_at, rnd.booking_closes_at, rnd.day)
    db.session.flush()
    record(actor=actor, action="round.update", obj=rnd, before=before, after=round_snapshot(rnd))
    return rnd


def _has_bookings(rnd: Round) -> bool:
    from consultroom.bookings.models import Booking

    return db.session.scalar(select(Booking.id).where(Booking.round_id == rnd.id).limit(1)) is not None


def add_slot(*, rnd: Round, booth: int, start_local: time, minutes: int, actor: User) -> Slot:
    if rnd.status in (RoundStatus.CANCELLED, RoundStatus.FINALIZED, RoundStatus.HELD):
        raise Conflict(_("Slots can no longer be added to this round."))
    if not 1 <= booth <= 50 or not 10 <= minutes <= 240:
        raise Invalid(_("Please correct the marked fields."), fields={"booth": [_("Booth 1 to 50.")]})
    starts = seoul_to_utc(rnd.day, start_local)
    slot = Slot(round_id=rnd.id, booth=booth, starts_at=starts, ends_at=starts + timedelta(minutes=minutes))
    overlapping = db.session.scalar(
        select(Slot.id).where(
            Slot.round_id == rnd.id, Slot.booth == booth, Slot.starts_at < slot.ends_at, Slot.ends_at > starts
        )
    )
    if overlapping is not None:
        msg = _("This booth already has a slot at that time.")
        raise Conflict(msg, fields={"start": [msg]})
    db.session.add(slot)
    db.session.flush()
    record(
        actor=actor,
        action="slot.add",
        obj=slot,
        after={"round_id": rnd.id, "booth": booth, "starts_at": starts.isoformat(), "minutes": minutes},
    )
    return slot


def set_slot_closed(*, slot: Slot, closed: bool, actor: User) -> None:
    from consultroom.bookings.models import Booking

    if closed:
        active = db.session.scalar(
            select(Booking.id).where(Booking.slot_id == slot.id, Booking.status != "cancelled").limit(1)
        )
        if active is not None:
            raise Conflict(_("This slot is booked. Cancel or move the booking first."))
    before = {"closed": slot.closed}
    slot.closed = closed
    record(
        actor=actor, action="slot.close" if closed else "slot.reopen", obj=slot, before=before, after={"closed": closed}
    )


def open_round(*, rnd: Round, actor: User | None = None, now: datetime | None = None) -> bool:
    """draft -> open. True only for the caller whose UPDATE made the change (so one process mails)."""
    now = now or utcnow()
    result = db.session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.status == RoundStatus.DRAFT.value)
        .values(status=RoundStatus.OPEN.value, opened_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(rnd)
    record(actor=actor, action="round.open", obj=rnd, before={"status": "draft"}, after={"status": "open"})
    from consultroom.rounds.notify import announce_open

    announce_open(rnd)
    return True


def close_booking(*, rnd: Round, actor: User | None = None) -> bool:
    result = db.session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.status == RoundStatus.OPEN.value)
        .values(status=RoundStatus.CLOSED.value)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(rnd)
    # The waitlist stays: a booking cancelled while staff match still frees a slot for it.
    record(actor=actor, action="round.close", obj=rnd, before={"status": "open"}, after={"status": "closed"})
    return True


def set_status(*, rnd: Round, status: str, actor: User) -> None:
    """Staff moves a round along its lifecycle by hand (open early, close, mark held, finalize)."""
    allowed = {
        RoundStatus.DRAFT: {RoundStatus.OPEN},
        RoundStatus.OPEN: {RoundStatus.CLOSED},
        RoundStatus.CLOSED: {RoundStatus.OPEN, RoundStatus.HELD},
        RoundStatus.HELD: {RoundStatus.FINALIZED},
    }
    if status not in allowed.get(RoundStatus(rnd.status), set()):
        raise Conflict(_("This round cannot go from %(a)s to %(b)s.", a=rnd.status, b=status))
    if status == RoundStatus.OPEN and rnd.status == RoundStatus.DRAFT:
        open_round(rnd=rnd, actor=actor)
        return
    if status == RoundStatus.CLOSED:
        close_booking(rnd=rnd, actor=actor)
        return
    before = {"status": rnd.status}
    rnd.status = status
    if status == RoundStatus.HELD:
        from consultroom.bookings.services import expire_waitlist

        expire_waitlist(rnd=rnd)
    record(actor=actor, action="round.status", obj=rnd, before=before, after={"status": status})


def rounds_due_to_open(now: datetime) -> list[Round]:
    return list(
        db.session.scalars(
            select(Round)
            .where(
                Round.status == RoundStatus.DRAFT.value, Round.booking_opens_at <= now, Round.booking_closes_at > now
            )
            .order_by(Round.booking_opens_at)
        )
    )


def rounds_due_to_close(now: datetime) -> list[Round]:
    return list(
        db.session.scalars(
            select(Round)
            .where(Round.status == RoundStatus.OPEN.value, Round.booking_closes_at <= now)
            .order_by(Round.booking_closes_at)
        )
    )


def add_closed_date(*, day: date, reason: str, actor: User) -> ClosedDate:
    if db.session.scalar(select(ClosedDate.id).where(ClosedDate.day == day)) is not None:
        msg = _("This date is already closed.")
        raise Conflict(msg, fields={"day": [msg]})
    row = ClosedDate(day=day, reason=reason.strip()[:100])
    db.session.add(row)
    db.session.flush()
    record(actor=actor, action="closed_date.add", obj=row, after={"day": day.isoformat(), "reason": row.reason})
    return row


def remove_closed_date(*, row: ClosedDate, actor: User) -> None:
    record(actor=actor, action="closed_date.remove", obj=row, before={"day": row.day.isoformat()})
    db.session.delete(row)
