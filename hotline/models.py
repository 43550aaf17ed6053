"""Import every model so the metadata is complete (Alembic and the tests use it)."""

from hotline.audit.models import AuditEntry
from hotline.auth.models import ApiToken, User
from hotline.calls.models import Call, ContactReason, CtiEvent
from hotline.letters.models import Reply
from hotline.municipalities.models import Municipality, PostalCode
from hotline.reports.models import CostRate
from hotline.rules.models import Rule, RuleVersion

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Call",
    "ContactReason",
    "CostRate",
    "CtiEvent",
    "Municipality",
    "PostalCode",
    "Reply",
    "Rule",
    "RuleVersion",
    "User",
]
