"""Test data: factory_boy factories, one module per domain, and the thin make_* helpers the tests
call. Rows go in through the services where the app's rules make the state (bookings, logs,
contracts, survey answers), directly where no rule applies."""

from tests.factories.accounts import PASSWORD, UserFactory, make_user
from tests.factories.bookings import BookingFactory, BookingRowFactory, make_booking
from tests.factories.buyers import BuyerFactory, make_buyer
from tests.factories.companies import CompanyFactory, make_company, make_sme_with_company, valid_business_number
from tests.factories.interpreters import WORKDAYS, InterpreterFactory, make_interpreter
from tests.factories.matching import accept_both, greedy_trap, propose
from tests.factories.outcomes import (
    ConsultationLogFactory,
    ContractFactory,
    ExchangeRateFactory,
    make_consultation,
    make_rate,
)
from tests.factories.privacy import PastYear, at, backdate, build_past_year, upcoming_consultation
from tests.factories.rounds import RoundFactory, SlotFactory, make_round, past_round
from tests.factories.surveys import SurveyInvitationFactory, SurveyQuestionFactory, survey

__all__ = [
    "PASSWORD",
    "WORKDAYS",
    "BookingFactory",
    "BookingRowFactory",
    "BuyerFactory",
    "CompanyFactory",
    "ConsultationLogFactory",
    "ContractFactory",
    "ExchangeRateFactory",
    "InterpreterFactory",
    "PastYear",
    "RoundFactory",
    "SlotFactory",
    "SurveyInvitationFactory",
    "SurveyQuestionFactory",
    "UserFactory",
    "accept_both",
    "at",
    "backdate",
    "build_past_year",
    "greedy_trap",
    "make_booking",
    "make_buyer",
    "make_company",
    "make_consultation",
    "make_interpreter",
    "make_rate",
    "make_round",
    "make_sme_with_company",
    "make_user",
    "past_round",
    "propose",
    "survey",
    "upcoming_consultation",
    "valid_business_number",
]
