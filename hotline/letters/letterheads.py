"""Letterheads as data: letterheads/<kommunekode>/letterhead.toml, logo.svg and style.css."""

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from hotline.documents.letterhead import Letterhead
from hotline.municipalities.models import Municipality

DEFAULT_DIR_NAME = "default"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class LetterheadError(ValueError):
    """A letterhead folder that cannot be used; the message names the file and the field."""


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
