"""Markdown to safe HTML: markdown-it (CommonMark, no raw HTML) then nh3 sanitising."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "code",
    "pre",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# For text typed in a form (a reply): a single line break stays a line break.
BREAKS_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    "table"
)


# Rule texts are rendered on every resolve; versions are immutable, so the same text recurs.
@lru_cache(maxsize=4096)
def render_markdown(text: str, *, breaks: bool = False) -> str:
    """Render Markdown to sanitised HTML (no raw HTML, no images, safe links only)."""
    html = (BREAKS_PARSER if breaks else PARSER).render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# Blocks whose end separates text (a table cell, a list item, a paragraph, a heading).
_TEXT_BREAKS = {"paragraph_close", "heading_close", "th_close", "td_close", "list_item_close"}


@lru_cache(maxsize=4096)
def markdown_text(text: str) -> str:
    """The readable text of Markdown: no syntax, links as their text, blocks as sentences."""
    parts: list[str] = []
    for token in PARSER.parse(text or ""):
        if token.type == "inline":
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
        elif token.type in ("fence", "code_block"):
            parts.append(token.content)
        elif token.type in _TEXT_BREAKS and parts and not parts[-1].endswith(" "):
            parts.append(" · " if token.type in ("th_close", "td_close") else " ")
    return " ".join("".join(parts).split())
