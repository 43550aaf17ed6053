"""HTML views of a local rule's versions for municipality admins: history, restore, review."""

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.kit.forms import posted_form
from hotline.municipalities.service import get_municipality
from hotline.rules.history import (
    local_rule_history,
    restore_local_version,
    review_local_rule,
)
from hotline.rules.service import local_rule_for_edit
from hotline.web.rule_form import form_from_version
from hotline.web.rule_pages import admin_user, render_rule_form, rendered_diff
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)


@router.get("/admin/rules/{code}/{slug}/history")
def admin_rule_history(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
):
    """Every version of a local rule, each compared with the previous one and the national rule."""
    history = local_rule_history(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    return _render_history(request, session, user, history)


@router.post("/admin/rules/{code}/{slug}/restore/{version}")
def admin_rule_restore(
    request: Request,
    code: str,
    slug: str,
    version: int,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """Save an old version's content as a new version; a conflict re-renders the history."""
    expected = _expected_version(submitted)
    try:
        saved = restore_local_version(
            session=session,
            user=user,
            municipality_code=code,
            topic_slug=slug,
            version=version,
            expected_version=expected,
        )
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        history = local_rule_history(
            session=session, user=user, municipality_code=code, topic_slug=slug
        )
        status = 409 if isinstance(exc, Conflict) else 422
        message = t(exc.key, **exc.params)
        return _render_history(request, session, user, history, message, status_code=status)
    query = urlencode({"restored": version, "version": saved.version})
    return RedirectResponse(f"/admin/rules/{code}/{quote(slug)}/history?{query}", status_code=303)


@router.post("/admin/rules/{code}/{slug}/review")
def admin_rule_review(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """Mark a stale local rule as reviewed against the current national rule (text unchanged)."""
    expected = _expected_version(submitted)
    try:
        saved = review_local_rule(
            session=session,
            user=user,
            municipality_code=code,
            topic_slug=slug,
            expected_version=expected,
        )
    except Conflict as exc:
        session.rollback()
        editing = local_rule_for_edit(
            session=session, user=user, municipality_code=code, topic_slug=slug
        )
        message = t(exc.key, **exc.params)
        form = form_from_version(editing)
        return render_rule_form(request, session, user, editing, form, message, status_code=409)
    query = urlencode({"municipality": code, "reviewed": slug, "version": saved.version})
    return RedirectResponse(f"/admin/rules?{query}", status_code=303)


def _render_history(
    request: Request,
    session: Session,
    user: User,
    history,
    message: str | None = None,
    status_code: int = 200,
):
    place = get_municipality(session=session, code=history.municipality_code)
    restored = request.query_params.get("restored")
    saved_version = request.query_params.get("version")
    return render(
        request,
        "rules/admin_history.html",
        status_code=status_code,
        user=user,
        nav="rules",
        history=history,
        municipality=place,
        message=message,
        restored=restored if restored and restored.isdigit() else None,
        saved_version=saved_version if saved_version and saved_version.isdigit() else None,
        rendered_diff=rendered_diff,
    )


def _expected_version(submitted: dict[str, str]) -> int:
    """The version number a form was based on; -1 (never current) when missing or garbled."""
    try:
        return int(submitted.get("expected_version", ""))
    except ValueError:
        return -1
