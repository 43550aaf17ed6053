"""How much layout a Markdown text asks of the PDF renderer, measured before it is rendered.

WeasyPrint's time grows with the boxes it lays out, not with the characters: 20,000 characters
of prose render in a quarter of a second, but the same length as a table of many columns, as
thousands of one-word lines or list items, or as a paragraph of thousands of emphasised words,
takes up to ten seconds and holds up every agent's letters. So a text is measured in layout
units, and a reply is refused above a budget that keeps any accepted reply well inside two seconds
on the hotline's servers (bench/letters.py searches for the slowest). One unit is about a
millisecond of layout:

- a block (paragraph, heading, rule, code line, table cell) and each further line its text wraps
  to (about 90 characters to a line, a table cell's share of that in a table);
- a typed line break;
- a list item one more (its marker and box);
- an inline element (emphasis, code, link).

The limits are far above any real letter: a page of prose is about 50 units. Apart from the units,
a character may carry at most a few combining marks: text shaping takes time in the square of a
cluster's length, and one letter under 20,000 Hebrew points took over three seconds.
"""

import unicodedata
from dataclasses import dataclass

from hotline.kit.markdown import BREAKS_PARSER

MAX_TABLE_COLUMNS = 8
# Stacked accents and points on one character: real scripts use up to about four.
MAX_COMBINING_MARKS = 8
MAX_LAYOUT_UNITS = 600
LINE_CHARACTERS = 90
_BLOCKS = {"paragraph_open", "heading_open", "hr", "th_open", "td_open"}
_INLINE_ELEMENTS = {"em_open", "strong_open", "link_open", "code_inline", "s_open"}


@dataclass(frozen=True)
class LayoutProblem:
    """Which limit the text goes over, how much the text has, and the most a letter takes."""

    limit: str
    count: int
    max: int


def layout_problem(body_md: str) -> LayoutProblem | None:
    """The first limit the reply's text goes over, or None when it fits a letter."""
    marks = _longest_mark_run(body_md or "")
    if marks > MAX_COMBINING_MARKS:
        return LayoutProblem("too_many_marks", marks, MAX_COMBINING_MARKS)
    tokens = BREAKS_PARSER.parse(body_md or "")
    widest = max(_table_columns(tokens), default=0)
    if widest > MAX_TABLE_COLUMNS:
        return LayoutProblem("too_many_columns", widest, MAX_TABLE_COLUMNS)
    units = layout_units(tokens)
    if units > MAX_LAYOUT_UNITS:
        return LayoutProblem("too_much_layout", units, MAX_LAYOUT_UNITS)
    return None


def layout_units(tokens) -> int:
    """The layout units of parsed Markdown (see the module's docstring)."""
    units, width = 0, LINE_CHARACTERS
    columns = iter(_table_columns(tokens))
    for token in tokens:
        kind = token.type
        if kind == "table_open":
            width = max(1, LINE_CHARACTERS // max(1, next(columns)))
        elif kind == "table_close":
            width = LINE_CHARACTERS
        if kind in _BLOCKS and not token.hidden:
            units += 1
        elif kind == "list_item_open":
            units += 2  # the item, and its paragraph (hidden in a tight list)
        elif kind in ("fence", "code_block"):
            units += token.content.count("\n") + 1
        elif kind == "inline":
            units += _inline_units(token.children or (), width)
    return units


def _inline_units(children, width: int) -> int:
    """Typed line breaks, inline elements, and the lines the text wraps to beyond the first."""
    units, line = 0, 0
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            units += 1 + max(0, line - 1) // width
            line = 0
        elif child.type in ("text", "code_inline"):
            line += len(child.content)
        if child.type in _INLINE_ELEMENTS:
            units += 1
    return units + max(0, line - 1) // width


def _table_columns(tokens) -> list[int]:
    """Each table's widest row, in order."""
    tables: list[int] = []
    cells = 0
    for token in tokens:
        if token.type == "table_open":
            tables.append(0)
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
            tables[-1] = max(tables[-1], cells)
    return tables


def _longest_mark_run(text: str) -> int:
    """The most combining marks in a row anywhere in the text (on one character)."""
    longest = run = 0
    for character in text:
        if unicodedata.combining(character) or unicodedata.category(character) in ("Mn", "Me"):
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    return longest
