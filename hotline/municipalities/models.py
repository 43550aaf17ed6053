"""The 98 municipalities and the postal codes that lie in them."""

from sqlalchemy import ForeignKey, String
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

    @property
    def short_name(self) -> str:
        """The name without the trailing "Kommune" (e.g. "Aarhus")."""
        return self.name.removesuffix(" Kommune")


class PostalCode(Base):
    """One (postal code, municipality) pair; a postal code can span several municipalities."""

    __tablename__ = "postal_codes"

    postnr: Mapped[str] = mapped_column(String(4), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code"), primary_key=True
    )
    city: Mapped[str] = mapped_column(String(100))
