"""Every action the audit log records and every kind of thing it records one about, with labels.

record_change refuses a name that is not listed here, and each name has a Danish label in
locale/da/audit.toml (tests/test_audit_registry.py checks both against the code's call sites).
"""

from enum import StrEnum

from hotline.i18n import catalogue, t


class AuditAction(StrEnum):
    """What was done."""

    API_TOKEN_CREATE = "api_token.create"
    API_TOKEN_REVOKE = "api_token.revoke"
    ARCHIVE_PURGE = "archive.purge"
    CALL_LOST = "call.lost"
    CALLBACK_CREATE = "callback.create"
    CALLBACK_DONE = "callback.done"
    CALLBACKS_PURGE = "callbacks.purge"
    CALLS_PURGE = "calls.purge"
    CONTACT_REASON_CREATE = "contact_reason.create"
    CONTACT_REASON_DEACTIVATE = "contact_reason.deactivate"
    CONTACT_REASON_DELETE = "contact_reason.delete"
    CONTACT_REASON_REACTIVATE = "contact_reason.reactivate"
    CONTACT_REASON_RENAME = "contact_reason.rename"
    CONTACT_REASON_REORDER = "contact_reason.reorder"
    COST_RATE_CREATE = "cost_rate.create"
    COST_RATE_DELETE = "cost_rate.delete"
    COST_RATE_UPDATE = "cost_rate.update"
    CTI_INTEGRATION_CREATE = "cti_integration.create"
    CTI_INTEGRATION_REVOKE = "cti_integration.revoke"
    CTI_INTEGRATION_ROTATE = "cti_integration.rotate"
    ESSENTIALS_LOAD = "essentials.load"
    ESSENTIALS_UPDATE = "essentials.update"
    PRIVACY_ACCESS_EXPORT = "privacy.access_export"
    RULE_DRAFT_DISCARD = "rule.draft.discard"
    RULE_DRAFT_SAVE = "rule.draft.save"
    RULE_RESTORE = "rule.restore"
    RULE_REVIEW = "rule.review"
    RULE_SAVE = "rule.save"
    RULE_FLAG_CLOSE = "rule_flag.close"
    RULE_FLAG_CREATE = "rule_flag.create"
    RULE_SEARCHES_DELETE = "rule_searches.delete"
    RULE_SEARCHES_PURGE = "rule_searches.purge"
    SURVEY_CLASSIFY = "survey.classify"
    SURVEY_COMMENTS_PURGE = "survey_comments.purge"
    SYNONYMS_ADD = "synonyms.add"
    SYNONYMS_DELETE = "synonyms.delete"
    USER_CREATE = "user.create"
    USER_DEACTIVATE = "user.deactivate"
    USER_LOGOUT_EVERYWHERE = "user.logout_everywhere"
    USER_REACTIVATE = "user.reactivate"
    USER_SET_PASSWORD = "user.set_password"
    USER_UPDATE = "user.update"


class AuditSubject(StrEnum):
    """What kind of thing it was done to (the entry's entity_type)."""

    API_TOKEN = "api_token"
    CALL = "call"
    CALLBACK = "callback"
    CALLBACKS = "callbacks"
    CALLER_NUMBER = "caller_number"
    CALLS = "calls"
    CONTACT_REASON = "contact_reason"
    COST_RATE = "cost_rate"
    CTI_INTEGRATION = "cti_integration"
    MUNICIPALITY = "municipality"
    REPLIES = "replies"
    RULE = "rule"
    RULE_DRAFT = "rule_draft"
    RULE_FLAG = "rule_flag"
    RULE_SEARCHES = "rule_searches"
    SEARCH_SYNONYM = "search_synonym"
    SURVEY_COMMENTS = "survey_comments"
    SURVEY_INVITE = "survey_invite"
    USER = "user"


# These name a whole table (or "*": all of them) as their id: no one thing to point at.
WHOLE_TABLE = frozenset(
    {
        AuditAction.ARCHIVE_PURGE,
        AuditAction.CALLBACKS_PURGE,
        AuditAction.CALLS_PURGE,
        AuditAction.CONTACT_REASON_REORDER,
        AuditAction.RULE_SEARCHES_DELETE,
        AuditAction.RULE_SEARCHES_PURGE,
        AuditAction.SURVEY_COMMENTS_PURGE,
    }
)


def check_audit_names(action: str, entity_type: str) -> None:
    """Refuse an action or kind of thing the registry does not list (ValueError)."""
    if action not in AuditAction._value2member_map_:
        raise ValueError(f"audit action {action!r} is not listed in hotline/audit/actions.py")
    if entity_type not in AuditSubject._value2member_map_:
        raise ValueError(f"audit subject {entity_type!r} is not listed in hotline/audit/actions.py")


def action_label(action: str) -> str:
    """The Danish label of an action ("Regel gemt som ny version"); an unknown one as it is."""
    return _label("audit.actions", action)


def subject_label(entity_type: str) -> str:
    """The Danish label of a kind of thing ("Regel"); an unknown one as it is."""
    return _label("audit.subjects", entity_type)


def _label(section: str, name: str) -> str:
    key = f"{section}.{name}"
    return t(key) if key in catalogue() else name


def shown_id(action: str, entity_id: str) -> str:
    """The id a reader needs beside the kind of thing; none for an entry about a whole table."""
    return "" if action in WHOLE_TABLE else entity_id


def labelled(codes: list[str], label) -> list[tuple[str, str]]:
    """Codes as (code, Danish label), in Danish alphabetical order of the labels."""
    return sorted(((code, label(code)) for code in codes), key=lambda pair: _danish(pair[1]))


def _danish(text: str) -> str:
    # Æ, Ø and Å come after Z in Danish, in that order.
    return text.casefold().translate(_AFTER_Z)


_AFTER_Z = str.maketrans({"æ": "{", "ø": "|", "å": "}"})


def actions_matching(text: str) -> list[str]:
    """The actions whose Danish label contains the text (case-insensitive), for free-text search."""
    needle = text.casefold()
    return [a.value for a in AuditAction if needle and needle in action_label(a).casefold()]
