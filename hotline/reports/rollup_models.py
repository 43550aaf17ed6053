"""Monthly roll-ups of finished calls, so a report over years reads months, not calls."""

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class CallMonthStats(Base):
    """Finished calls of one Danish month for one billed municipality ("" when unknown)."""

    __tablename__ = "call_month_stats"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    offered: Mapped[int] = mapped_column(BigInteger, default=0)
    answered: Mapped[int] = mapped_column(BigInteger, default=0)
    abandoned: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    talk_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    after_call_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    avoidable: Mapped[int] = mapped_column(BigInteger, default=0)
    elsewhere: Mapped[int] = mapped_column(BigInteger, default=0)
    lost: Mapped[int] = mapped_column(BigInteger, default=0)
    outgoing: Mapped[int] = mapped_column(BigInteger, default=0)
    outgoing_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class CallMonthCount(Base):
    """How many finished calls of a month and municipality fall under one key of a kind.

    Kinds: "wait" (answered calls by wait bucket, for the 90th percentile), "reason" (answered
    calls by contact reason) and "hour" (offered calls by hour of the week, 0 = Monday 00-01).
    """

    __tablename__ = "call_month_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
