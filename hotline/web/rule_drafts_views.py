"""HTML views of local rule drafts: save a draft, preview it as agents will see it, publish it."""

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.kit.forms import posted_form
from hotline.kit.markdown import render_markdown
from hotline.municipalities.service import get_municipality
from hotline.rules.drafts import (
    discard_draft,
    preview_draft,
    publish_draft,
    save_draft,
)
from hotline.rules.models import RuleDraft
from hotline.rules.service import local_rule_for_edit
from hotline.web.rule_form import (
    checked_rule_form,
    draft_form,
    form_from_version,
    posted_rule_form,
)
from hotline.web.rule_pages import admin_user, render_rule_form, rule_draft
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
DRAFT_PATH = "/admin/rules/{code}/{slug}/draft"


@router.post(DRAFT_PATH)
def admin_draft_save(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """Save the form as the rule's draft (not published); a conflict or bad input re-renders it."""
    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    form = _posted(submitted, editing)
    data, errors = checked_rule_form(form, editing)
    if errors:
        return _invalid(
            request, session, user, editing, form, errors, "rules.drafts.not_saved_fields"
        )
    try:
        _save(session, user, editing, form, data)
    except (ValueError, InvalidInput, Conflict) as exc:
        return _refused(request, session, user, editing, form, exc, "rules.drafts.not_saved")
    return RedirectResponse(f"/admin/rules/{code}/{quote(slug)}?draft=saved", status_code=303)


@router.post(DRAFT_PATH + "/preview")
def admin_draft_preview(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """The rule as agents would see it with the form's content published; saves nothing.

    htmx gets the preview fragment, a plain form post the whole edit page with it.
    """
    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    form = _posted(submitted, editing)
    days = request.app.state.settings.rules_verify_after_days
    data, errors = checked_rule_form(form, editing)
    preview, message, status = None, None, 422 if errors else 200
    if data is not None:
        try:
            preview = preview_draft(
                session=session,
                user=user,
                municipality_code=code,
                topic_slug=slug,
                data=data,
                verify_after_days=days,
            )
        except (ValueError, InvalidInput) as exc:
            message, status = _message(exc, "rules.drafts.not_previewed"), 422
    place = get_municipality(session=session, code=code)
    context = dict(preview=preview, preview_error=message, verify_after_days=days)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "rules/_draft_preview.html",
            status_code=status,
            municipality=place,
            preview_errors=errors,
            error_heading=t("rules.drafts.not_previewed_fields"),
            **context,
        )
    draft = rule_draft(session, user, editing)
    return render_rule_form(
        request,
        session,
        user,
        editing,
        form,
        status_code=status,
        draft=draft,
        errors=errors,
        error_heading=t("rules.drafts.not_previewed_fields"),
        **context,
    )


@router.post(DRAFT_PATH + "/publish")
def admin_draft_publish(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """Save the form as the draft and publish it as the rule's new version.

    A conflict keeps the admin's text (saved as the draft, unless the draft save itself lost).
    """
    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    form = _posted(submitted, editing)
    data, errors = checked_rule_form(form, editing)
    if errors:
        return _invalid(
            request, session, user, editing, form, errors, "rules.drafts.not_published_fields"
        )
    try:
        draft = _save(session, user, editing, form, data)
        form["draft_revision"] = str(draft.revision)
        version = publish_draft(
            session=session,
            user=user,
            municipality_code=code,
            topic_slug=slug,
            expected_revision=draft.revision,
        )
    except (ValueError, InvalidInput, Conflict) as exc:
        return _refused(request, session, user, editing, form, exc, "rules.drafts.not_published")
    query = urlencode({"municipality": code, "saved": slug, "version": version.version})
    return RedirectResponse(f"/admin/rules?{query}", status_code=303)


@router.post(DRAFT_PATH + "/discard")
def admin_draft_discard(
    request: Request,
    code: str,
    slug: str,
    user: User = Depends(admin_user),
    session: Session = request_session,
    submitted: dict[str, str] = Depends(posted_form),
):
    """Delete the rule's draft; one changed since the page was loaded is kept (409); one already
    gone counts as discarded."""
    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    try:
        discard_draft(
            session=session,
            user=user,
            municipality_code=code,
            topic_slug=slug,
            expected_revision=_revision(submitted),
        )
    except NotFound:
        pass  # published or discarded by someone else meanwhile: the page shows what there is
    except Conflict as exc:
        draft = rule_draft(session, user, editing)
        form = draft_form(draft) if draft else form_from_version(editing)
        message = t(exc.key, **exc.params)
        return render_rule_form(
            request, session, user, editing, form, message, status_code=409, draft=draft
        )
    return RedirectResponse(f"/admin/rules/{code}/{quote(slug)}?draft=discarded", status_code=303)


def _posted(submitted: dict[str, str], editing) -> dict[str, str]:
    form = posted_rule_form(submitted, editing)
    form["draft_revision"] = submitted.get("draft_revision", "0")
    return form


def _save(session: Session, user: User, editing, form: dict[str, str], data) -> RuleDraft:
    base_version = int(form["expected_version"])
    return save_draft(
        session=session,
        user=user,
        municipality_code=editing.municipality_code,
        topic_slug=editing.topic_slug,
        data=data,
        expected_revision=_revision(form),
        base_version=base_version,
    )


def _invalid(request, session, user, editing, form, errors: dict[str, str], heading_key: str):
    """Re-render the form (422) with each problem at its field and a summary linking to them."""
    draft = rule_draft(session, user, editing)
    return render_rule_form(
        request,
        session,
        user,
        editing,
        form,
        status_code=422,
        draft=draft,
        errors=errors,
        error_heading=t(heading_key),
    )


def _refused(request, session, user, editing, form, exc: Exception, invalid_key: str):
    """Re-render the form with the admin's input and why it was refused (422 or 409)."""
    if not isinstance(exc, Conflict):
        message = _message(exc, invalid_key)
        draft = rule_draft(session, user, editing)
        return render_rule_form(
            request, session, user, editing, form, message, status_code=422, draft=draft
        )
    # Whatever was written before the conflict (a draft save before a publish) stays.
    session.expire_all()
    editing = local_rule_for_edit(
        session=session,
        user=user,
        municipality_code=editing.municipality_code,
        topic_slug=editing.topic_slug,
    )
    draft = rule_draft(session, user, editing)
    # Keep the admin's text; a second save or publish then deliberately goes over the newer one.
    form["draft_revision"] = str(draft.revision if draft else 0)
    other_draft = draft if exc.key == "rules.drafts.conflict" else None
    if other_draft is None:
        form["expected_version"] = str(editing.current_version)
    return render_rule_form(
        request,
        session,
        user,
        editing,
        form,
        t(exc.key, **exc.params),
        status_code=409,
        conflict=exc.key != "rules.drafts.conflict",
        draft=draft,
        other_draft=other_draft,
        other_draft_html=render_markdown(other_draft.content["body_md"]) if other_draft else "",
    )


def _message(exc: Exception, key: str) -> str:
    """Why a checked form was still refused (a garbled version number, a service's refusal)."""
    if isinstance(exc, InvalidInput):
        return t(exc.key, **exc.params)
    return t(key, detail=t("rules.admin.error.expected_version"))


def _revision(values: dict[str, str]) -> int:
    """The draft revision a form was based on; 0 (no draft yet) when missing or garbled."""
    try:
        return int(values.get("draft_revision", ""))
    except ValueError:
        return 0
