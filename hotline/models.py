"""Import every model so the metadata is complete (Alembic and the tests use it)."""

from hotline.audit.models import AuditEntry
from hotline.auth.models import ApiToken, LoginFailure, User
from hotline.calls.models import (
    AgentStatus,
    Call,
    Callback,
    ContactReason,
    CtiEvent,
    CtiIntegration,
)
from hotline.insight.models import RuleConsultation, RuleSearch, SurveyInvite
from hotline.letters.models import Reply
from hotline.monthly.models import MonthlyMail
from hotline.municipalities.models import (
    Municipality,
    PostalCode,
    ServiceHours,
    ServiceHoursException,
)
from hotline.reports import rollup  # noqa: F401  (registers the roll-up's flush listener)
from hotline.reports.models import CostRate
from hotline.reports.rollup_models import (
    CallDayReason,
    CallDayStats,
    CallMonthReason,
    CallMonthStats,
)
from hotline.rules.models import Rule, RuleSearchDocument, RuleVersion, SearchSynonym

__all__ = [
    "AgentStatus",
    "ApiToken",
    "AuditEntry",
    "Call",
    "Callback",
    "CallDayReason",
    "CallDayStats",
    "CallMonthReason",
    "CallMonthStats",
    "ContactReason",
    "LoginFailure",
    "CostRate",
    "CtiEvent",
    "CtiIntegration",
    "MonthlyMail",
    "Municipality",
    "PostalCode",
    "ServiceHours",
    "ServiceHoursException",
    "Reply",
    "RuleConsultation",
    "RuleSearch",
    "RuleSearchDocument",
    "SearchSynonym",
    "SurveyInvite",
    "Rule",
    "RuleVersion",
    "User",
]
