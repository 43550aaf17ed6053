"""A letterhead as a document's page uses it: sender, contact lines, colours, logo, style.css."""

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_COLOR = r"^#[0-9a-fA-F]{6}$"


class Letterhead(BaseModel):
    """One letterhead folder's settings, validated; its folder is all a render may fetch from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    sender: list[str] = Field(min_length=1, max_length=4)
    address: list[str] = Field(default_factory=list, max_length=4)
    cvr: str | None = Field(default=None, pattern=r"^\d{8}$")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    web: str | None = Field(default=None, max_length=200)
    primary_color: str = Field(default="#1a3a5c", pattern=_COLOR)
    accent_color: str = Field(default="#5d8aa8", pattern=_COLOR)
    logo: str = "logo.svg"
    directory: Path
    code: str

    @field_validator("logo")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.-]+\.(svg|png)", value) or value.startswith("."):
            raise ValueError("must be a file name inside the folder ending in .svg or .png")
        return value

    @property
    def logo_path(self) -> Path | None:
        """The logo file, if it exists."""
        path = self.directory / self.logo
        return path if path.is_file() else None

    @property
    def style_path(self) -> Path | None:
        """The optional extra stylesheet."""
        path = self.directory / "style.css"
        return path if path.is_file() else None

    @property
    def contact_items(self) -> list[str]:
        """The footer's contact details in order: address, phone, e-mail, web, CVR."""
        items = [", ".join(self.address)] if self.address else []
        items += [f"Tlf. {self.phone}"] if self.phone else []
        items += [v for v in (self.email, self.web) if v]
        items += [f"CVR {self.cvr}"] if self.cvr else []
        return items
