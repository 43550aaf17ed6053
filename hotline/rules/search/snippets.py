"""Snippets: a stretch of the shown text as plain text, the words that matched in <mark>."""

import html
import re
from collections.abc import Iterable

from hotline.kit.danish import WORD, term
from hotline.kit.markdown import markdown_text

SNIPPET_CHARS = 180


def snippet(texts: Iterable[str], matched_terms: set[str], width: int = SNIPPET_CHARS) -> str:
    """Safe HTML: the first shown text with a matching word, around it; else the first text."""
    plain = [p for p in (" ".join(markdown_text(t).split()) for t in texts) if p]
    if not plain:
        return ""
    chosen, first = plain[0], None
    for candidate in plain:
        first = next(_matches(candidate, matched_terms), None)
        if first is not None:
            chosen = candidate
            break
    start = 0
    if first is not None and first.start() > width // 3:
        start = chosen.rfind(" ", 0, first.start() - width // 3) + 1
    stretch = chosen[start:]
    more = False
    if len(stretch) > width:
        cut = stretch.rfind(" ", 0, width)
        stretch, more = stretch[: cut if cut > width // 2 else width], True
    out = ["…"] if start > 0 else []
    position = 0
    for match in _matches(stretch, matched_terms):
        out.append(html.escape(stretch[position : match.start()]))
        out.append(f"<mark>{html.escape(match[0])}</mark>")
        position = match.end()
    out.append(html.escape(stretch[position:]))
    if more:
        out.append("…")
    return "".join(out).strip()


def _matches(text: str, matched_terms: set[str]) -> Iterable[re.Match]:
    for match in WORD.finditer(text):
        if term(match[0].lower()) in matched_terms:
            yield match
