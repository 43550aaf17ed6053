"""What the rule views share: the admins' role check, the edit page, text changes, the flag control.

The rule view modules import from here and from rule_form, never from each other.
"""

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.i18n import t
from hotline.kit.markdown import render_markdown
from hotline.kit.markdown_diff import markdown_diff
from hotline.municipalities.service import get_municipality
from hotline.rules.changes import TextChange
from hotline.rules.drafts import get_draft
from hotline.rules.flags import MAX_TEXT_LENGTH, may_flag, own_flags
from hotline.rules.history import national_change
from hotline.rules.models import FlagKind, RuleDraft
from hotline.web.rule_form import draft_form, form_from_version
from hotline.web.templating import render

admin_user = require_roles(Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN)


def render_rule_form(
    request: Request,
    session: Session,
    user: User,
    editing,
    form: dict[str, str],
    message: str | None = None,
    status_code: int = 200,
    conflict: bool = False,
    errors: dict[str, str] | None = None,
    **extra,
):
    """The edit page of a local rule beside the national text, with the form's values."""
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
        errors=errors or {},
        national_html=render_markdown(editing.national.body_md) if editing.national else "",
        saved_html=render_markdown(editing.local.body_md) if editing.local else "",
        national_change=national_change(
            session=session, topic_slug=editing.topic_slug, local=editing.local
        ),
        rendered_diff=rendered_diff,
        **extra,
    )


def edit_page_context(session: Session, user: User, editing) -> tuple[dict[str, str], dict]:
    """The edit form's values (the draft's when there is one) and the draft for the template."""
    draft = rule_draft(session, user, editing)
    form = draft_form(draft) if draft else form_from_version(editing)
    return form, {"draft": draft}


def rule_draft(session: Session, user: User, editing) -> RuleDraft | None:
    """The draft of the local rule being edited, if there is one."""
    return get_draft(
        session=session,
        user=user,
        municipality_code=editing.municipality_code,
        topic_slug=editing.topic_slug,
    )


def rendered_diff(change: TextChange) -> Markup:
    """A text change as the rendered newer text with additions and deletions marked."""
    html = markdown_diff(
        change.before,
        change.after,
        added=t("rules.history.added_hidden"),
        removed=t("rules.history.removed_hidden"),
    )
    return Markup(html)  # sanitised by markdown_diff


def flag_form_context(session: Session, user: User, municipality_code: str, slug: str) -> dict:
    """What the flag control under a resolved rule needs (see rules/_flag.html)."""
    return {
        "can_flag": may_flag(user),
        "own_flags": own_flags(
            session=session, user=user, municipality_code=municipality_code, topic_slug=slug
        ),
        "flag_kinds": list(FlagKind),
        "flag_max": MAX_TEXT_LENGTH,
        "flag_form": {},
    }
