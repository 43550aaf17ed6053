"""HTML views of the Borgerservice essentials: the console fragment and the admin's edit page."""

import re
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user, require_roles
from hotline.auth.models import Role, User
from hotline.auth.service import administered_municipalities, ensure_can_admin_municipality
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.dates import danish_date, parse_danish_date
from hotline.kit.errors import InvalidInput
from hotline.kit.forms import posted_form
from hotline.municipalities.essentials import (
    Link,
    get_essentials,
    links_of,
    load_schedule,
    save_essentials,
    upcoming_exceptions,
)
from hotline.municipalities.hours import (
    WEEKDAYS,
    DayException,
    HoursFormatError,
    Period,
    format_day_hours,
    parse_day_hours,
)
from hotline.municipalities.service import get_municipality
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
admin_user = require_roles(Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN)
CODE = Query(pattern=r"^\d{4}$")
# Which form field the service's refusals are about.
FIELD_OF_ERROR = {
    "essentials.phone_too_long": "phone",
    "essentials.exception_in_past": "exceptions",
}
_EXCEPTION_LINE = re.compile(
    r"^\s*(?P<day>\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}\.\s*[a-zæøå]+\s+\d{4})\s+"
    r"(?P<hours>lukket|\d{1,2}[.:]\d{2}\s*[-–]\s*\d{1,2}[.:]\d{2})\s*(?P<note>.*)$",
    re.IGNORECASE,
)


@router.get("/console/essentials")
def console_essentials(
    request: Request,
    municipality: str = CODE,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """The chosen municipality's Borgerservice hours, phone and links (a console fragment)."""
    essentials = get_essentials(session=session, code=municipality)
    return render(request, "console/_essentials.html", essentials=essentials)


@router.get("/admin/essentials")
def admin_essentials(
    request: Request,
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    saved: bool = False,
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """The edit form of a municipality the admin keeps (the first one unless chosen)."""
    choices = administered_municipalities(session=session, user=user, participating_only=True)
    code = municipality or (choices[0].code if choices else None)
    if code is None:
        return render(request, "essentials/admin.html", user=user, nav="essentials", choices=[])
    ensure_can_admin_municipality(user, code)
    return _render_form(request, session, user, choices, code, _stored_form(session, code), saved)


@router.post("/admin/essentials/{code}")
def admin_save_essentials(
    request: Request,
    code: str,
    form: dict[str, str] = Depends(posted_form),
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """Save hours, exceptions, links and phone; a mistake re-renders the form with the message."""
    ensure_can_admin_municipality(user, code)
    get_municipality(session=session, code=code)
    errors: dict[str, str] = {}
    weekly = _weekly(form, errors)
    exceptions = _exceptions(form.get("exceptions", ""), errors)
    links = _links(form.get("links", ""), errors)
    if not errors:
        try:
            save_essentials(
                session=session,
                user=user,
                code=code,
                weekly=weekly,
                exceptions=exceptions,
                links=links,
                phone=form.get("phone", ""),
            )
        except InvalidInput as exc:
            errors[FIELD_OF_ERROR.get(exc.key, "links")] = t(exc.key, **exc.params)
    if errors:
        choices = administered_municipalities(session=session, user=user, participating_only=True)
        return _render_form(request, session, user, choices, code, form, errors=errors)
    query = urlencode({"municipality": code, "saved": "true"})
    return RedirectResponse(f"/admin/essentials?{query}", status_code=303)


def _render_form(request, session, user, choices, code, form, saved=False, errors=None):
    essentials = get_essentials(session=session, code=code)
    return render(
        request,
        "essentials/admin.html",
        status_code=422 if errors else 200,
        user=user,
        nav="essentials",
        choices=choices,
        selected=essentials.municipality,
        essentials=essentials,
        weekdays=list(enumerate(WEEKDAYS)),
        form=form,
        errors=errors or {},
        saved=saved,
    )


def _stored_form(session: Session, code: str) -> dict[str, str]:
    municipality = get_municipality(session=session, code=code)
    schedule = load_schedule(session=session, code=code)
    form = {
        f"hours_{i}": format_day_hours(sorted(schedule.weekly.get(i, []), key=lambda p: p.opens))
        for i in range(7)
    }
    form["phone"] = municipality.phone or ""
    form["exceptions"] = "\n".join(
        f"{danish_date(e.day)} {format_day_hours(list(e.periods))} {e.note}".strip()
        for e in upcoming_exceptions(session=session, code=code)
    )
    form["links"] = "\n".join(f"{link.title} | {link.url}" for link in links_of(municipality))
    return form


def _weekly(form: dict[str, str], errors: dict[str, str]) -> dict[int, list[Period]]:
    weekly = {}
    for number, day in enumerate(WEEKDAYS):
        try:
            weekly[number] = parse_day_hours(form.get(f"hours_{number}", ""))
        except HoursFormatError as exc:
            problem = t(f"essentials.format.{exc.kind}", value=exc.value)
            errors[f"hours_{number}"] = t(
                "essentials.bad_hours", day=day.capitalize(), problem=problem
            )
    return weekly


def _exceptions(text: str, errors: dict[str, str]) -> list[DayException]:
    found: dict[date, DayException] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _EXCEPTION_LINE.match(line)
        try:
            if match is None:
                raise ValueError
            day = parse_danish_date(match["day"])
            periods = parse_day_hours(match["hours"])
        except (ValueError, HoursFormatError):
            errors["exceptions"] = t("essentials.bad_exception_line", number=number)
            return []
        if day in found:
            errors["exceptions"] = t("essentials.exception_twice", number=number)
            return []
        found[day] = DayException(day, tuple(periods), match["note"].strip()[:200])
    return sorted(found.values(), key=lambda e: e.day)


def _links(text: str, errors: dict[str, str]) -> list[Link]:
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            errors["links"] = t("essentials.bad_link_line", number=number)
            return []
        links.append(Link(title.strip(), url.strip()))
    return links
