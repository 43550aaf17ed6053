"""Audit entries: who changed what, when, before and after."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, Listener, UTCDateTime, utcnow


class AuditEntry(Base):
    """One change, recorded in the same transaction as the change itself."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    municipality_code: Mapped[str | None] = mapped_column(String(4), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _append_only(_mapper, _connection, entry: AuditEntry) -> None:
    """Refuse to change or delete an audit entry (PostgreSQL also refuses it with a trigger)."""
    raise AuditLogIsAppendOnly(f"audit entry {entry.id} cannot be changed or deleted")


class AuditLogIsAppendOnly(RuntimeError):
    """An attempt to change history."""


LISTENERS = (
    Listener(AuditEntry, "before_update", _append_only),
    Listener(AuditEntry, "before_delete", _append_only),
)
