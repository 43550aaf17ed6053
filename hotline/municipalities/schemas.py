"""Municipality shapes in the JSON API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MunicipalityOut(BaseModel):
    """A municipality as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    region_name: str
    participating: bool
    dialled_number: str | None


class MunicipalityMatchOut(BaseModel):
    """A search hit: the municipality, and the postal district or the place that matched."""

    municipality: MunicipalityOut
    postnr: str | None = None
    city: str | None = None
    place: str | None = None  # a town, village, part of a city or island


class LinkOut(BaseModel):
    """A self-service page."""

    title: str
    url: str


class EssentialsOut(BaseModel):
    """A municipality's Borgerservice essentials, with its state at the time asked."""

    code: str
    name: str
    phone: str | None
    web: str | None
    hours_registered: bool
    open_now: bool | None
    status: str  # e.g. "Åben nu til kl. 15.00", "Åbningstider ikke registreret"
    closes_at: datetime | None
    next_opens_at: datetime | None
    week: dict[str, str]  # {"mandag": "10.00–15.00", ..., "søndag": "lukket"}
    deviations: list[str]  # the next two weeks' days that differ, e.g. holidays
    links: list[LinkOut]
