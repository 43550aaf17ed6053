"""The essentials file (data/borgerservice.toml): read, check and load into the database."""

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.kit.errors import InvalidInput
from hotline.municipalities.essentials import (
    Link,
    checked_links,
    checked_phone,
    essentials_snapshot,
    replace_essentials,
)
from hotline.municipalities.hours import (
    WEEKDAYS,
    DayException,
    HoursFormatError,
    Period,
    parse_day_hours,
)
from hotline.municipalities.models import Municipality, ServiceHours

DEFAULT_FILE = Path(__file__).parent / "data" / "borgerservice.toml"
KEYS = {"code", "name", "phone", "web", "hours", "links", "exception"}


class EssentialsFileError(Exception):
    """The file is unreadable or wrong; every problem names the file and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class EssentialsEntry:
    """One municipality's essentials as the file gives them."""

    code: str
    name: str
    phone: str | None
    web: str | None
    weekly: dict[int, list[Period]] = field(default_factory=dict)
    exceptions: list[DayException] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def read_essentials_file(path: Path) -> list[EssentialsEntry]:
    """Every entry of the file; EssentialsFileError listing all problems if any is bad."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EssentialsFileError([f"{path}: {exc}"]) from exc
    problems: list[str] = []
    entries: list[EssentialsEntry] = []
    raw = data.get("municipality")
    if not isinstance(raw, list) or not raw:
        raise EssentialsFileError([f"{path}: no [[municipality]] entries"])
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"{path}: municipality[{index}]"
        code = str(item.get("code", "")) if isinstance(item, dict) else ""
        if code:
            where += f" ({code})"
        entry = _entry(item, where, problems)
        if entry is None:
            continue
        if entry.code in seen:
            problems.append(f"{where}: code: {entry.code} is listed twice")
        seen.add(entry.code)
        entries.append(entry)
    if problems:
        raise EssentialsFileError(problems)
    return entries


def load_essentials(
    *, session: Session, path: Path = DEFAULT_FILE, only_missing: bool = False
) -> list[str]:
    """Store the file's essentials (all or nothing); only_missing skips those with hours already.

    Returns the codes loaded.
    """
    entries = read_essentials_file(path)
    problems = []
    places = {m.code: m for m in session.scalars(select(Municipality))}
    for entry in entries:
        place = places.get(entry.code)
        if place is None:
            problems.append(f"{path}: municipality {entry.code}: code: no such municipality")
        elif place.name != entry.name:
            problems.append(
                f"{path}: municipality {entry.code}: name: {entry.name!r} but {entry.code} is "
                f"{place.name!r}"
            )
    if problems:
        raise EssentialsFileError(problems)
    having = set(session.scalars(select(ServiceHours.municipality_code).distinct()))
    loaded = []
    for entry in entries:
        if only_missing and entry.code in having:
            continue
        place = places[entry.code]
        before = essentials_snapshot(session=session, municipality=place)
        if entry.web:
            place.web = entry.web
        replace_essentials(
            session=session,
            municipality=place,
            weekly=entry.weekly,
            exceptions=entry.exceptions,
            links=entry.links,
            phone=entry.phone,
        )
        record_change(
            session=session,
            actor=None,
            action="essentials.load",
            entity_type="municipality",
            entity_id=entry.code,
            municipality_code=entry.code,
            before=before,
            after=essentials_snapshot(session=session, municipality=place),
        )
        loaded.append(entry.code)
    return loaded


def _entry(item: Any, where: str, problems: list[str]) -> EssentialsEntry | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    unknown = sorted(set(item) - KEYS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    code = item.get("code")
    if not (isinstance(code, str) and len(code) == 4 and code.isdigit()):
        problems.append(f'{where}: code: must be a four-digit string like "0751"')
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name: required (the municipality's name, as a check)")
    phone = _text(item, "phone", where, problems)
    web = _text(item, "web", where, problems)
    if web and not web.startswith("https://"):
        problems.append(f"{where}: web: must start with https://")
    try:
        phone = checked_phone(phone)
    except InvalidInput:
        problems.append(f"{where}: phone: at most 20 characters")
    entry = EssentialsEntry(code=str(code), name=str(name), phone=phone, web=web)
    entry.weekly = _weekly(item.get("hours"), where, problems)
    entry.exceptions = _exceptions(item.get("exception", []), where, problems)
    entry.links = _links(item.get("links", []), where, problems)
    return entry if len(problems) == before else None


def _text(item: dict, key: str, where: str, problems: list[str]) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        problems.append(f"{where}: {key}: must be a string")
        return None
    return value


def _weekly(hours: Any, where: str, problems: list[str]) -> dict[int, list[Period]]:
    if not isinstance(hours, dict):
        problems.append(f'{where}: hours: required, a table of weekdays (mandag = "10.00-15.00")')
        return {}
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        problems.append(f"{where}: hours: unknown weekday(s) {', '.join(unknown)}")
    weekly = {}
    for number, day in enumerate(WEEKDAYS):
        value = hours.get(day, "lukket")
        try:
            weekly[number] = parse_day_hours(value if isinstance(value, str) else "?")
        except HoursFormatError as exc:
            problems.append(f"{where}: hours.{day}: {exc}")
    return weekly


def _exceptions(items: Any, where: str, problems: list[str]) -> list[DayException]:
    found = []
    for index, item in enumerate(items if isinstance(items, list) else [None]):
        at = f"{where}: exception[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("day"), date):
            problems.append(f"{at}: day: required, a date like 2026-12-23")
            continue
        try:
            periods = parse_day_hours(str(item.get("hours", "lukket")))
        except HoursFormatError as exc:
            problems.append(f"{at}: hours: {exc}")
            continue
        if len(periods) > 1:
            problems.append(f"{at}: hours: one period at most on an exception day")
            continue
        found.append(DayException(item["day"], tuple(periods), str(item.get("note", ""))))
    return found


def _links(items: Any, where: str, problems: list[str]) -> list[Link]:
    if not isinstance(items, list):
        problems.append(f"{where}: links: must be a list of {{ title, url }}")
        return []
    links = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"{where}: links[{index}]: must be {{ title = ..., url = ... }}")
            continue
        links.append(Link(str(item.get("title", "")), str(item.get("url", ""))))
    try:
        return checked_links(links)
    except InvalidInput as exc:
        number = exc.params.get("number")
        field_name = f"links[{number - 1}]" if number else "links"
        problems.append(f"{where}: {field_name}: {exc.key.rsplit('.', 1)[-1].replace('_', ' ')}")
        return []
