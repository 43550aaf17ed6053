"""Danish date formatting ("23. november 2026") and the Danish local time zone."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def danish_date(value: date | datetime | str) -> str:
    """A date as Danish letters write it: "23. november 2026" (also from an ISO date string)."""
    if isinstance(value, str):  # a date kept in JSON, such as a rule source's "verified"
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date()
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def danish_datetime(value: datetime, seconds: bool = False) -> str:
    """A timestamp in Danish local time: "23. november 2026 kl. 18.05" (or "kl. 18.05.09")."""
    local = value.astimezone(COPENHAGEN)
    clock = f"{local:%H.%M.%S}" if seconds else f"{local:%H.%M}"
    return f"{danish_date(local)} kl. {clock}"


_LONG_DATE = re.compile(r"(\d{1,2})\.\s*([a-zæøå]+)\s+(\d{4})")


def parse_danish_date(text: str) -> date:
    """A date written "23. december 2026", "23.12.2026" or "2026-12-23"; ValueError otherwise."""
    text = text.strip().lower()
    if match := _LONG_DATE.fullmatch(text):
        return date(int(match[3]), MONTHS.index(match[2]) + 1, int(match[1]))
    if "-" in text:
        return date.fromisoformat(text)
    return datetime.strptime(text, "%d.%m.%Y").date()
