"""The 98 municipalities and the postal codes that lie in them."""

from datetime import date, time
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, SmallInteger, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class Municipality(Base):
    """A Danish municipality (kommune), participating in the hotline or not."""

    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    region_code: Mapped[str] = mapped_column(String(4))
    region_name: Mapped[str] = mapped_column(String(100))
    participating: Mapped[bool] = mapped_column(default=False)
    # The after-hours number citizens dial; it forwards to the hotline.
    dialled_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    web: Mapped[str | None] = mapped_column(String(254))
    # The self-service pages agents point callers to: [{"title": ..., "url": ...}]
    self_service_links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    @property
    def short_name(self) -> str:
        """The name without the trailing "Kommune" (e.g. "Aarhus")."""
        return short_municipality_name(self.name)


def short_municipality_name(name: str) -> str:
    """A municipality's name without the trailing "Kommune" (e.g. "Aarhus")."""
    return name.removesuffix(" Kommune")


class PostalCode(Base):
    """One (postal code, municipality) pair; a postal code can span several municipalities."""

    __tablename__ = "postal_codes"

    postnr: Mapped[str] = mapped_column(String(4), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code"), primary_key=True
    )
    city: Mapped[str] = mapped_column(String(100))


class Place(Base):
    """A town, village, city district or island, and the municipality it lies in (GeoNames)."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Other Danish spellings, "|"-separated ("Kgs. Lyngby|Lyngby").
    alternates: Mapped[str] = mapped_column(Text, default="")
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    # GeoNames' feature code: PPL (a town or village), PPLX (a part of a city), ISL (an island)...
    feature: Mapped[str] = mapped_column(String(8))
    population: Mapped[int] = mapped_column(default=0)


class ServiceHours(Base):
    """One opening period of a municipality's Borgerservice on a weekday (0 = Monday)."""

    __tablename__ = "service_hours"
    __table_args__ = (UniqueConstraint("municipality_code", "weekday", "opens"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class ServiceHoursException(Base):
    """A day whose Borgerservice hours differ from the week's (a holiday: closed)."""

    __tablename__ = "service_hours_exceptions"

    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Both empty: closed all day.
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")
