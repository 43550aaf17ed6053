"""The cost model, effective-dated."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from hotline.db import Base, UTCDateTime, utcnow
from hotline.kit.errors import InvalidInput

# How a period's fixed cost is split between municipalities (see reports.service).
ALLOCATION_METHODS = ("calls", "minutes", "equal", "base_plus_usage")


class CostRate(Base):
    """The cost figures in force from a date until the next rate's date."""

    __tablename__ = "cost_rates"
    __table_args__ = (
        CheckConstraint(
            "fixed_allocation IN ({})".format(", ".join(f"'{m}'" for m in ALLOCATION_METHODS)),
            name="fixed_allocation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    agent_cost_per_hour: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    telephony_per_minute: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    platform_monthly: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # How fixed costs are split: one of ALLOCATION_METHODS.
    fixed_allocation: Mapped[str] = mapped_column(String(20), default="calls")
    baseline_cost_per_call: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # base_plus_usage: this percentage of the fixed cost is split equally, the rest by usage.
    base_share_pct: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal("20.00"), server_default="20.00"
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @validates("fixed_allocation")
    def _check_allocation(self, _key: str, method: str) -> str:
        """Refuse an allocation method the cost report does not implement."""
        if method not in ALLOCATION_METHODS:
            raise InvalidInput("reports.unknown_allocation", method=str(method)[:40])
        return method
