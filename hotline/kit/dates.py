"""Danish date formatting ("23. november 2026") and the Danish local time zone."""

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


def danish_date(value: date | datetime) -> str:
    """A date as Danish letters write it: "23. november 2026"."""
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date()
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def danish_datetime(value: datetime) -> str:
    """A timestamp in Danish local time: "23. november 2026 kl. 18.05"."""
    local = value.astimezone(COPENHAGEN)
    return f"{danish_date(local)} kl. {local:%H.%M}"
