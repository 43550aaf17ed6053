"""Finding Danish CPR numbers (DDMMYY-XXXX) in free text, and masking them.

A number counts when its date is valid under the CPR century rules (the 7th digit with the
year); modulus 11 is not checked, as numbers issued since 2007 need not pass it. Digits inside a
longer run (a phone number with +45, a 20-digit reference) are not a CPR number.
"""

import re
from datetime import date

# Not part of a longer run of digits (also not when joined by - . / or after a +).
_EDGE_BEFORE = r"(?<![\d+])(?<!\d[-./])"
_EDGE_AFTER = r"(?!\d)(?![-./]\d)"
_SHAPE = re.compile(_EDGE_BEFORE + r"(\d{2})(\d{2})(\d{2})[-‐‑–]?(\d)(\d{3})" + _EDGE_AFTER)
MASK = "XXXXXX-XXXX"


def cpr_year(two_digit_year: int, seventh_digit: int) -> int:
    """The birth year from the year's two digits and the serial's first digit (CPR's table)."""
    yy = two_digit_year
    if seventh_digit <= 3:
        return 1900 + yy
    if seventh_digit in (4, 9):
        return 2000 + yy if yy <= 36 else 1900 + yy
    return 2000 + yy if yy <= 57 else 1800 + yy  # 5-8


def _valid(match: re.Match) -> bool:
    day, month, yy, seventh = (int(match.group(i)) for i in range(1, 5))
    try:
        date(cpr_year(yy, seventh), month, day)
    except ValueError:
        return False
    return True


def find_cpr_numbers(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of date-valid CPR numbers in the text."""
    return [m.span() for m in _SHAPE.finditer(text or "") if _valid(m)]


def contains_cpr(text: str | None) -> bool:
    """Whether the text contains a date-valid CPR number."""
    return any(_valid(m) for m in _SHAPE.finditer(text or ""))


def mask_cpr(text: str) -> str:
    """The text with everything CPR-shaped (any day 01-31 and month 01-12) replaced by X's.

    Looser than find_cpr_numbers: for logs, a near miss is better masked than kept.
    """

    def replace(match: re.Match) -> str:
        day, month = int(match.group(1)), int(match.group(2))
        return MASK if 1 <= day <= 31 and 1 <= month <= 12 else match.group(0)

    return _SHAPE.sub(replace, text)


# mask_cpr for PostgreSQL's regexp_replace (…, 'g'), for exports PostgreSQL writes itself: the
# same edges, with the day (01-31) and month (01-12) checked in the pattern.
POSTGRES_MASK_PATTERN = (
    "(?<![0-9+])(?<![0-9][-./])(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}[-‐‑–]?[0-9]{4}"
    "(?![0-9])(?![-./][0-9])"
)
