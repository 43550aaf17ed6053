"""Adversarial reply bodies for bench/letters.py: sized at the layout budget's limits, or over them.

Each shape is a function of a size n; the bench sends the largest n the API accepts (at most
MAX_BODY_CHARS characters and within MAX_LAYOUT_UNITS / MAX_TABLE_COLUMNS), found by bisection
with the product's own check, so every accepted input is as heavy as that shape can be. The
refused ones are the shapes that once took seconds; they must come back 422 with a Danish message.
"""

from collections.abc import Callable
from functools import cache

from hotline.documents.layout_budget import MAX_TABLE_COLUMNS, layout_problem
from hotline.letters.render import MAX_BODY_CHARS

WORDS = "ordord " * 5


def _row(cell: str, columns: int = MAX_TABLE_COLUMNS) -> str:
    return "|" + "|".join([cell] * columns) + "|\n"


def _table(cell: str, rows: int, columns: int = MAX_TABLE_COLUMNS) -> str:
    return _row("h", columns) + _row("-", columns) + _row(cell, columns) * rows


def _mix(n: int) -> str:
    block = (
        "## Overskrift\n\n> citat med *kursiv* og **fed**\n> > og et citat i citatet\n\n"
        "- punkt med [et link](https://aarhus.dk/borger)\n  - et underpunkt med `kode`\n"
        "    1. nummereret\n\n" + _table("*a* b", 1) + "\n```\nkode\n```\n\n---\n\n"
    )
    return block * n


# name -> body of size n; from the earlier probes of the letters issue, then new shapes.
SHAPES: dict[str, Callable[[int], str]] = {
    "list items": lambda n: "- a\n" * n,
    "list items in 15 quotes": lambda n: ("> " * 15 + "- a\n") * n,
    "lines": lambda n: "ord\n" * n,
    "paragraphs": lambda n: "a\n\n" * n,
    "headings": lambda n: "## a\n" * n,
    "hr": lambda n: "---\n\n" * n,
    "ordered list": lambda n: "".join(f"{i}. a\n" for i in range(1, n + 1)),
    "nested list 40 deep": lambda n: "".join("  " * (i % 40) + "- x\n" for i in range(n)),
    "code block lines": lambda n: "```\n" + "x\n" * n + "```",
    "code block 99-char lines": lambda n: "```\n" + ("x" * 99 + "\n") * n + "```",
    "lines in 30 quotes": lambda n: "> " * 30 + "ord\n" + "ord\n" * n,
    "emphasis, code, link lines": lambda n: "***a*** `b` [c](https://c.dk)\n" * n,
    "emphasis": lambda n: "*a* " * n,
    "links": lambda n: "[a](https://a.dk) " * n,
    "long word": lambda n: "a" * n,
    "table 2 cols": lambda n: _table("1", n, 2),
    "table 8 cols": lambda n: _table("12", n),
    "table 8 cols, 5-word cells": lambda n: _table(WORDS, n),
    "table 8 cols, long cells": lambda n: _table("ordord " * n, 3),
    "table 8 cols, emphasis cells": lambda n: _table("*a* **b** `c`", n),
    "nested quotes 100": lambda n: "> " * 100 + "tekst " * n,
    "list nested one deeper a line": lambda n: "".join("  " * i + "- x\n" for i in range(n)),
    "mix of everything": _mix,
    "long inline code": lambda n: "`" + "x " * n + "`",
    "no-break spaces": lambda n: "a&nbsp;" * n,
    "soft hyphens": lambda n: "ab&shy;" * n,
    "CJK": lambda n: "漢字かな" * n,
    "emoji": lambda n: "😀🎉" * n,
    "bidi words": lambda n: "abc שלום مرحبا " * n,
    "script mix": lambda n: "a漢😀שم" * n,
    "combining acutes on one letter": lambda n: "a" + "\u0301" * n,
    "Hebrew points on one letter": lambda n: "\u05d0" + "\u05b0" * n,
    "Arabic fathas on one letter": lambda n: "\u0628" + "\u064e" * n,
    "Thai tone marks on one letter": lambda n: "\u0e01" + "\u0e48" * n,
}
# name -> body the API must refuse (too many columns, or too much layout).
REFUSED: dict[str, str] = {
    "table 1000 cols": _table("b", 1, 1000),
    "table 9 cols": _table("b", 3, MAX_TABLE_COLUMNS + 1),
    "table 8 cols x 1100 rows": _table("1", 1100),
    "table 2 cols x 3300 rows": _table("1", 3300, 2),
    "lines 5000": "ord\n" * 5000,
    "list items 5000": "- a\n" * 5000,
    "emphasis 5000": "*a* " * 5000,
    "paragraphs 6600": "a\n\n" * 6600,
    "headings 4000": "## a\n" * 4000,
    "hr 4000": "---\n\n" * 4000,
}


def accepted(body: str) -> bool:
    """Whether the API takes this body (its length and its layout)."""
    return len(body) <= MAX_BODY_CHARS and body.strip() != "" and layout_problem(body) is None


def largest(shape: Callable[[int], str]) -> int:
    """The largest size n of the shape the API accepts (bisection; 0 when none)."""
    low, high = 0, 1
    while high <= 4 * MAX_BODY_CHARS and accepted(shape(high)):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if accepted(shape(middle)) else (low, middle)
    return low


@cache
def adversarial_inputs() -> tuple[tuple[str, str, bool], ...]:
    """(name, body, should be accepted) for every shape at its limit and every refused body."""
    inputs = []
    for name, shape in SHAPES.items():
        n = largest(shape)
        inputs.append((f"{name} (n={n})", shape(n), True))
    for name, body in REFUSED.items():
        assert not accepted(body), f"{name} is within the budget"
        inputs.append((name, body[:MAX_BODY_CHARS], False))
    return tuple(inputs)
