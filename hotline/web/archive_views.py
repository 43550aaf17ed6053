"""HTML view of the letters archive: find archived replies and download their PDFs."""

import re
from dataclasses import asdict, dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.letters.archive import ArchivePage, archive_municipalities, search_archive
from hotline.letters.models import Channel, ReplyStatus
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
archive_user = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.MUNICIPALITY_ADMIN)
PER_PAGE = 25


@dataclass(frozen=True)
class ArchiveFilters:
    """The filter form as submitted (strings, kept as typed so the form shows them again)."""

    municipality: str = ""
    q: str = ""
    date_from: str = ""
    date_to: str = ""
    channel: str = ""
    status: str = ""

    def query(self, page: int = 1) -> str:
        """The query string of these filters on a page, leaving out what is empty."""
        names = {"date_from": "from", "date_to": "to"}
        params = {names.get(k, k): v for k, v in asdict(self).items() if v}
        if page > 1:
            params["page"] = str(page)
        return urlencode(params)


@router.get("/arkiv")
def archive_page(
    request: Request,
    municipality: str = Query("", max_length=20),
    q: str = Query("", max_length=200),
    date_from: str = Query("", alias="from", max_length=20),
    date_to: str = Query("", alias="to", max_length=20),
    channel: str = Query("", max_length=20),
    status: str = Query("", max_length=20),
    page: int = Query(1, ge=1, le=100_000),
    user: User = Depends(archive_user),
    session: Session = request_session,
):
    """The archive's filter form and results; an htmx request gets only the results."""
    filters = ArchiveFilters(
        municipality.strip(), q.strip(), date_from.strip(), date_to.strip(), channel, status
    )
    choices = archive_municipalities(session=session, user=user)
    found, error = None, None
    try:
        found = search_archive(session, user, page=page, per_page=PER_PAGE, **_parsed(filters))
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    fragment = bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )
    response = render(
        request,
        "archive/_results.html" if fragment else "archive/page.html",
        status_code=422 if error else 200,
        user=user,
        nav="archive",
        filters=filters,
        choices=choices,
        names={m.code: m.name for m in choices},
        channels=list(Channel),
        statuses=list(ReplyStatus),
        found=found,
        cited=_cited_labels(found),
        error=error,
        previous_query=filters.query(page - 1) if found and found.has_previous else None,
        next_query=filters.query(page + 1) if found and found.has_next else None,
    )
    # The same URL answers with a page or a fragment; caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


def _parsed(filters: ArchiveFilters) -> dict:
    """The search_archive arguments of the form's strings; InvalidInput names what is wrong."""
    if filters.municipality and not re.fullmatch(r"\d{4}", filters.municipality):
        raise InvalidInput("archive.bad_municipality")
    if filters.channel and filters.channel not in {c.value for c in Channel}:
        raise InvalidInput("archive.bad_channel")
    if filters.status and filters.status not in {s.value for s in ReplyStatus}:
        raise InvalidInput("archive.bad_status")
    return dict(
        municipality_code=filters.municipality or None,
        q=filters.q or None,
        date_from=_date(filters.date_from),
        date_to=_date(filters.date_to),
        channel=Channel(filters.channel) if filters.channel else None,
        status=ReplyStatus(filters.status) if filters.status else None,
    )


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("archive.bad_date") from exc


def _cited_labels(found: ArchivePage | None) -> dict[int, list[str]]:
    """Each listed reply's cited rules as "topic (national version 3, lokal version 2)"."""
    if found is None:
        return {}
    return {r.id: [_cited_label(c, found) for c in r.cited_rules or []] for r in found.items}


def _cited_label(cited: dict, found: ArchivePage) -> str:
    versions = [found.versions.get(i) for i in cited.get("rule_version_ids") or []]
    parts = [
        t("archive.local_version" if v.local else "archive.national_version", version=v.version)
        for v in versions
        if v is not None
    ]
    topic = str(cited.get("topic", ""))
    return f"{topic} ({', '.join(parts)})" if parts else topic
