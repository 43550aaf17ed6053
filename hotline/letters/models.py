"""Replies to citizens: the outbox and, once sent, the archive."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, inspect
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, Listener, UTCDateTime, utcnow


class Channel(enum.StrEnum):
    """How a reply reaches the citizen."""

    EMAIL = "email"
    PDF = "pdf"


class ReplyStatus(enum.StrEnum):
    """Where a reply is on its way out."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DOWNLOADED = "downloaded"


class Reply(Base):
    """A letter or e-mail written on a municipality's letterhead; immutable once sent."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    reference: Mapped[str] = mapped_column(String(20))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(String(8))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_address: Mapped[str] = mapped_column(Text, default="")
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    # Which rule versions the reply cites: [{"topic": ..., "rule_version_id": ..., ...}].
    cited_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[ReplyStatus] = mapped_column(String(12), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # the sending process
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the retention period removed the PDF and the personal content; the rest stays.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# What a reply said and to whom is archived as sent; only the delivery fields may change.
DELIVERY_FIELDS = frozenset(
    {"status", "attempts", "next_attempt_at", "last_error", "claimed_by", "sent_at"}
)


def _refuse_content_changes(_mapper, _connection, reply: Reply) -> None:
    attributes = inspect(reply).attrs
    changed = {a.key for a in attributes if a.history.has_changes()} - DELIVERY_FIELDS
    if changed:
        raise ValueError(f"a reply is immutable; refused changes to {sorted(changed)}")


LISTENERS = (Listener(Reply, "before_update", _refuse_content_changes),)
