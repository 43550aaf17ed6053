"""The letter's URL fetcher serves only the letterhead's files and the vendored fonts."""

import http.server
import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from hotline.config import PROJECT_ROOT
from hotline.documents.pdf import html_to_pdf, make_url_fetcher
from hotline.documents.stylesheets import FONTS_DIR
from hotline.letters.letterheads import load_letterhead
from hotline.letters.render import render_letter_pdf
from hotline.municipalities.models import Municipality
from tests.letters.test_render import letter

LETTERHEADS = PROJECT_ROOT / "letterheads"


@pytest.fixture
def letterhead(session):
    return load_letterhead(
        municipality=session.get(Municipality, "0751"), letterheads_dir=LETTERHEADS
    )


@pytest.fixture
def local_http_server():
    """A loopback HTTP server that records every request it gets."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_fetcher_serves_the_letterhead_and_fonts_only(letterhead, tmp_path):
    fetcher = make_url_fetcher(letterhead)
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")

    logo = fetcher.fetch((letterhead.directory / "logo.svg").as_uri())
    assert logo.read().startswith(b"<svg")
    font = fetcher.fetch((FONTS_DIR / "IBMPlexSans-Regular.ttf").as_uri())
    assert len(font.read()) > 10_000

    for url in (
        "file:///etc/passwd",
        secret.as_uri(),
        (letterhead.directory / ".." / ".." / "pyproject.toml").as_uri(),
        letterhead.directory.as_uri() + "/../0851/logo.svg/../../../etc/passwd",
        (letterhead.directory / "letterhead.toml").as_uri(),  # not a served file type
        "http://127.0.0.1:9/x.css",
        "https://example.com/logo.svg",
        "data:text/css,body{color:red}",
        "file://evil.example/etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_raw_html_cannot_reach_files_or_the_network(letterhead, local_http_server, tmp_path):
    base, requests = local_http_server
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>HEMMELIGT</text></svg>')
    html = f"""<!DOCTYPE html><html lang="da"><head>
      <link rel="stylesheet" href="{base}/linked.css">
      <style>@import url("{base}/imported.css"); @import url("file:///etc/passwd");
        body {{ background: url("{base}/background.png"); }}</style></head>
      <body><p>Brødtekst</p>
      <img src="file:///etc/passwd"><img src="{secret.as_uri()}"><img src="{base}/pixel.png">
      <img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3Ctext%3EDATA%3C/text%3E%3C/svg%3E">
      <img src="https://example.com/logo.svg"><iframe src="{base}/frame"></iframe>
      <object data="{base}/object"></object><embed src="{base}/embed">
      </body></html>"""

    fetcher = make_url_fetcher(letterhead)
    pdf = html_to_pdf(html, letterhead=letterhead, fetcher=fetcher)

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Brødtekst" in text
    assert "HEMMELIGT" not in text and "DATA" not in text and "root:" not in text
    assert requests == []
    refused = " ".join(fetcher.refused)
    for url in ("file:///etc/passwd", secret.as_uri(), "data:", "/imported.css", "/linked.css"):
        assert url in refused, url


def test_a_note_with_an_image_tag_renders_without_fetching(letterhead, local_http_server):
    base, requests = local_http_server
    body = f'Se her: <img src="file:///etc/passwd"> ![x]({base}/x.png) <img src="{base}/y.png">'

    pdf = render_letter_pdf(letter(body_md=body), letterhead)

    assert "Side 1 af 1" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert requests == []


def test_fonts_dir_is_the_vendored_one():
    assert (
        FONTS_DIR.resolve()
        == (
            Path(PROJECT_ROOT) / "hotline/web/static/dkfds/fonts/IBMPlexSans/complete/ttf"
        ).resolve()
    )
