"""The cost model, effective-dated."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow


class CostRate(Base):
    """The cost figures in force from a date until the next rate's date."""

    __tablename__ = "cost_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    agent_cost_per_hour: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    telephony_per_minute: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    platform_monthly: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # How fixed costs are split: "calls", "minutes", "equal" or "base_plus_usage".
    fixed_allocation: Mapped[str] = mapped_column(String(20), default="calls")
    baseline_cost_per_call: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
