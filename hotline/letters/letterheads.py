"""Letterheads as data: letterheads/<kommunekode>/letterhead.toml, logo.svg and style.css."""

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hotline.municipalities.models import Municipality

DEFAULT_DIR_NAME = "default"
_COLOR = r"^#[0-9a-fA-F]{6}$"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class LetterheadError(ValueError):
    """A letterhead folder that cannot be used; the message names the file and the field."""


class Letterhead(BaseModel):
    """One municipality's letterhead, validated."""

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


def load_letterhead(*, municipality: Municipality, letterheads_dir: Path) -> Letterhead:
    """The municipality's own letterhead, or the default filled from its row."""
    own = letterheads_dir / municipality.code / "letterhead.toml"
    if own.is_file():
        return _load(own, code=municipality.code)
    default = letterheads_dir / DEFAULT_DIR_NAME / "letterhead.toml"
    values = {
        "name": municipality.name,
        "short_name": municipality.short_name,
        "phone": municipality.phone or "",
        "email": municipality.email or "",
        "web": municipality.web or "",
    }
    return _load(default, code=municipality.code, fill=values)


def _load(path: Path, *, code: str, fill: dict[str, str] | None = None) -> Letterhead:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise LetterheadError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise LetterheadError(f"{path}: cannot be read: {exc.strerror}") from exc
    if fill is not None:
        raw = _filled(raw, fill)
    try:
        return Letterhead(**raw, directory=path.parent.resolve(), code=code)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in exc.errors()
        )
        raise LetterheadError(f"{path}: {problems}") from exc
    except TypeError as exc:  # e.g. a table where a value was expected
        raise LetterheadError(f"{path}: {exc}") from exc


def _filled(raw: dict, values: dict[str, str]) -> dict:
    """Fill {placeholders}; a string left empty becomes None, an empty list item is dropped."""

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text).strip()

    result: dict = {}
    for key, value in raw.items():
        if isinstance(value, str):
            result[key] = fill(value) or None
        elif isinstance(value, list):
            result[key] = [f for f in (fill(v) if isinstance(v, str) else v for v in value) if f]
        else:
            result[key] = value
    return {k: v for k, v in result.items() if v is not None}
