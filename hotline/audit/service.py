"""Record audit entries."""

from typing import Any

from sqlalchemy.orm import Session

from hotline.audit.actions import check_audit_names
from hotline.audit.models import AuditEntry
from hotline.auth.models import User


def record_change(
    *,
    session: Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str,
    municipality_code: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; the action and type must be registered."""
    check_audit_names(action, entity_type)
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        municipality_code=municipality_code,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry
