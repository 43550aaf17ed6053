"""The UI text catalogue: every user-facing string lives in hotline/locale/<lang>/*.toml."""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "da"


@cache
def catalogue(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The flattened catalogue of one language: {"section.key": "text"}, from all its files."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / language).glob("*.toml")):
        with open(path, "rb") as f:
            for key, text in _flatten(tomllib.load(f)):
                if key in merged:
                    raise ValueError(f"{path}: the key {key!r} is defined twice")
                merged[key] = text
    return merged


def _flatten(tree: dict[str, Any], prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def t(key: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text for a key, formatted with its parameters; the key itself if missing."""
    text = catalogue(language).get(key)
    if text is None:
        return key
    return text.format(**params) if params else text
