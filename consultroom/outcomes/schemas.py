"""Consultation logs, outcomes, contracts and exchange rates as the API takes and shows them.

Money is exact: KRW values are integers (whole won); amounts and rates are strings, so no client reads
them through a float. What depends on the rules (the next stages, totals) comes in the row that
api/outcome_serializers builds; these schemas only write and document it."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from consultroom.outcomes.money import exponent
from consultroom.schemas import (
    DECIMAL_TEXT,
    PERSONAL,
    Day,
    Decimal6,
    InSchema,
    OutSchema,
    PageArgs,
    StrictBool,
    Text,
    UtcDateTime,
    page_of,
    required_by_rules,
)

STAGES = ["follow_up", "sample_sent", "negotiating", "contracted", "dropped"]
_KRW = {"minimum": 0, "description": "Whole won."}
SHORT_MAX = 100  # currency codes, amounts and choices: the service checks what they say


class ConsultationLogSchema(OutSchema):
    attendance = fields.String(metadata={"enum": ["held", "no_show"]})
    absent_party = fields.String(allow_none=True, metadata={"enum": ["company", "buyer", "interpreter", None]})
    buyer_interest = fields.String(metadata={"enum": ["none", "low", "medium", "high"]})
    products_discussed = fields.String()
    samples_requested = fields.Boolean()
    samples_text = fields.String()
    next_action = fields.String()
    next_action_on = fields.Date(allow_none=True)
    notes = fields.String(metadata=PERSONAL)
    recorded_at = UtcDateTime()
    updated_at = UtcDateTime()


class ConsultationLogInputSchema(InSchema):
    """The whole log: fields left out are saved empty. The log form's limits; the service checks the
    choices."""

    attendance = required_by_rules(Text(SHORT_MAX, metadata={"enum": ["held", "no_show"]}))
    absent_party = Text(
        SHORT_MAX,
        metadata={"description": "Who did not attend (company, buyer, interpreter); required for a no-show."},
    )
    buyer_interest = Text(SHORT_MAX, metadata={"description": "none, low, medium or high."})
    products_discussed = Text(5000)
    samples_requested = StrictBool(allow_none=True)
    samples_text = Text(2000)
    next_action = Text(300)
    next_action_on = Day()
    notes = Text(10000, metadata=PERSONAL)


class ContractSchema(OutSchema):
    id = fields.Integer()
    currency = fields.String(metadata={"pattern": "^[A-Z]{3}$"})
    amount = fields.Method(
        "_amount", metadata={**DECIMAL_TEXT, "description": "With the currency's own number of decimals."}
    )
    signed_on = fields.Date()
    items = fields.String()
    krw_value = fields.Integer(metadata={**_KRW, "description": "amount x rate, rounded half-up to whole won."})
    rate = Decimal6(metadata={**DECIMAL_TEXT, "description": "KRW per unit used, 6 decimals."})
    rate_day = fields.Date(metadata={"description": "The day of that rate (the signing day or the latest before)."})
    created_at = UtcDateTime()

    def _amount(self, contract: Any) -> str:
        """The amount with exactly the currency's decimals (12345.60 USD, 5000000 KRW)."""
        return f"{contract.amount:.{exponent(contract.currency)}f}"


class ContractInputSchema(InSchema):
    amount = Text(SHORT_MAX, required=True, metadata={"description": "A decimal string, e.g. 12345.67."})
    currency = Text(SHORT_MAX, required=True, metadata={"description": "ISO 4217 code, e.g. USD."})
    signed_on = Day(required=True)
    items = Text(5000)


class StageInputSchema(InSchema):
    to = Text(
        SHORT_MAX,
        required=True,
        metadata={"enum": STAGES, "description": "A later open stage, or dropped (contracted comes with a contract)."},
    )
    on = Day(required=True, metadata={"description": "The date of the change."})
    note = Text(2000, metadata=PERSONAL)


class StageChangeSchema(OutSchema):
    inline = True
    changed_on = fields.Date()
    from_stage = fields.String(allow_none=True, metadata={"enum": [*STAGES, None]})
    to_stage = fields.String(metadata={"enum": STAGES})
    note = fields.String(metadata=PERSONAL)
    at = UtcDateTime()


class OutcomeSchema(OutSchema):
    """Dumps a row of api.outcome_serializers.outcome_row."""

    stage = fields.String(attribute="outcome.stage", metadata={"enum": STAGES})
    stage_on = fields.Date(attribute="outcome.stage_on")
    is_open = fields.Boolean(attribute="outcome.is_open")
    allowed_next = fields.List(fields.String(metadata={"enum": STAGES}))
    last_update_at = UtcDateTime(attribute="outcome.last_update_at")
    history = fields.List(fields.Nested(StageChangeSchema), attribute="outcome.changes")
    # A withdrawn contract (issue 15 item 7) is kept for the history but counts nowhere.
    contracts = fields.List(fields.Nested(ContractSchema), attribute="outcome.active_contracts")
    contracts_total_krw = fields.Integer(metadata=_KRW)


class ConsultationSchema(OutSchema):
    """`outcome` is null when there is none yet and also for the interpreter, who sees the log only
    (`outcome_visible` says which)."""

    booking_id = fields.Integer(attribute="booking.id")
    round_id = fields.Integer(attribute="booking.round_id")
    company_id = fields.Integer(attribute="booking.company_id")
    status = fields.String(attribute="booking.status")
    starts_at = UtcDateTime(attribute="booking.starts_at")
    ends_at = UtcDateTime(attribute="booking.ends_at")
    log = fields.Nested(ConsultationLogSchema, allow_none=True)
    outcome_visible = fields.Boolean(metadata={"description": "False for the interpreter: the log only."})
    outcome = fields.Nested(OutcomeSchema, allow_none=True)


class RateSchema(OutSchema):
    id = fields.Integer()
    currency = fields.String(metadata={"pattern": "^[A-Z]{3}$"})
    day = fields.Date()
    krw_per_unit = Decimal6(metadata={**DECIMAL_TEXT, "description": "Won for one unit, 6 decimals."})
    updated_at = UtcDateTime()


class RateInputSchema(InSchema):
    krw_per_unit = Text(SHORT_MAX, required=True, metadata={"description": "Won per unit, e.g. 1387.25."})


RateListSchema = page_of(RateSchema)


class RateListArgs(PageArgs):
    # As the rates page reads it: upper-cased, three letters (the view cuts it).
    currency = Text(10, metadata={"description": "Only this currency (ISO 4217)."})
    from_ = Day(data_key="from", metadata={"description": "From this day."})
    to = Day(metadata={"description": "Up to this day, included."})
