"""HTML views of rule flags: the console's "unclear/wrong" form and the admin's list of flags."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.auth.service import administered_municipalities
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.municipalities.service import get_municipality
from hotline.rules.flags import (
    MAX_TEXT_LENGTH,
    close_flag,
    flag_rule,
    get_flag,
    list_flags,
    open_flag_counts,
)
from hotline.rules.resolve import resolve_rule
from hotline.rules.service import admin_overview
from hotline.web.rule_pages import admin_user, flag_form_context
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
CODE = Form(pattern=r"^\d{4}$")


@router.post("/console/rules/{slug}/flags")
def console_flag(
    request: Request,
    slug: str,
    municipality: str = CODE,
    kind: str = Form(default=""),
    comment: str = Form(default=""),
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """Flag the rule shown in the console; htmx gets the control back, thanked or with the error."""
    place = get_municipality(session=session, code=municipality)
    error, sent = None, False
    try:
        flag_rule(
            session=session,
            user=user,
            municipality_code=municipality,
            topic_slug=slug,
            kind=kind,
            comment=comment,
        )
        sent = True
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    rule = resolve_rule(session=session, topic_slug=slug, municipality_code=municipality)
    context = flag_form_context(session, user, municipality, slug)
    if error:
        context["flag_form"] = {"kind": kind, "comment": comment}
    return render(
        request,
        "rules/_flag.html",
        status_code=422 if error else 200,
        rule=rule,
        municipality=place,
        flag_error=error,
        flag_sent=sent,
        **context,
    )


@router.get("/admin/rules/flags")
def admin_flags(
    request: Request,
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    state: str = Query(default="open", pattern=r"^(open|closed)$"),
    topic: str | None = Query(default=None, max_length=100),
    closed: int | None = None,
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """The open (or closed) flags of a municipality the admin keeps, each closable with a note."""
    return _render_flags(
        request, session, user, municipality, state=state, topic=topic, closed_id=closed
    )


@router.post("/admin/rules/flags/{flag_id}/close")
def admin_close_flag(
    request: Request,
    flag_id: int,
    resolution: str = Form(default=""),
    topic: str = Form(default="", max_length=100),
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """Close a flag with a note; a closed flag (409) or an empty note (422) re-renders the list."""
    flag = get_flag(session=session, user=user, flag_id=flag_id)
    code = flag.municipality_code
    try:
        close_flag(session=session, user=user, flag_id=flag_id, resolution=resolution)
    except (Conflict, InvalidInput) as exc:
        return _render_flags(
            request,
            session,
            user,
            code,
            topic=topic or None,
            message=t(exc.key, **exc.params),
            failed=(flag_id, resolution),
            status_code=409 if isinstance(exc, Conflict) else 422,
        )
    query = {"municipality": code, "closed": flag_id} | ({"topic": topic} if topic else {})
    return RedirectResponse(f"/admin/rules/flags?{urlencode(query)}", status_code=303)


def _render_flags(
    request: Request,
    session: Session,
    user: User,
    municipality: str | None,
    *,
    state: str = "open",
    topic: str | None = None,
    closed_id: int | None = None,
    message: str | None = None,
    failed: tuple[int, str] | None = None,
    status_code: int = 200,
):
    choices = administered_municipalities(session=session, user=user)
    code = municipality or (choices[0].code if choices else None)
    context = {"user": user, "nav": "rules", "choices": choices, "state": state, "topic": topic}
    if code is None:
        return render(request, "rules/admin_flags.html", **context)
    flags = list_flags(
        session=session,
        user=user,
        municipality_code=code,
        open_only=state == "open",
        topic_slug=topic,
    )
    titles = {
        row.topic_slug: row.title
        for row in admin_overview(session=session, user=user, municipality_code=code)
    }
    return render(
        request,
        "rules/admin_flags.html",
        status_code=status_code,
        **context,
        selected=get_municipality(session=session, code=code),
        flags=flags,
        titles=titles,
        open_count=sum(
            open_flag_counts(session=session, user=user, municipality_code=code).values()
        ),
        closed_id=closed_id,
        message=message,
        failed=failed,
        flag_max=MAX_TEXT_LENGTH,
    )
