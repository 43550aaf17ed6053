"""HTML views of the rule store for municipality admins: the list and the edit form.

The form's buttons post to the draft routes (rule_drafts_views); history, restore and review are in
rule_history_views. The form's values and problems are in rule_form; the page is rendered by
rule_pages.
"""

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.auth.service import administered_municipalities
from hotline.db import TransactionRoute, request_session
from hotline.municipalities.service import get_municipality
from hotline.rules.drafts import draft_topics
from hotline.rules.flags import open_flag_counts
from hotline.rules.service import admin_overview, local_rule_for_edit
from hotline.web.rule_pages import admin_user, edit_page_context, render_rule_form
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)


@router.get("/admin/rules")
def admin_rules(
    request: Request,
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    saved: str | None = Query(default=None, max_length=100),
    reviewed: str | None = Query(default=None, max_length=100),
    version: int | None = None,
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """The admin's municipalities' local rules (stale first) and topics without one."""
    choices = administered_municipalities(session=session, user=user)
    code = municipality or (choices[0].code if choices else None)
    if code is None:
        return render(request, "rules/admin_list.html", user=user, nav="rules", choices=[])
    rows = admin_overview(session=session, user=user, municipality_code=code)
    return render(
        request,
        "rules/admin_list.html",
        user=user,
        nav="rules",
        choices=choices,
        selected=get_municipality(session=session, code=code),
        local_rows=[r for r in rows if r.local_version],
        other_rows=[r for r in rows if not r.local_version],
        saved=saved,
        reviewed=reviewed,
        saved_version=version,
        flag_counts=open_flag_counts(session=session, user=user, municipality_code=code),
        drafts=draft_topics(session=session, user=user, municipality_code=code),
    )


@router.get("/admin/rules/{code}/{slug}")
def admin_rule_form(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """The edit form of a local rule beside the national text (its draft's content, if any)."""
    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    form, extra = edit_page_context(session, user, editing)
    return render_rule_form(request, session, user, editing, form, **extra)
