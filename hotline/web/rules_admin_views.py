"""HTML views of the rule store for municipality admins: the list and the edit form.

The form's buttons post to the draft routes (rule_drafts_views); history, restore and review are in
rule_history_views. Both use the form helpers below.
"""

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.auth.service import administered_municipalities
from hotline.db import request_session
from hotline.i18n import t
from hotline.kit.markdown import render_markdown
from hotline.municipalities.service import get_municipality
from hotline.rules.drafts import draft_topics
from hotline.rules.flags import open_flag_counts
from hotline.rules.history import diff_html, national_change
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import admin_overview, local_rule_for_edit
from hotline.web.templating import render

router = APIRouter(include_in_schema=False)
FORM_FIELDS = ("fee_dkk", "deadline", "phone", "self_service_url", "legal_basis")
# Kept from the newest version when a POST leaves them out (the form itself always sends them).
CARRIED_KEYS = ("tags", "valid_from", "valid_to")
FORM_LABELS = {
    "tags": "rules.admin.form_tags",
    "valid_from": "rules.admin.form_valid_from",
    "valid_to": "rules.admin.form_valid_to",
}
admin_user = require_roles(Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN)


def posted_rule_form(submitted: dict[str, str], editing) -> dict[str, str]:
    """The edit form as posted; fields a POST leaves out are carried from the newest version."""
    form = {key: submitted.get(key, "") for key in _form_keys()}
    saved = _form_from_version(editing)
    form.update({key: saved[key] for key in CARRIED_KEYS if key not in submitted})
    return form


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
    from hotline.web.rule_drafts_views import edit_page_context  # it imports this module

    editing = local_rule_for_edit(
        session=session, user=user, municipality_code=code, topic_slug=slug
    )
    form, extra = edit_page_context(session, user, editing)
    return _render_form(request, session, user, editing, form, **extra)


def _form_keys() -> tuple[str, ...]:
    return (
        "mode",
        "title",
        "category",
        "tags",
        "body_md",
        "agent_notes_md",
        "valid_from",
        "valid_to",
        "expected_version",
        *FORM_FIELDS,
    )


def _form_from_version(editing) -> dict[str, str]:
    local = editing.local
    if local is None:
        mode = "replace" if editing.national else "local_only"
        form = dict.fromkeys(_form_keys(), "")
        form.update(mode=mode, expected_version="0")
        return form
    form = {
        "mode": str(local.mode),
        "title": local.title,
        "category": local.category,
        "tags": ", ".join(local.tags),
        "body_md": local.body_md,
        "agent_notes_md": local.agent_notes_md,
        "valid_from": local.valid_from.isoformat(),
        "valid_to": local.valid_to.isoformat() if local.valid_to else "",
        "expected_version": str(editing.current_version),
    }
    form.update({key: str(local.fields.get(key, "")) for key in FORM_FIELDS})
    return form


def _rule_in(form: dict[str, str], editing) -> LocalRuleIn:
    fields = {key: form[key].strip() or None for key in FORM_FIELDS}
    return LocalRuleIn(
        mode=form["mode"],
        title=form["title"],
        category=form["category"],
        tags=[tag.strip() for tag in form["tags"].split(",") if tag.strip()],
        body_md=form["body_md"],
        agent_notes_md=form["agent_notes_md"],
        fields=fields,
        # The form does not edit sources: a new version cites what the newest one cited.
        sources=editing.local.sources if editing.local else [],
        valid_from=form["valid_from"] or None,
        valid_to=form["valid_to"] or None,
    )


def _field_label(field: str) -> str:
    if field in FORM_FIELDS:
        return t(f"rules.field.{field}")
    return t(FORM_LABELS[field]) if field in FORM_LABELS else field


def _render_form(
    request: Request,
    session: Session,
    user: User,
    editing,
    form: dict[str, str],
    message: str | None = None,
    status_code: int = 200,
    conflict: bool = False,
    **extra,
):
    place = get_municipality(session=session, code=editing.municipality_code)
    return render(
        request,
        "rules/admin_edit.html",
        status_code=status_code,
        user=user,
        nav="rules",
        editing=editing,
        municipality=place,
        form=form,
        message=message,
        conflict=conflict,
        national_html=render_markdown(editing.national.body_md) if editing.national else "",
        saved_html=render_markdown(editing.local.body_md) if editing.local else "",
        national_change=national_change(
            session=session, topic_slug=editing.topic_slug, local=editing.local
        ),
        diff_html=diff_html,
        **extra,
    )
