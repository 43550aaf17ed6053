"""Municipality shapes in the JSON API."""

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
    """A search hit: the municipality, and the postal code that matched."""

    municipality: MunicipalityOut
    postnr: str | None = None
    city: str | None = None
