"""Stylesheets parsed once per render slot: changes are picked up, threads get the same PDF."""

import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from pypdf import PdfReader

from hotline.documents import render_pool, stylesheets
from hotline.letters.render import letter_html, render_letter_html, render_letter_pdf
from tests.letters.conftest import LETTERHEAD_TOML
from tests.letters.test_render import letter


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _write_css(path, css: str, *, later_by_s: int = 0) -> None:
    path.write_text(css, encoding="utf-8")
    if later_by_s:  # as an edit a while later would be stamped, whatever the clock's resolution
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + later_by_s * 1_000_000_000))


def test_a_changed_style_css_is_picked_up(own_letterhead):
    folder, load = own_letterhead
    style = folder / "style.css"
    _write_css(style, '.letter-meta::after { content: "Stil en"; }')
    assert "Stil en" in _text(render_letter_pdf(letter(), load()))

    _write_css(style, '.letter-meta::after { content: "Stil to"; }', later_by_s=2)
    text = _text(render_letter_pdf(letter(), load()))

    assert "Stil to" in text and "Stil en" not in text


def test_a_removed_style_css_no_longer_applies(own_letterhead):
    folder, load = own_letterhead
    _write_css(folder / "style.css", '.letter-meta::after { content: "Stil en"; }')
    assert "Stil en" in _text(render_letter_pdf(letter(), load()))

    (folder / "style.css").unlink()

    assert "Stil en" not in _text(render_letter_pdf(letter(), load()))


def test_a_style_css_linking_outside_the_folder_is_refused(own_letterhead, tmp_path, caplog):
    folder, load = own_letterhead
    secret = tmp_path / "secret.css"
    _write_css(secret, '.letter-meta::after { content: "HEMMELIGT"; }')
    (folder / "style.css").unlink()
    (folder / "style.css").symlink_to(secret)

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        text = _text(render_letter_pdf(letter(), load()))

    assert "Side 1 af 1" in text and "HEMMELIGT" not in text
    assert any("refused" in record.getMessage() for record in caplog.records)


def test_changed_colours_are_picked_up(own_letterhead):
    folder, load = own_letterhead
    before = render_letter_pdf(letter(), load())
    (folder / "letterhead.toml").write_text(LETTERHEAD_TOML.format(primary="#aa0000"), "utf-8")

    after = render_letter_pdf(letter(), load())

    assert after != before and _text(after) == _text(before)


def test_stylesheets_are_parsed_once_per_slot(own_letterhead, monkeypatch):
    """A slot is this process's: render here, not in the server's worker processes."""
    monkeypatch.setattr(render_pool, "active", lambda: False)
    _, load = own_letterhead
    parsed = []
    real = stylesheets.parse_stylesheet
    monkeypatch.setattr(
        stylesheets,
        "parse_stylesheet",
        lambda source, fc: parsed.append(source) or real(source, fc),
    )

    first = render_letter_pdf(letter(), load())
    count = len(parsed)
    second = render_letter_pdf(letter(), load())

    assert any(source.url and source.url.endswith("/style.css") for source in parsed)
    assert len(parsed) == count and first == second


def test_warnings_of_a_stylesheet_are_logged_on_every_render(own_letterhead, caplog):
    folder, load = own_letterhead
    _write_css(folder / "style.css", '@import url("file:///etc/passwd");')

    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            pdf = render_letter_pdf(letter(), load())
        assert "Side 1 af 1" in _text(pdf)
        assert any("/etc/passwd" in record.getMessage() for record in caplog.records)


def test_threads_render_the_same_pdf_as_one_thread(own_letterhead):
    _, load = own_letterhead
    letterhead = load()
    expected = render_letter_pdf(letter(), letterhead)

    with ThreadPoolExecutor(4) as pool:
        pdfs = list(pool.map(lambda _: render_letter_pdf(letter(), letterhead), range(6)))

    assert all(pdf == expected for pdf in pdfs)


def test_the_pdf_html_has_no_css_and_the_standalone_html_has_it(own_letterhead):
    _, load = own_letterhead
    letterhead = load()

    assert "<style>" not in letter_html(letter(), letterhead)
    standalone = render_letter_html(letter(), letterhead)
    assert "@font-face" in standalone and "counter(pages)" in standalone
    assert (letterhead.directory / "style.css").as_uri() in standalone
