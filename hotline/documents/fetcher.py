"""The URL fetcher of every document: only the given folders' files of letter file types.

WeasyPrint fetches what a document's HTML and CSS name (images, stylesheets, fonts) through it, so
a letter, bill basis or report can never read another file of the server or reach the network.
"""

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

_MIME_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".css": "text/css", ".ttf": "font/ttf"}


def restricted_fetcher(roots: tuple[Path, ...]):
    """A URL fetcher that serves only the (letter file types in the) given folders."""
    return _letter_fetcher_class()(list(roots))


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
