"""A reply as a letter: Jinja2 to HTML, then WeasyPrint to PDF with a locked-down URL fetcher.

Each render takes one of MAX_CONCURRENT_RENDERS slots, which keeps its own FontConfiguration and
the letter stylesheets parsed with it (see stylesheets.py).
"""

import atexit
import queue
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markupsafe import Markup
from pydantic import BaseModel, Field

from hotline.i18n import t
from hotline.letters import render_pool
from hotline.letters.documents import document_templates
from hotline.letters.letterheads import Letterhead
from hotline.letters.stylesheets import (
    FONTS_DIR,
    ParsedStylesheets,
    letter_stylesheets,
)

PDF_VARIANT = "pdf/a-3u"
# The time bound: letters are small, so size limits keep a render to about a second; callers run
# it in a worker thread, and at most this many render at once (one per render slot).
MAX_BODY_CHARS = 20_000
MAX_CITED_RULES = 12
MAX_CONCURRENT_RENDERS = 2
_MIME_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".css": "text/css", ".ttf": "font/ttf"}
FIELD_ORDER = ("fee_dkk", "deadline", "phone", "self_service_url")


class CitedRule(BaseModel):
    """One rule as the letter cites it (resolved for the caller's municipality)."""

    topic: str
    title: str
    sections_md: list[str] = []
    fields: dict[str, str | int | float | bool | None] = {}
    not_offered: bool = False
    rule_version_ids: list[int] = []


class LetterContent(BaseModel):
    """Everything a letter shows; the preview and the sent letter render the same content."""

    municipality_name: str
    reference: str
    letter_date: date
    subject: str = Field(max_length=300)
    body_md: str = Field(max_length=MAX_BODY_CHARS)
    recipient_name: str = ""
    recipient_address: str = ""
    author_name: str
    cited: list[CitedRule] = Field(default=[], max_length=MAX_CITED_RULES)


class Signature(NamedTuple):
    """The closing and signature the system adds under every reply; its lines in order."""

    closing: str
    author: str
    on_behalf_of: str


def signature(*, author_name: str, municipality_name: str) -> Signature:
    """The signature of a reply by this agent for this municipality (letter, e-mail, composer)."""
    return Signature(
        closing=t("letters.pdf.regards"),
        author=author_name,
        on_behalf_of=t("letters.pdf.on_behalf_of", municipality=municipality_name),
    )


def cited_lead(count: int) -> str:
    """The sentence that introduces the cited rules (none when no rule is cited)."""
    if not count:
        return ""
    return t("letters.pdf.cited_lead_one" if count == 1 else "letters.pdf.cited_lead_many")


@cache
def _letter_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LetterheadOnlyFetcher(URLFetcher):
        """Serve only the letterhead's own files and the vendored fonts; refuse everything else."""

        def __init__(self, roots: list[Path]) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
            self.roots = [root.resolve() for root in roots]
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            path = self.allowed_path(url)
            if path is None:
                self.refused.append(url)
                raise ValueError(f"refused by the letter's URL fetcher: {url[:100]}")
            mime = _MIME_TYPES[path.suffix]
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

        def allowed_path(self, url: str) -> Path | None:
            """The file a URL names if it lies inside an allowed root, else None."""
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return None
            path = Path(url2pathname(unquote(parts.path))).resolve()
            inside = any(path.is_relative_to(root) for root in self.roots)
            if not inside or path.suffix not in _MIME_TYPES or not path.is_file():
                return None
            return path

    return LetterheadOnlyFetcher


def make_url_fetcher(letterhead: Letterhead):
    """The URL fetcher of one letter: the letterhead's folder and the vendored fonts only."""
    return restricted_fetcher((letterhead.directory, FONTS_DIR))


def restricted_fetcher(roots: tuple[Path, ...]):
    """A URL fetcher that serves only the (letter file types in the) given folders."""
    return _letter_fetcher_class()(list(roots))


def _fee(value) -> str:
    return f"{int(value):,} kr.".replace(",", ".") if isinstance(value, int | float) else str(value)


def _shown_fields(rule: CitedRule) -> list[tuple[str, str]]:
    shown = []
    for key in FIELD_ORDER:
        value = rule.fields.get(key)
        if value not in (None, ""):
            shown.append(
                (t(f"letters.pdf.field_{key}"), _fee(value) if key == "fee_dkk" else str(value))
            )
    return shown


def letter_html(letter: LetterContent, letterhead: Letterhead) -> str:
    """The letter's final HTML for WeasyPrint, without CSS (see letter_stylesheets)."""
    return _render_html(letter, letterhead, standalone=False)


def render_letter_html(letter: LetterContent, letterhead: Letterhead) -> str:
    """The letter as one self-contained HTML document: letter_html with its stylesheets inline."""
    return _render_html(letter, letterhead, standalone=True)


def _render_html(letter: LetterContent, letterhead: Letterhead, *, standalone: bool) -> str:
    sources = letter_stylesheets(letterhead) if standalone else []
    return document_templates.get_template("letter.html").render(
        letter=letter,
        shown_fields=_shown_fields,
        letterhead=letterhead,
        inline_css=Markup("\n".join(s.string for s in sources if s.string is not None)),
        linked_css=[s.url for s in sources if s.url is not None],
        logo_url=letterhead.logo_path.as_uri() if letterhead.logo_path else None,
        address_lines=[line for line in letter.recipient_address.splitlines() if line.strip()],
        cited_lead=cited_lead(len(letter.cited)),
        signature=signature(
            author_name=letter.author_name, municipality_name=letter.municipality_name
        ),
    )


def render_letter_pdf(letter: LetterContent, letterhead: Letterhead) -> bytes:
    """The letter as a PDF/A-3u document; blocking, so call it from a worker thread."""
    return html_to_pdf(
        letter_html(letter, letterhead),
        letterhead=letterhead,
        identifier=f"{letterhead.code}-{letter.reference}",
    )


def html_to_pdf(
    html: str, *, letterhead: Letterhead, identifier: str = "letter", fetcher=None
) -> bytes:
    """Render HTML with the letter's stylesheets and the letterhead's (or the given) URL fetcher.

    In a worker process when the server has a render pool (render_pool.py), else in this thread.
    """
    if fetcher is None and render_pool.active():
        return render_pool.render(html, letterhead=letterhead, identifier=identifier)
    return render_here(html, letterhead=letterhead, identifier=identifier, fetcher=fetcher)


def render_here(
    html: str, *, letterhead: Letterhead, identifier: str = "letter", fetcher=None
) -> bytes:
    """html_to_pdf in the calling thread, in one of this process's render slots."""
    from weasyprint import HTML

    fetcher = fetcher or make_url_fetcher(letterhead)
    sources = letter_stylesheets(letterhead)
    with _render_slot() as slot:
        stylesheets = slot.get(sources)  # before font_config: it may start a new one
        document = HTML(
            string=html, base_url=letterhead.directory.as_uri() + "/", url_fetcher=fetcher
        )
        return document.write_pdf(
            stylesheets=stylesheets,
            font_config=slot.font_config,
            pdf_variant=PDF_VARIANT,
            pdf_identifier=identifier.encode(),
        )


_all_slots = [ParsedStylesheets() for _ in range(MAX_CONCURRENT_RENDERS)]
_free_slots: queue.LifoQueue[ParsedStylesheets] = queue.LifoQueue()
for _slot in _all_slots:
    _free_slots.put(_slot)


@atexit.register
def _close_slots() -> None:
    """Drop the FontConfigurations while their clean-up (removing the font folder) still works."""
    for slot in _all_slots:
        slot.close()


@contextmanager
def _render_slot():
    """Wait for a free render slot (the most recently used first: its stylesheets are warm)."""
    slot = _free_slots.get()
    try:
        yield slot
    finally:
        _free_slots.put(slot)
