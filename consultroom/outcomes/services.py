"""Consultation logs, the outcome pipeline, contracts and hand-kept rates. Flush, never commit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes import rates
from consultroom.outcomes.followups import next_followup_due
from consultroom.outcomes.models import (
    OPEN_STAGES,
    Attendance,
    ConsultationLog,
    Contract,
    ExchangeRate,
    Interest,
    Outcome,
    OutcomeChange,
    Party,
    Stage,
)
from consultroom.outcomes.money import MoneyError, krw_value, normalize_currency, to_minor
from consultroom.timeutil import seoul_date

# Bookings whose consultation can have taken place: a buyer was proposed or confirmed, or it is logged.
LOGGABLE = (
    BookingStatus.MATCHED.value,
    BookingStatus.CONFIRMED.value,
    BookingStatus.HELD.value,
    BookingStatus.NO_SHOW.value,
)
STAGE_ORDER = {s: i for i, s in enumerate(OPEN_STAGES)}
MAX_MINOR = 10**18  # amounts and KRW values stay inside a signed 64-bit column


def consultation_day(booking: Booking) -> date:
    return seoul_date(booking.starts_at)


def refresh_followup_due(outcome: Outcome, booking: Booking) -> None:
    """Keep outcome.followup_due_on in step with its stage and last update (call after changing either)."""
    if outcome.stage in OPEN_STAGES:
        outcome.followup_due_on = next_followup_due(consultation_day(booking), seoul_date(outcome.last_update_at))
    else:
        outcome.followup_due_on = None


# --- consultation log ----------------------------------------------------------------------------

LOG_FIELDS = (
    "attendance",
    "absent_party",
    "buyer_interest",
    "products_discussed",
    "samples_requested",
    "samples_text",
    "next_action",
    "next_action_on",
    "notes",
)


def log_snapshot(log: ConsultationLog | None) -> dict[str, Any]:
    if log is None:
        return {}
    values = {name: getattr(log, name) for name in LOG_FIELDS}
    values["next_action_on"] = log.next_action_on.isoformat() if log.next_action_on else None
    return values


def _clean_log(data: dict[str, Any], booking: Booking) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    attendance = data.get("attendance")
    if attendance not in {a.value for a in Attendance}:
        errors["attendance"] = [_("Choose whether the consultation was held.")]
    party = data.get("absent_party") or None
    if attendance == Attendance.NO_SHOW:
        if party not in {p.value for p in Party}:
            errors["absent_party"] = [_("Choose who did not attend.")]
    else:
        party = None
    interest = data.get("buyer_interest") or Interest.NONE.value
    if interest not in {i.value for i in Interest}:
        errors["buyer_interest"] = [_("Choose the buyer's interest.")]
    next_on = data.get("next_action_on")
    if next_on is not None and next_on < consultation_day(booking):
        errors["next_action_on"] = [_("The next action cannot be before the consultation.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    samples = bool(data.get("samples_requested"))
    return {
        "attendance": attendance,
        "absent_party": party,
        "buyer_interest": interest if attendance == Attendance.HELD else Interest.NONE.value,
        "products_discussed": (data.get("products_discussed") or "").strip(),
        "samples_requested": samples,
        "samples_text": (data.get("samples_text") or "").strip() if samples else "",
        "next_action": (data.get("next_action") or "").strip()[:300],
        "next_action_on": next_on,
        "notes": (data.get("notes") or "").strip(),
    }


def record_log(
    *,
    booking: Booking,
    data: dict[str, Any],
    actor: User | None,
    now: datetime,
    interpreter: Interpreter | None = None,
) -> ConsultationLog:
    """Write or correct the log of a consultation that has started; sets the booking held or no_show.

    `actor` is a staff member or the interpreter's account; an interpreter who came by the portal
    link has none, and is named by `interpreter` (issue 13, item 7): the same rules apply.
    """
    by_link = actor is None
    if by_link and (interpreter is None or booking.interpreter_id != interpreter.id or not interpreter.active):
        raise NotAllowed(_("Only the consultation's interpreter can write its log here."))
    if booking.status not in LOGGABLE:
        raise Conflict(_("Only a matched or confirmed consultation can be logged."))
    if now < booking.starts_at:
        raise Conflict(_("The consultation has not started yet; write the log after it."))
    clean = _clean_log(data, booking)
    log = db.session.scalar(select(ConsultationLog).where(ConsultationLog.booking_id == booking.id))
    before = log_snapshot(log)
    outcome = outcome_for(booking)
    if clean["attendance"] == Attendance.NO_SHOW and outcome is not None:
        if outcome.contracts or len(outcome.changes) > 1:
            raise Conflict(_("This consultation already has outcome updates; it cannot become a no-show."))
        record(actor=actor, action="outcome.delete", obj=outcome, before={"stage": outcome.stage}, after={})
        db.session.delete(outcome)
    if log is None:
        log = ConsultationLog(
            booking_id=booking.id,
            recorded_by_id=actor.id if actor is not None else None,
            recorded_by_interpreter_id=interpreter.id if actor is None else None,
            recorded_at=now,
            **clean,
        )
        db.session.add(log)
    else:
        for name, value in clean.items():
            setattr(log, name, value)
        log.updated_at = now
    db.session.flush()
    after = log_snapshot(log)
    if actor is None:
        after["by_interpreter_id"] = interpreter.id  # who wrote it, when no account did
    record(actor=actor, action="consultation_log.save", obj=log, before=before or None, after=after)
    status = BookingStatus.HELD.value if clean["attendance"] == Attendance.HELD else BookingStatus.NO_SHOW.value
    if booking.status != status:
        before_status = {"status": booking.status}
        record(actor=actor, action="booking.status", obj=booking, before=before_status, after={"status": status})
        booking.status = status
    if status == BookingStatus.HELD and outcome_for(booking) is None:
        _start_outcome(booking=booking, actor=actor, now=now)
    db.session.flush()
    return log


# --- outcomes ------------------------------------------------------------------------------------


def outcome_for(booking: Booking) -> Outcome | None:
    return db.session.scalar(select(Outcome).where(Outcome.booking_id == booking.id))


def _start_outcome(*, booking: Booking, actor: User | None, now: datetime) -> Outcome:
    day = consultation_day(booking)
    outcome = Outcome(booking_id=booking.id, stage=Stage.FOLLOW_UP.value, stage_on=day, last_update_at=now)
    refresh_followup_due(outcome, booking)
    outcome.changes.append(
        OutcomeChange(
            changed_on=day, actor_id=actor.id if actor is not None else None, from_stage=None, to_stage=outcome.stage
        )
    )
    db.session.add(outcome)
    db.session.flush()
    record(actor=actor, action="outcome.start", obj=outcome, before=None, after={"stage": outcome.stage})
    return outcome


def allowed_next(stage: str) -> list[str]:
    """Stages an open outcome may move to by hand: any later open stage, or dropped. Contracted comes
    with a contract (record_contract), so every contracted outcome has its amounts."""
    if stage not in STAGE_ORDER:
        return []
    later = [s for s in OPEN_STAGES if STAGE_ORDER[s] > STAGE_ORDER[stage]]
    return [*later, Stage.DROPPED.value]


def _check_change_day(outcome: Outcome, on: date, now: datetime, field: str = "changed_on") -> None:
    if on > seoul_date(now):
        message = _("The date cannot be in the future.")
    elif on < consultation_day(outcome.booking):
        message = _("The date cannot be before the consultation.")
    elif on < outcome.stage_on:
        message = _("The date cannot be before the last change (%(day)s).", day=outcome.stage_on.isoformat())
    else:
        return
    raise Invalid(message, fields={field: [message]})


def _move(*, outcome: Outcome, to_stage: str, on: date, note: str, actor: User, now: datetime, action: str) -> None:
    before = {"stage": outcome.stage, "stage_on": outcome.stage_on.isoformat()}
    outcome.changes.append(
        OutcomeChange(
            changed_on=on, actor_id=actor.id, from_stage=outcome.stage, to_stage=to_stage, note=note.strip(), at=now
        )
    )
    outcome.stage = to_stage
    outcome.stage_on = on
    outcome.last_update_at = now
    refresh_followup_due(outcome, outcome.booking)
    db.session.flush()
    after = {"stage": to_stage, "stage_on": on.isoformat(), "note": note.strip()}
    record(actor=actor, action=action, obj=outcome, before={**before, "note": None}, after=after)


def change_stage(*, outcome: Outcome, to_stage: str, on: date, note: str, actor: User, now: datetime) -> Outcome:
    if not outcome.is_open:
        raise Conflict(_("This outcome is closed; only staff can reopen it."))
    if to_stage not in allowed_next(outcome.stage):
        message = _("This outcome cannot move to that stage from here.")
        raise Invalid(message, fields={"stage": [message]})
    _check_change_day(outcome, on, now)
    _move(outcome=outcome, to_stage=to_stage, on=on, note=note, actor=actor, now=now, action="outcome.stage")
    return outcome


def reopen(*, outcome: Outcome, to_stage: str, on: date, note: str, actor: User, now: datetime) -> Outcome:
    """Staff put a contracted or dropped outcome back to an open stage (contracts stay recorded)."""
    if outcome.is_open:
        raise Conflict(_("This outcome is already open."))
    if to_stage not in OPEN_STAGES:
        message = _("Choose an open stage.")
        raise Invalid(message, fields={"stage": [message]})
    if not note.strip():
        message = _("Say why the outcome is reopened.")
        raise Invalid(message, fields={"note": [message]})
    _check_change_day(outcome, on, now)
    _move(outcome=outcome, to_stage=to_stage, on=on, note=note, actor=actor, now=now, action="outcome.reopen")
    return outcome


def amount_errors(exc: MoneyError, currency: str) -> str:
    if exc.code == "decimals":
        if exc.exponent == 0:
            return _("%(currency)s has no decimals; enter a whole amount.", currency=currency)
        return _("%(currency)s allows at most %(n)d decimals.", currency=currency, n=exc.exponent)
    if exc.code == "positive":
        return _("The amount must be more than zero.")
    return _("Enter an amount, e.g. 12345.67.")


def _clean_contract(
    *, outcome: Outcome, currency: str, amount: str | Decimal, signed_on: date, now: datetime
) -> tuple[str, int, rates.Rate, int]:
    """(currency, amount in minor units, the signing date's rate, KRW value), or Invalid naming every bad field."""
    errors: dict[str, list[str]] = {}
    code = ""
    minor = 0
    try:
        code = normalize_currency(currency)
    except MoneyError:
        errors["currency"] = [rates.currency_error()]
    if code:
        try:
            minor = to_minor(amount, code)
        except MoneyError as exc:
            errors["amount"] = [amount_errors(exc, code)]
    if signed_on > seoul_date(now):
        errors["signed_on"] = [_("The date cannot be in the future.")]
    elif signed_on < consultation_day(outcome.booking):
        errors["signed_on"] = [_("The date cannot be before the consultation.")]
    if minor >= MAX_MINOR:
        errors["amount"] = [_("The amount is too large.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    rate = rates.rate_for(currency=code, day=signed_on)
    value = krw_value(amount_minor=minor, currency=code, krw_per_unit=rate.krw_per_unit)
    if value >= MAX_MINOR:
        message = _("The amount is too large.")
        raise Invalid(message, fields={"amount": [message]})
    return code, minor, rate, value


def contract_snapshot(contract: Contract) -> dict[str, Any]:
    return {
        "outcome_id": contract.outcome_id,
        "currency": contract.currency,
        "amount": str(contract.amount),
        "signed_on": contract.signed_on.isoformat(),
        "items": contract.items,
        "krw_value": contract.krw_value,
        "rate_day": contract.rate_day.isoformat(),
        "rate": str(Decimal(contract.rate).quantize(Decimal("0.000001"))),
    }


def record_contract(
    *,
    outcome: Outcome,
    currency: str,
    amount: str | Decimal,
    signed_on: date,
    items: str,
    actor: User,
    now: datetime,
) -> Contract:
    """A contract with its KRW value at the signing date's rate; the outcome becomes contracted."""
    if outcome.stage == Stage.DROPPED:
        raise Conflict(_("This outcome was dropped; staff must reopen it before a contract is recorded."))
    code, minor, rate, value = _clean_contract(
        outcome=outcome, currency=currency, amount=amount, signed_on=signed_on, now=now
    )
    contract = Contract(
        outcome_id=outcome.id,
        currency=code,
        amount_minor=minor,
        signed_on=signed_on,
        items=(items or "").strip(),
        krw_value=value,
        rate_day=rate.day,
        rate=rate.krw_per_unit,
        created_by_id=actor.id,
        created_at=now,
    )
    outcome.contracts.append(contract)
    db.session.flush()
    after = contract_snapshot(contract)
    del after["items"]  # personal data at times (names, addresses): read on the page, not copied here
    record(actor=actor, action="contract.create", obj=contract, before=None, after=after)
    if outcome.stage != Stage.CONTRACTED:
        on = max(signed_on, outcome.stage_on)
        _move(
            outcome=outcome,
            to_stage=Stage.CONTRACTED.value,
            on=on,
            note=items or "",
            actor=actor,
            now=now,
            action="outcome.stage",
        )
    else:
        outcome.last_update_at = now
        refresh_followup_due(outcome, outcome.booking)
    return contract


def correct_contract(
    *,
    contract: Contract,
    currency: str,
    amount: str | Decimal,
    signed_on: date,
    items: str,
    reason: str,
    actor: User,
    now: datetime,
) -> Contract:
    """Staff correct a recorded contract (issue 15 item 7); the KRW value follows the new amount and date,
    and the audit log keeps the old values with the reason."""
    if contract.is_withdrawn:
        raise Conflict(_("This contract was withdrawn; it can no longer be corrected."))
    outcome = contract.outcome
    why = (reason or "").strip()[:2000]
    try:
        code, minor, rate, value = _clean_contract(
            outcome=outcome, currency=currency, amount=amount, signed_on=signed_on, now=now
        )
    except Invalid as exc:
        if not why:  # every error in one pass, the missing reason with the rest
            exc.fields["reason"] = [_("Say why the contract is corrected.")]
        raise
    if not why:
        message = _("Say why the contract is corrected.")
        raise Invalid(message, fields={"reason": [message]})
    before = contract_snapshot(contract)
    new_items = (items or "").strip()
    unchanged = (code, minor, signed_on, new_items, value, rate.day) == (
        contract.currency,
        contract.amount_minor,
        contract.signed_on,
        contract.items,
        contract.krw_value,
        contract.rate_day,
    )
    if unchanged:
        message = _("Nothing was changed: change a field to correct the contract.")
        raise Invalid(message, fields={"amount": [message]})
    contract.currency, contract.amount_minor, contract.signed_on, contract.items = code, minor, signed_on, new_items
    contract.krw_value, contract.rate_day, contract.rate = value, rate.day, rate.krw_per_unit
    outcome.last_update_at = now
    db.session.flush()
    after = contract_snapshot(contract)
    # The items are at times personal data (names, addresses): the log says that they changed, not what.
    items_changed = before.pop("items") != after.pop("items")
    after["items_changed"] = items_changed or None
    after["reason"] = why
    record(actor=actor, action="contract.correct", obj=contract, before={**before, "reason": None}, after=after)
    return contract


def stage_before_contract(outcome: Outcome) -> str:
    """The open stage the outcome was in when it became contracted (negotiating if history says none)."""
    for change in reversed(outcome.changes):
        if change.to_stage == Stage.CONTRACTED and change.from_stage in OPEN_STAGES:
            return change.from_stage
    return Stage.NEGOTIATING.value


def withdraw_contract(*, contract: Contract, reason: str, actor: User, now: datetime) -> Contract:
    """Staff withdraw a contract (recorded by mistake, or cancelled). It stays listed, marked withdrawn;
    it leaves the outcome's total and the report, and an outcome left with no contract goes back to
    the stage it was in before it was contracted."""
    if contract.is_withdrawn:
        raise Conflict(_("This contract is already withdrawn."))
    why = (reason or "").strip()[:2000]
    if not why:
        message = _("Say why the contract is withdrawn.")
        raise Invalid(message, fields={"reason": [message]})
    outcome = contract.outcome
    contract.withdrawn_at, contract.withdrawn_by_id, contract.withdrawal_reason = now, actor.id, why
    outcome.last_update_at = now
    db.session.flush()
    record(
        actor=actor,
        action="contract.withdraw",
        obj=contract,
        before={"withdrawn": False, "reason": None},
        after={"withdrawn": True, "reason": why, "krw_value": contract.krw_value, "currency": contract.currency},
    )
    if outcome.stage == Stage.CONTRACTED and not outcome.active_contracts:
        _move(
            outcome=outcome,
            to_stage=stage_before_contract(outcome),
            on=max(seoul_date(now), outcome.stage_on),
            note=why,
            actor=actor,
            now=now,
            action="outcome.stage",
        )
    return contract


def contracts_total_krw(outcome: Outcome) -> int:
    return sum(c.krw_value for c in outcome.active_contracts)


# --- follow-up milestones ------------------------------------------------------------------------


# --- hand-kept rates -----------------------------------------------------------------------------


def rate_snapshot(rate: ExchangeRate | None) -> dict[str, Any]:
    if rate is None:
        return {}
    value = Decimal(rate.krw_per_unit).quantize(Decimal("0.000001"))
    return {"currency": rate.currency, "day": rate.day.isoformat(), "krw_per_unit": str(value)}


def save_rate(
    *, rate: ExchangeRate | None, currency: str, day: date, krw_per_unit: str | Decimal, actor: User
) -> ExchangeRate:
    code, value = rates.clean_rate_fields(currency=currency, rate=krw_per_unit)
    clash = db.session.scalar(select(ExchangeRate).where(ExchangeRate.currency == code, ExchangeRate.day == day))
    if clash is not None and clash is not rate:
        message = _("There is already a %(currency)s rate for %(day)s.", currency=code, day=day.isoformat())
        raise Conflict(message, fields={"day": [message]})
    before = rate_snapshot(rate)
    if rate is None:
        rate = ExchangeRate(currency=code, day=day, krw_per_unit=value, updated_by_id=actor.id)
        db.session.add(rate)
    else:
        rate.currency, rate.day, rate.krw_per_unit, rate.updated_by_id = code, day, value, actor.id
    db.session.flush()
    record(
        actor=actor,
        action="exchange_rate.update" if before else "exchange_rate.create",
        obj=rate,
        before=before or None,
        after=rate_snapshot(rate),
    )
    return rate


def followup_window() -> timedelta:
    """A follow-up missed by more than this (scheduler down, outcome logged late) is not sent any more."""
    return timedelta(days=31)
