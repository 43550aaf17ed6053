"""A municipality's essentials for the agent: Borgerservice hours, phone, self-service links."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.db import utcnow
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput
from hotline.municipalities.hours import (
    DayException,
    Period,
    Schedule,
    Status,
    format_day_hours,
    status_at,
    upcoming_deviations,
    week_overview,
)
from hotline.municipalities.models import Municipality, ServiceHours, ServiceHoursException
from hotline.municipalities.service import get_municipality

MAX_LINKS = 8
MAX_TITLE = 100
MAX_URL = 500
MAX_PHONE = 20
MAX_NOTE = 200


@dataclass(frozen=True)
class Link:
    """A self-service page the agent can point the caller to."""

    title: str
    url: str


@dataclass
class Essentials:
    """What the console shows about the caller's municipality."""

    municipality: Municipality
    schedule: Schedule
    status: Status | None
    week: list[tuple[str, str]]
    deviations: list[tuple[str, str]]
    links: list[Link]

    @property
    def registered(self) -> bool:
        """Whether the municipality has opening hours registered."""
        return self.schedule.registered


def load_schedule(*, session: Session, code: str) -> Schedule:
    """The municipality's weekly hours and exceptions, as stored."""
    schedule = Schedule()
    for row in session.scalars(select(ServiceHours).where(ServiceHours.municipality_code == code)):
        schedule.weekly.setdefault(row.weekday, []).append(Period(row.opens, row.closes))
    for row in session.scalars(
        select(ServiceHoursException).where(ServiceHoursException.municipality_code == code)
    ):
        periods = (Period(row.opens, row.closes),) if row.opens and row.closes else ()
        schedule.exceptions[row.day] = DayException(row.day, periods, row.note)
    return schedule


def get_essentials(*, session: Session, code: str, now: datetime | None = None) -> Essentials:
    """The municipality's essentials at a moment (default: now)."""
    municipality = get_municipality(session=session, code=code)
    schedule = load_schedule(session=session, code=code)
    now = now or utcnow()
    registered = schedule.registered
    return Essentials(
        municipality=municipality,
        schedule=schedule,
        status=status_at(schedule, now) if registered else None,
        week=week_overview(schedule) if registered else [],
        deviations=upcoming_deviations(schedule, now) if registered else [],
        links=links_of(municipality),
    )


def links_of(municipality: Municipality) -> list[Link]:
    """The stored self-service links, skipping malformed entries."""
    found = []
    for entry in municipality.self_service_links or []:
        if isinstance(entry, dict) and entry.get("title") and entry.get("url"):
            found.append(Link(str(entry["title"]), str(entry["url"])))
    return found


def checked_links(links: list[Link]) -> list[Link]:
    """The links with title and an http(s) URL each; InvalidInput naming the first bad one."""
    if len(links) > MAX_LINKS:
        raise InvalidInput("essentials.too_many_links", max=MAX_LINKS)
    for number, link in enumerate(links, start=1):
        if not link.title.strip() or len(link.title) > MAX_TITLE:
            raise InvalidInput("essentials.bad_link_title", number=number, max=MAX_TITLE)
        url = link.url.strip()
        if not url.lower().startswith(("https://", "http://")) or len(url) > MAX_URL or " " in url:
            raise InvalidInput("essentials.bad_link_url", number=number)
    return [Link(link.title.strip(), link.url.strip()) for link in links]


def checked_phone(phone: str | None) -> str | None:
    """The phone number as given (trimmed), at most 20 characters; None when empty."""
    phone = (phone or "").strip()
    if len(phone) > MAX_PHONE:
        raise InvalidInput("essentials.phone_too_long", max=MAX_PHONE)
    return phone or None


def replace_essentials(
    *,
    session: Session,
    municipality: Municipality,
    weekly: dict[int, list[Period]],
    exceptions: list[DayException],
    links: list[Link],
    phone: str | None,
    exceptions_from: date | None = None,
) -> None:
    """Store hours, exceptions (those from exceptions_from on, or all), links and phone."""
    code = municipality.code
    session.execute(delete(ServiceHours).where(ServiceHours.municipality_code == code))
    stale = delete(ServiceHoursException).where(ServiceHoursException.municipality_code == code)
    if exceptions_from is not None:
        stale = stale.where(ServiceHoursException.day >= exceptions_from)
    session.execute(stale)
    for weekday, periods in weekly.items():
        for period in periods:
            session.add(
                ServiceHours(
                    municipality_code=code,
                    weekday=weekday,
                    opens=period.opens,
                    closes=period.closes,
                )
            )
    for exception in exceptions:
        period = exception.periods[0] if exception.periods else None
        session.add(
            ServiceHoursException(
                municipality_code=code,
                day=exception.day,
                opens=period.opens if period else None,
                closes=period.closes if period else None,
                note=exception.note[:MAX_NOTE],
            )
        )
    municipality.self_service_links = [{"title": x.title, "url": x.url} for x in links]
    municipality.phone = phone
    session.flush()


def save_essentials(
    *,
    session: Session,
    user: User,
    code: str,
    weekly: dict[int, list[Period]],
    exceptions: list[DayException],
    links: list[Link],
    phone: str | None,
) -> Municipality:
    """An admin's edit: the week, the exceptions from today on, links and phone; audited."""
    ensure_can_admin_municipality(user, code)
    municipality = get_municipality(session=session, code=code)
    today = utcnow().astimezone(COPENHAGEN).date()
    if any(e.day < today for e in exceptions):
        raise InvalidInput("essentials.exception_in_past")
    before = essentials_snapshot(session=session, municipality=municipality)
    replace_essentials(
        session=session,
        municipality=municipality,
        weekly=weekly,
        exceptions=exceptions,
        links=checked_links(links),
        phone=checked_phone(phone),
        exceptions_from=today,
    )
    after = essentials_snapshot(session=session, municipality=municipality)
    if after != before:
        record_change(
            session=session,
            actor=user,
            action="essentials.update",
            entity_type="municipality",
            entity_id=code,
            municipality_code=code,
            before=before,
            after=after,
        )
    return municipality


def upcoming_exceptions(*, session: Session, code: str) -> list[DayException]:
    """The exceptions from today on, by date (what the admin form edits)."""
    today = utcnow().astimezone(COPENHAGEN).date()
    schedule = load_schedule(session=session, code=code)
    return sorted((e for e in schedule.exceptions.values() if e.day >= today), key=lambda e: e.day)


def essentials_snapshot(*, session: Session, municipality: Municipality) -> dict[str, Any]:
    """A JSON-safe dict of the essentials (for the audit log)."""
    schedule = load_schedule(session=session, code=municipality.code)
    return {
        "hours": dict(week_overview(schedule)),
        "exceptions": {
            e.day.isoformat(): f"{format_day_hours(list(e.periods))} {e.note}".strip()
            for e in sorted(schedule.exceptions.values(), key=lambda e: e.day)
        },
        "links": list(municipality.self_service_links or []),
        "phone": municipality.phone,
    }
