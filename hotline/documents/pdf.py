"""HTML to PDF/A-3u with WeasyPrint, the letter stylesheets and a locked-down URL fetcher.

Each render takes one of MAX_CONCURRENT_RENDERS slots, which keeps its own FontConfiguration and
the letter stylesheets parsed with it (see stylesheets.py). Letters, bill bases, insight reports
and access summaries are all rendered here, in a worker process when the server has a render pool.
"""

import atexit
import queue
from contextlib import contextmanager

from hotline.documents import render_pool
from hotline.documents.fetcher import restricted_fetcher
from hotline.documents.letterhead import Letterhead
from hotline.documents.stylesheets import FONTS_DIR, ParsedStylesheets, letter_stylesheets

PDF_VARIANT = "pdf/a-3u"
# Callers run a render in a worker thread, and at most this many render at once (one per slot).
MAX_CONCURRENT_RENDERS = 2


def make_url_fetcher(letterhead: Letterhead):
    """The URL fetcher of one document: the letterhead's folder and the vendored fonts only."""
    return restricted_fetcher((letterhead.directory, FONTS_DIR))


def html_to_pdf(
    html: str, *, letterhead: Letterhead, identifier: str = "letter", fetcher=None
) -> bytes:
    """Render HTML with the letter's stylesheets and the letterhead's (or the given) URL fetcher.

    In a worker process when the server has a render pool (render_pool.py), else in this thread.
    """
    if fetcher is None and render_pool.active():
        return render_pool.render(render_here, html, letterhead=letterhead, identifier=identifier)
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
