"""Borgerservice opening hours: Danish public holidays, exceptions, and "open now" in Danish.

Times are wall-clock times in Europe/Copenhagen; summer time is handled by zoneinfo.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from hotline.i18n import t
from hotline.kit.dates import COPENHAGEN, MONTHS

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
LOOKAHEAD_DAYS = 21
CLOSED_WORDS = ("lukket", "")
_TIME = r"(\d{1,2})[.:](\d{2})"
_SPAN = re.compile(rf"^\s*{_TIME}\s*[-–—]\s*{_TIME}\s*$")


_PROBLEMS = {
    "time": "is not a time like 10.00",
    "span": "is not a time span like 10.00-15.00",
    "order": "closes before it opens",
    "overlap": "has overlapping periods",
}


class HoursFormatError(ValueError):
    """A time span or hours line that cannot be read; kind keys the Danish message too."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"{value!r} {_PROBLEMS[kind]}")
        self.kind = kind
        self.value = value


@dataclass(frozen=True)
class Period:
    """One opening period on one day, e.g. 10.00–15.00."""

    opens: time
    closes: time

    def __str__(self) -> str:
        return f"{clock(self.opens)}–{clock(self.closes)}"


@dataclass(frozen=True)
class DayException:
    """A day whose hours differ from the week's; no periods means closed."""

    day: date
    periods: tuple[Period, ...] = ()
    note: str = ""


@dataclass
class Schedule:
    """A municipality's weekly hours (0 = Monday) and its exceptions."""

    weekly: dict[int, list[Period]] = field(default_factory=dict)
    exceptions: dict[date, DayException] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        """Whether any hours are registered at all."""
        return any(self.weekly.values())

    def day(self, day: date) -> tuple[list[Period], str]:
        """The periods of a date and why they differ from the week (a holiday's name, a note)."""
        exception = self.exceptions.get(day)
        if exception is not None:
            return list(exception.periods), exception.note
        holiday = danish_holidays(day.year).get(day)
        if holiday is not None:
            return [], holiday
        return sorted(self.weekly.get(day.weekday(), []), key=lambda p: p.opens), ""


@dataclass(frozen=True)
class Status:
    """Open or closed at a moment, and until or from when."""

    open_now: bool
    closes_at: datetime | None = None
    next_opens_at: datetime | None = None
    closed_today_because: str = ""
    text: str = ""


def clock(value: time) -> str:
    """A time as Danes write it: 10.00."""
    return f"{value:%H.%M}"


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous Gauss/Meeus/Jones/Butcher algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def danish_holidays(year: int) -> dict[date, str]:
    """The days Borgerservice is closed by default: public holidays, Grundlovsdag, 24 and 31 Dec.

    Store Bededag was abolished as a public holiday from 2024 (lov nr. 140 of 28 February 2023).
    """
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "nytårsdag",
        easter - timedelta(days=3): "skærtorsdag",
        easter - timedelta(days=2): "langfredag",
        easter: "påskedag",
        easter + timedelta(days=1): "2. påskedag",
        easter + timedelta(days=39): "Kristi himmelfartsdag",
        easter + timedelta(days=49): "pinsedag",
        easter + timedelta(days=50): "2. pinsedag",
        date(year, 6, 5): "grundlovsdag",
        date(year, 12, 24): "juleaftensdag",
        date(year, 12, 25): "juledag",
        date(year, 12, 26): "2. juledag",
        date(year, 12, 31): "nytårsaftensdag",
    }
    if year < 2024:
        days[easter + timedelta(days=26)] = "store bededag"
    return days


def parse_time(text: str) -> time:
    """Read 10.00 or 10:00 (HoursFormatError otherwise)."""
    match = re.fullmatch(rf"\s*{_TIME}\s*", text or "")
    if not match:
        raise HoursFormatError("time", text)
    return _time(match.group(1), match.group(2), text)


def parse_period(text: str) -> Period:
    """Read a span like 10.00-15.00 (a dash or an en dash; dots or colons)."""
    match = _SPAN.match(text or "")
    if not match:
        raise HoursFormatError("span", text)
    opens = _time(match.group(1), match.group(2), text)
    closes = _time(match.group(3), match.group(4), text)
    if closes <= opens:
        raise HoursFormatError("order", text)
    return Period(opens, closes)


def parse_day_hours(text: str) -> list[Period]:
    """Read a day's hours: "lukket" (or empty), or spans separated by commas, in order."""
    if (text or "").strip().lower() in CLOSED_WORDS:
        return []
    periods = sorted((parse_period(part) for part in text.split(",")), key=lambda p: p.opens)
    for before, after in zip(periods, periods[1:], strict=False):
        if after.opens < before.closes:
            raise HoursFormatError("overlap", text)
    return periods


def format_day_hours(periods: list[Period]) -> str:
    """The inverse of parse_day_hours: "10.00–12.00, 13.00–17.00" or "lukket"."""
    return ", ".join(str(p) for p in periods) if periods else "lukket"


def status_at(schedule: Schedule, now: datetime) -> Status:
    """Whether Borgerservice is open at now, and the Danish sentence that says so."""
    local = now.astimezone(COPENHAGEN)
    today = local.date()
    periods, why = schedule.day(today)
    for period in periods:
        opens, closes = _at(today, period.opens), _at(today, period.closes)
        if opens <= local < closes:
            text = t("essentials.open_until", time=clock(period.closes))
            return Status(True, closes_at=closes, text=text)
    reason = why if not periods else ""
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        for period in schedule.day(day)[0]:
            opens = _at(day, period.opens)
            if opens > local:
                text = t("essentials.opens", when=_when(day, today), time=clock(period.opens))
                if reason:
                    text = t("essentials.closed_today", reason=reason, then=text)
                return Status(False, next_opens_at=opens, closed_today_because=reason, text=text)
    text = t("essentials.closed_ahead", days=LOOKAHEAD_DAYS)
    return Status(False, closed_today_because=reason, text=text)


def week_overview(schedule: Schedule) -> list[tuple[str, str]]:
    """Each weekday with its regular hours: [("mandag", "10.00–15.00"), ...]."""
    return [
        (name, format_day_hours(sorted(schedule.weekly.get(i, []), key=lambda p: p.opens)))
        for i, name in enumerate(WEEKDAYS)
    ]


def upcoming_deviations(schedule: Schedule, now: datetime, days: int = 14) -> list[tuple[str, str]]:
    """Days within the next two weeks whose hours differ from the week's, with the reason."""
    today = now.astimezone(COPENHAGEN).date()
    found = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        periods, why = schedule.day(day)
        regular = sorted(schedule.weekly.get(day.weekday(), []), key=lambda p: p.opens)
        if why and periods != regular:
            hours = format_day_hours(periods)
            found.append((long_date(day), f"{hours} ({why})"))
    return found


def long_date(day: date) -> str:
    """A date with its weekday: "mandag 24. november"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day}. {MONTHS[day.month - 1]}"


def _when(day: date, today: date) -> str:
    if day == today:
        return t("essentials.today")
    if day == today + timedelta(days=1):
        return t("essentials.tomorrow", date=long_date(day))
    return long_date(day)


def _at(day: date, value: time) -> datetime:
    return datetime.combine(day, value, tzinfo=COPENHAGEN)


def _time(hours: str, minutes: str, text: str) -> time:
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise HoursFormatError("time", text)
    return time(h, m)
