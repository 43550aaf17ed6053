"""HTML view of the search's words for a municipality admin: its synonyms and its knowledge gaps."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.auth.service import administered_municipalities, ensure_can_admin_municipality
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.insight.monthly import previous_month
from hotline.insight.report import month_text
from hotline.insight.search_gaps import knowledge_gaps
from hotline.kit.errors import Conflict, InvalidInput
from hotline.municipalities.service import get_municipality
from hotline.reports.period import next_month, utc_midnight
from hotline.rules.resolve import today_in_denmark
from hotline.rules.synonyms import add_local_synonym, delete_local_synonym, list_synonyms
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
admin_user = require_roles(Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN)
PAGE = "/admin/search"
CODE = Path(pattern=r"^\d{4}$")


@router.get(PAGE)
def search_admin(
    request: Request,
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    done: str | None = Query(default=None, pattern=r"^(added|deleted)$"),
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """A municipality's own synonyms (to add and remove), the national ones, and its gaps."""
    choices = administered_municipalities(session=session, user=user)
    code = municipality or (choices[0].code if choices else None)
    if code is None:
        return render(request, "search/admin.html", user=user, nav="search", choices=[])
    ensure_can_admin_municipality(user, code)
    return _page(request, session, user, choices, code, done=done)


@router.post(PAGE + "/{code}/synonyms")
def add_synonym(
    request: Request,
    code: str = CODE,
    line: str = Form(default="", max_length=1000),
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """Add a line to the municipality's synonyms; a mistake re-renders the page with it."""
    try:
        add_local_synonym(session=session, user=user, municipality_code=code, line=line)
    except (InvalidInput, Conflict) as exc:
        choices = administered_municipalities(session=session, user=user)
        error = t(exc.key, **exc.params)
        return _page(request, session, user, choices, code, line=line, error=error)
    return RedirectResponse(f"{PAGE}?{urlencode({'municipality': code, 'done': 'added'})}", 303)


@router.post(PAGE + "/{code}/synonyms/{synonym_id}/delete")
def delete_synonym(
    code: str = CODE,
    synonym_id: int = Path(ge=1, le=2**31 - 1),
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """Remove one of the municipality's lines."""
    delete_local_synonym(session=session, user=user, municipality_code=code, synonym_id=synonym_id)
    return RedirectResponse(f"{PAGE}?{urlencode({'municipality': code, 'done': 'deleted'})}", 303)


def _page(request, session, user, choices, code, line="", error=None, done=None):
    municipality = get_municipality(session=session, code=code)
    month = today_in_denmark().replace(day=1)
    gaps = [
        (
            month_text(start),
            knowledge_gaps(
                session=session,
                municipality_code=code,
                start=utc_midnight(start),
                end=utc_midnight(next_month(start)),
            ),
        )
        for start in (month, previous_month(month))
    ]
    return render(
        request,
        "search/admin.html",
        status_code=422 if error else 200,
        user=user,
        nav="search",
        choices=choices,
        selected=municipality,
        local=list_synonyms(session=session, municipality_code=code),
        national=list_synonyms(session=session, municipality_code=None),
        gaps=gaps,
        line=line,
        error=error,
        done=done,
    )
