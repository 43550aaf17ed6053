"""What the hotline hears: satisfaction answers and the rules agents consult."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow

# How a comment reads: a suggestion from a word list, confirmed or changed by a supervisor.
COMMENT_CLASSES = ("positive", "sceptical", "negative")


class SurveyInvite(Base):
    """One call's satisfaction survey: its short code, and the citizen's answer once given."""

    __tablename__ = "survey_invites"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score BETWEEN 1 AND 5)", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    # The short link's code (read out or texted): unguessable, and the only key to the survey.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    suggested_class: Mapped[str | None] = mapped_column(String(10))
    confirmed_class: Mapped[str | None] = mapped_column(String(10))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RuleConsultation(Base):
    """An agent opened a municipality's rule on a topic (during a call, when there was one)."""

    __tablename__ = "rule_consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    municipality_code: Mapped[str] = mapped_column(String(4), index=True)
    topic_slug: Mapped[str] = mapped_column(String(100))


class RuleSearch(Base):
    """An agent's search of the rules (a typing burst's last query, masked) and what came of it.

    A search that found nothing, or after which no rule was opened, is a gap in the knowledge base.
    """

    __tablename__ = "rule_searches"
    __table_args__ = (
        Index("ix_rule_searches_municipality_at", "municipality_code", "searched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(4))
    # Only to join a burst of keystrokes into one search and to see what was opened after it;
    # cleared by the retention purge.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(default=0)
    confident: Mapped[bool] = mapped_column(default=False)
    opened_topic: Mapped[str | None] = mapped_column(String(100))
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
