"""Markdown to plain text for people (an e-mail's text part): the layout kept, the syntax gone.

Paragraphs are separated by a blank line and keep the line breaks typed in them; headings become
plain lines; list items start with "- " or "1. "; a table row becomes one line of "header: cell"
pairs; a link reads "text (url)"; quotes and code are indented.
"""

from markdown_it.tree import SyntaxTreeNode

from hotline.kit.markdown import PARSER

INDENT = "    "
RULE_LINE = "-" * 24
CELL_SEPARATOR = " · "


def markdown_plain(text: str) -> str:
    """Markdown as plain text: blank lines between blocks, typed line breaks kept, no syntax."""
    root = SyntaxTreeNode(PARSER.parse(text or ""))  # the HTML part's syntax
    return "\n".join(_blocks(root.children)).strip("\n")


def _blocks(nodes, *, tight: bool = False) -> list[str]:
    """The lines of a sequence of blocks, a blank line between them unless tight."""
    lines: list[str] = []
    for node in nodes:
        block = _block(node)
        if not block:
            continue
        if lines and not tight:
            lines.append("")
        lines.extend(block)
    return lines


def _block(node) -> list[str]:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return _inline_lines(node)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "blockquote":
        return [INDENT + line if line else "" for line in _blocks(node.children)]
    if kind in ("fence", "code_block"):
        return [INDENT + line for line in node.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return [RULE_LINE]
    if kind == "table":
        return _table(node)
    if node.children:
        return _blocks(node.children)
    return [line for line in node.content.rstrip("\n").split("\n")] if node.content else []


def _list(node) -> list[str]:
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1)) if ordered else 1
    items = node.children
    # A tight list (no blank lines between the items) hides its paragraphs.
    tight = all(
        child.hidden for item in items for child in item.children if child.type == "paragraph"
    )
    lines: list[str] = []
    for number, item in enumerate(items, start=start):
        marker = f"{number}. " if ordered else "- "
        body = _blocks(item.children, tight=tight) or [""]
        if lines and not tight:
            lines.append("")
        lines.append(marker + body[0])
        lines.extend(" " * len(marker) + line if line else "" for line in body[1:])
    return lines


def _table(node) -> list[str]:
    rows = [row for section in node.children for row in section.children]
    cells = [[_inline_text(cell) for cell in row.children] for row in rows]
    if not cells:
        return []
    header, body = cells[0], cells[1:]
    if not body:
        return [CELL_SEPARATOR.join(c for c in header if c)]
    lines = []
    for row in body:
        pairs = [f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c]
        lines.append(CELL_SEPARATOR.join(pairs))
    return lines


def _inline_lines(node) -> list[str]:
    return _inline_text(node).split("\n")


def _inline_text(node) -> str:
    """The text of a block's inline content: emphasis dropped, links as "text (url)"."""
    return "".join(_inline(child) for child in node.children).strip()


def _inline(node) -> str:
    kind = node.type
    if kind in ("text", "code_inline", "html_inline"):
        return node.content
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    text = "".join(_inline(child) for child in node.children)
    if kind == "link":
        href = str(node.attrs.get("href", ""))
        shown = href.removeprefix("mailto:")
        return text if not href or text.strip() in (href, shown) else f"{text} ({shown})"
    return text
