"""Every model and every ORM listener of the product, in one place.

Importing it makes the metadata complete (Alembic and the tests use it). Importing switches no
listener on: each process's entry point calls install_listeners() (the app's factory, the
`hotline` command, the tests, the migrations, the benchmarks), and db.make_sessionmaker refuses
to make sessions before it did.
"""

from hotline import db
from hotline.audit import models as audit_models
from hotline.audit.models import AuditEntry
from hotline.auth import token_cache
from hotline.auth.models import ApiToken, LoginFailure, User
from hotline.calls import events as calls_events
from hotline.calls.models import (
    AgentStatus,
    Call,
    Callback,
    ContactReason,
    CtiEvent,
    CtiIntegration,
)
from hotline.insight.models import RuleConsultation, RuleSearch, SurveyInvite
from hotline.letters import models as letters_models
from hotline.letters.models import Reply
from hotline.monthly.models import MonthlyMail
from hotline.municipalities.models import (
    Municipality,
    PostalCode,
    ServiceHours,
    ServiceHoursException,
)
from hotline.reports import rollup
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

# db's own first: its before_commit writes (write_at_commit) come before the roll-up's cells.
LISTENERS = (
    *db.LISTENERS,
    *rollup.LISTENERS,  # the roll-ups of finished calls
    *calls_events.LISTENERS,  # the calls change feed, published on commit
    *audit_models.LISTENERS,  # the audit log is append-only
    *letters_models.LISTENERS,  # a reply is immutable but for its delivery
    *token_cache.LISTENERS,  # the API tokens' owners, forgotten when users or tokens change
)


def install_listeners() -> None:
    """Switch every ORM listener of the product on in this process (again: no change)."""
    db.install_listeners(LISTENERS)
