"""Scoring weights as admin settings: rows override the `Weights` defaults, one row per weight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.matching.models import MatchWeight
from consultroom.matching.scoring import Weights
from consultroom.rounds.models import RoundSettings

# Interpreter policy: on every consultation (the program's promise, the default) or only without a
# common language. Kept with the program settings (round_settings), read by matching.
ALWAYS, NEEDED = "always", "needed"
POLICIES = (ALWAYS, NEEDED)

WEIGHT_MIN, WEIGHT_MAX = -100, 100
WEIGHT_NAMES = tuple(f.name for f in fields(Weights))


def get_weights() -> Weights:
    """The weights in force: one query; names no longer in `Weights` are ignored."""
    rows = db.session.scalars(select(MatchWeight)).all()
    overrides = {row.name: row.value for row in rows if row.name in WEIGHT_NAMES}
    return replace(Weights(), **overrides)


def clean_weights(data: Mapping[str, Any]) -> dict[str, int]:
    """Every weight must be given as a whole number in range; Invalid names each bad field."""
    clean: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for name in WEIGHT_NAMES:
        raw = data.get(name)
        if isinstance(raw, str):
            raw = raw.strip()
        try:
            if isinstance(raw, bool) or raw is None or raw == "":
                raise ValueError
            value = int(raw)
            if isinstance(raw, float) and raw != value:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not WEIGHT_MIN <= value <= WEIGHT_MAX:
            errors[name] = [_("Use a number from %(low)d to %(high)d.", low=WEIGHT_MIN, high=WEIGHT_MAX)]
            continue
        clean[name] = value
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


def update_weights(*, data: Mapping[str, Any], actor: User) -> Weights:
    clean = clean_weights(data)
    before = asdict(get_weights())
    rows = {row.name: row for row in db.session.scalars(select(MatchWeight))}
    for name, value in clean.items():
        row = rows.get(name)
        if row is None:
            db.session.add(MatchWeight(name=name, value=value, updated_by_id=actor.id))
        elif row.value != value:
            row.value = value
            row.updated_by_id = actor.id
    db.session.flush()
    weights = replace(Weights(), **clean)
    after = asdict(weights)
    if before != after:
        # The audit log wants an object with an id; the settings are one logical object.
        record(actor=actor, action="matching.weights_updated", obj=_WeightsRef(), before=before, after=after)
    return weights


class _WeightsRef:
    __tablename__ = "match_weights"
    id = None


def get_interpreter_policy() -> str:
    """The policy in force: one query; the default while no settings row exists."""
    value = db.session.scalar(select(RoundSettings.interpreter_policy).where(RoundSettings.id == 1))
    return value if value in POLICIES else ALWAYS


def set_interpreter_policy(*, policy: str, actor: User) -> str:
    if policy not in POLICIES:
        message = _("Choose one of the listed policies.")
        raise Invalid(message, fields={"interpreter_policy": [message]})
    settings = db.session.get(RoundSettings, 1)
    if settings is None:
        settings = RoundSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    before = settings.interpreter_policy or ALWAYS
    settings.interpreter_policy = policy
    db.session.flush()
    if before != policy:
        record(
            actor=actor,
            action="matching.interpreter_policy_updated",
            obj=settings,
            before={"interpreter_policy": before},
            after={"interpreter_policy": policy},
        )
    return policy
