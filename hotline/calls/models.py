"""Calls reported by the telephony platform, and their CTI events."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.db import Base, UTCDateTime, utcnow
from hotline.municipalities.models import Municipality

# What platforms send as the number of a caller who hides it (Zammad's "anonymous").
HIDDEN_NUMBERS = frozenset({"anonymous", "unknown", "private", "restricted", "withheld"})


def shown_number(from_number: str | None) -> str | None:
    """A caller's number to show or call back; None when hidden ("anonymous") or unknown."""
    if from_number is None or from_number.lower() in HIDDEN_NUMBERS:
        return None
    return from_number


class CallState(enum.StrEnum):
    """Where a call is in its life."""

    WAITING = "waiting"
    ACTIVE = "active"
    WRAP_UP = "wrap_up"
    DONE = "done"
    ABANDONED = "abandoned"
    # Answered (or forwarded) by the phone system to someone outside Hotline: not missed, no agent.
    ELSEWHERE = "elsewhere"
    # Waited and then heard nothing from the phone system: closed as "forbindelse tabt".
    LOST = "lost"
    # An agent's call out to a citizen: never in the queue, counted apart from incoming calls.
    OUTGOING = "outgoing"


class Outcome(enum.StrEnum):
    """How a call ended for the citizen."""

    ANSWERED = "answered"
    REFERRED = "referred"
    CALLBACK = "callback"
    NOT_HELPED = "not_helped"


class ContactReason(Base):
    """A reason citizens call (MitID, passport, ...); the taxonomy supervisors keep."""

    __tablename__ = "contact_reasons"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Call(Base):
    """One citizen's call, from the first CTI event to wrap-up."""

    __tablename__ = "calls"
    __table_args__ = (
        # An agent has at most one open call; this holds where a NOT EXISTS check cannot see
        # another transaction's uncommitted claim (READ COMMITTED).
        Index(
            "uq_calls_open_agent",
            "agent_id",
            unique=True,
            sqlite_where=text("state IN ('active', 'wrap_up')"),
            postgresql_where=text("state IN ('active', 'wrap_up')"),
        ),
        # The queue and the reports' unfinished calls look calls up by state within a time span.
        Index("ix_calls_state_offered_at", "state", "offered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    cti_call_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(3), default="in")
    # The platform's queue name, when it sends one (Zammad's "queue").
    cti_queue: Mapped[str | None] = mapped_column(String(100))
    # Why the call ended as the platform said (normalClearing, cancel, forwarded, ...), or "lost".
    end_cause: Mapped[str | None] = mapped_column(String(20))
    # An outgoing call: the agent's open call or the callback it belongs to (same number).
    related_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    # No foreign key: callbacks already refer to calls, and the two tables must not form a cycle.
    callback_id: Mapped[int | None] = mapped_column(index=True)
    # The municipality whose after-hours line forwarded the call (from the dialled number).
    line_municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code"), active_history=True
    )
    # The caller's municipality as the agent chose or confirmed it; the bill goes here.
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code"), index=True, active_history=True
    )
    state: Mapped[CallState] = mapped_column(
        String(16), default=CallState.WAITING, active_history=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # active_history: the roll-ups (reports/rollup.py) needs a finished call's old values.
    offered_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, index=True, active_history=True
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), active_history=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), active_history=True)
    wrapped_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), active_history=True)
    contact_reason_code: Mapped[str | None] = mapped_column(
        ForeignKey("contact_reasons.code"), active_history=True
    )
    outcome: Mapped[Outcome | None] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    # An "avoidable contact": the web page or e-service that confused the caller.
    avoidable: Mapped[bool] = mapped_column(default=False, active_history=True)
    avoidable_url: Mapped[str | None] = mapped_column(String(500))

    line_municipality: Mapped[Municipality | None] = relationship(
        foreign_keys=[line_municipality_code], lazy="joined"
    )
    municipality: Mapped[Municipality | None] = relationship(
        foreign_keys=[municipality_code], lazy="joined"
    )
    agent: Mapped[User | None] = relationship(lazy="joined")
    contact_reason: Mapped[ContactReason | None] = relationship(lazy="joined")

    @property
    def caller_number(self) -> str | None:
        """The caller's number to show or call back; None when hidden ("anonymous") or unknown."""
        return shown_number(self.from_number)

    @property
    def wait_seconds(self) -> int | None:
        """Seconds in the queue: from offered to answered."""
        return seconds_between(self.offered_at, self.answered_at)

    @property
    def talk_seconds(self) -> int | None:
        """Talk time: from answered to ended (hang-up, or wrap-up when no hang-up came first)."""
        return seconds_between(self.answered_at, self.ended_at)

    @property
    def after_call_seconds(self) -> int | None:
        """After-call work: from ended to wrapped up."""
        return seconds_between(self.ended_at, self.wrapped_up_at)


def seconds_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole seconds from start to end (rounded, never negative); None when either is missing."""
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


class CtiEvent(Base):
    """A telephony event as received; (callId, event) is unique so repeats are harmless.

    An answer or hangup that arrives before its newCall is kept with held=True and applied when
    the newCall comes (or dropped after HOTLINE_CTI_HOLD_SECONDS).
    """

    __tablename__ = "cti_events"
    __table_args__ = (UniqueConstraint("cti_call_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cti_call_id: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    held: Mapped[bool] = mapped_column(default=False, index=True)


class AgentState(enum.StrEnum):
    """What an agent is doing now."""

    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    AWAY = "away"


class AgentStatus(Base):
    """An agent's current state: one row per agent, changed as they take and finish calls."""

    __tablename__ = "agent_statuses"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[AgentState] = mapped_column(String(16), default=AgentState.AWAY)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When one of the agent's consoles last had its live stream open (see agents.py).
    console_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class CallbackStatus(enum.StrEnum):
    """Whether the municipality's daytime staff have called the citizen back."""

    OPEN = "open"
    DONE = "done"


class MailStatus(enum.StrEnum):
    """Delivery of a notification e-mail."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    NONE = "none"  # nobody to send it to


class Callback(Base):
    """A callback booked for the municipality's daytime staff, and its e-mail to their admins."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    caller_phone: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    # The rules the agent consulted: [{"topic": slug, "title": ..., "rule_version_ids": [...]}]
    rules_consulted: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    preferred_time: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[CallbackStatus] = mapped_column(
        String(8), default=CallbackStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_note: Mapped[str] = mapped_column(Text, default="")
    mail_status: Mapped[MailStatus] = mapped_column(
        String(8), default=MailStatus.QUEUED, index=True
    )
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_last_error: Mapped[str | None] = mapped_column(Text)
    mail_claimed_by: Mapped[str | None] = mapped_column(String(120))  # the sending process
    message_id: Mapped[str | None] = mapped_column(String(300))

    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id], lazy="joined")
    municipality: Mapped[Municipality] = relationship(lazy="joined")


class CtiIntegration(Base):
    """A phone system allowed to post CTI events, by its own token (only the SHA-256 is kept)."""

    __tablename__ = "cti_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
