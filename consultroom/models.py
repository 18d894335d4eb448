"""Imports every model so metadata (and Alembic autogenerate) sees all tables."""

from consultroom.accounts.models import ApiToken, LoginSession, User  # noqa: F401
from consultroom.audit.models import AuditEntry  # noqa: F401
from consultroom.bookings.models import Booking, ReminderSent, WaitlistEntry  # noqa: F401
from consultroom.buyers.models import Buyer, BuyerImportBatch, BuyerInterest, BuyerLanguage  # noqa: F401
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage  # noqa: F401
from consultroom.exports.models import ExportFile  # noqa: F401
from consultroom.interpreters.models import (  # noqa: F401
    Interpreter,
    InterpreterException,
    InterpreterHours,
    InterpreterImportBatch,
    InterpreterLanguage,
)
from consultroom.matching.models import MatchWeight, ProposalLine, RoundProposal  # noqa: F401
from consultroom.notifications.models import OutboxMail  # noqa: F401
from consultroom.outcomes.models import (  # noqa: F401
    ConsultationLog,
    Contract,
    ExchangeRate,
    FollowUpSent,
    Outcome,
    OutcomeChange,
)
from consultroom.privacy.models import (  # noqa: F401
    Anonymisation,
    ConsentRecord,
    ErasureRequest,
    PersonalDataAccess,
    RetentionRule,
)
from consultroom.reports.models import ConsultationFact, ReportTarget  # noqa: F401
from consultroom.rounds.models import ClosedDate, Round, RoundSettings, Slot  # noqa: F401
from consultroom.scheduler.models import JobRun  # noqa: F401
from consultroom.surveys.models import (  # noqa: F401
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyVersion,
)
