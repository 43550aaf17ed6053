"""A document's stylesheets: what they are, and each render slot's parsed copies of them.

Every document is laid out with the letter stylesheets (the fonts, the letterhead's colours,
letter.css and the letterhead's style.css), which its HTML does not carry. They are parsed once
per render slot, with the slot's own FontConfiguration (so the fonts load once), and parsed again
only when their file changes.
"""

import logging
import threading
import time
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from hotline.documents.fetcher import restricted_fetcher
from hotline.documents.letterhead import Letterhead

TEMPLATES_DIR = Path(__file__).parent / "templates"
LETTER_CSS = TEMPLATES_DIR / "letter.css"
FONTS_DIR = (
    Path(__file__).resolve().parent.parent / "web/static/dkfds/fonts/IBMPlexSans/complete/ttf"
)
FONT_FACES = {
    ("400", "normal"): "Regular",
    ("400", "italic"): "Italic",
    ("600", "normal"): "SemiBold",
    ("700", "normal"): "Bold",
    ("700", "italic"): "BoldItalic",
}
# A FontConfiguration keeps its fonts in a temporary folder; a slot's cache starts afresh this
# often, so a long-running server never depends on an old temporary folder (tmp cleaners).
MAX_AGE_S = 3600.0
_weasyprint_logger = logging.getLogger("weasyprint")


class StyleSource(NamedTuple):
    """One stylesheet of a letter: CSS text or a letterhead file's URL, and what may be fetched."""

    key: tuple  # what the stylesheet is, in a slot's cache
    stamp: object  # changes when the source changes
    roots: tuple[Path, ...]  # the folders its URL fetcher serves
    string: str | None = None
    url: str | None = None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _read_css(path: Path, stamp: object) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _font_faces_css() -> str:
    return "\n".join(
        f'@font-face {{ font-family: "IBM Plex Sans"; '
        f'src: url("{(FONTS_DIR / f"IBMPlexSans-{name}.ttf").as_uri()}"); '
        f"font-weight: {weight}; font-style: {style}; }}"
        for (weight, style), name in FONT_FACES.items()
    )


def letter_stylesheets(letterhead: Letterhead) -> list[StyleSource]:
    """The letter's stylesheets in cascade order: fonts, colours, letter.css, style.css."""
    fonts_only = (FONTS_DIR,)
    primary, accent = letterhead.primary_color, letterhead.accent_color
    css_stamp = _stamp(LETTER_CSS)
    sources = [
        StyleSource(("fonts",), None, fonts_only, string=_font_faces_css()),
        StyleSource(
            ("colours", primary, accent),
            None,
            fonts_only,
            string=f":root {{ --primary: {primary}; --accent: {accent}; }}",
        ),
        StyleSource(
            ("letter.css",), css_stamp, fonts_only, string=_read_css(LETTER_CSS, css_stamp)
        ),
    ]
    if (style := letterhead.style_path) is not None:  # fetched as the <link> it replaces was
        roots = (letterhead.directory, FONTS_DIR)
        key = ("style.css", str(letterhead.directory))
        sources.append(StyleSource(key, _stamp(style), roots, url=style.as_uri()))
    return sources


def parse_stylesheet(source: StyleSource, font_config):
    """A weasyprint.CSS of the source; its @font-face rules load into font_config."""
    from weasyprint import CSS

    return CSS(
        string=source.string,
        url=source.url,
        base_url=None if source.url else TEMPLATES_DIR.as_uri() + "/",
        url_fetcher=restricted_fetcher(source.roots),
        font_config=font_config,
    )


class ParsedStylesheets:
    """A FontConfiguration and the stylesheets parsed with it; one thread uses it at a time."""

    def __init__(self) -> None:
        self.font_config = None
        self.started = 0.0
        # key -> (stamp, weasyprint.CSS, the warnings parsing it logged)
        self.parsed: dict[tuple, tuple[object, object, list[logging.LogRecord]]] = {}

    def get(self, sources: list[StyleSource]) -> list:
        """The sources as CSS objects, parsed when new or changed; cached warnings are re-logged."""
        from weasyprint.text.fonts import FontConfiguration

        if self.font_config is None or time.monotonic() - self.started > MAX_AGE_S:
            self.font_config, self.started, self.parsed = FontConfiguration(), time.monotonic(), {}
        sheets = []
        for source in sources:
            entry = self.parsed.get(source.key)
            if entry is None or entry[0] != source.stamp:
                with _recorded_warnings() as warnings:
                    css = _parse_or_log(source, self.font_config)
                entry = self.parsed[source.key] = (source.stamp, css, warnings)
            else:
                for record in entry[2]:  # what parsing it again would log, e.g. for the checker
                    _weasyprint_logger.handle(record)
            if entry[1] is not None:
                sheets.append(entry[1])
        return sheets

    def close(self) -> None:
        """Drop the FontConfiguration (its clean-up removes its font folder) and the sheets."""
        self.font_config, self.parsed = None, {}


def _parse_or_log(source: StyleSource, font_config):
    """The parsed source, or None (logged) when its file is refused, as for a <link>."""
    from weasyprint.urls import URLFetchingError

    try:
        return parse_stylesheet(source, font_config)
    except URLFetchingError as exc:
        _weasyprint_logger.error("Failed to load stylesheet at %s: %s", source.url, exc)
        return None


@contextmanager
def _recorded_warnings():
    """Record the WeasyPrint warnings this thread logs meanwhile (they are logged as usual)."""
    records: list[logging.LogRecord] = []
    thread = threading.get_ident()

    class Record(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                records.append(record)

    handler = Record(level=logging.WARNING)
    _weasyprint_logger.addHandler(handler)
    try:
        yield records
    finally:
        _weasyprint_logger.removeHandler(handler)
