"""The supervisors' page of the contact-reason taxonomy."""

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import User
from hotline.calls import reasons
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.web.templating import render

router = APIRouter(
    route_class=TransactionRoute, prefix="/supervisor/contact-reasons", include_in_schema=False
)
editor = require_roles(*reasons.EDITING_ROLES)
PAGE = "/supervisor/contact-reasons"
DONE = r"^(created|renamed|moved|deactivated|reactivated|deleted)$"


@router.get("")
def reasons_page(
    request: Request,
    done: str | None = Query(None, pattern=DONE),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Every reason, active and inactive, with how often it was used and what can be done."""
    return _render(request, session, user, done=done)


@router.post("")
def create_reason(
    request: Request,
    code: str = Form("", max_length=100),
    label: str = Form("", max_length=500),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Add a reason; a bad or taken code or label re-renders the page with the form kept."""
    try:
        reason = reasons.create_reason(session=session, user=user, code=code, label=label)
    except (InvalidInput, Conflict) as exc:
        return _render(request, session, user, error=exc, form={"code": code, "label": label})
    return _done("created", reason.code)


@router.post("/{code}/rename")
def rename_reason(
    request: Request,
    code: str,
    label: str = Form("", max_length=500),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Give a reason a new label (old calls show the new one)."""
    try:
        reasons.rename_reason(session=session, user=user, code=code, label=label)
    except (InvalidInput, Conflict) as exc:
        return _render(request, session, user, error=exc, failed=(code, label))
    return _done("renamed", code)


@router.post("/{code}/move")
def move_reason(
    code: str,
    direction: str = Form(pattern=r"^(up|down)$"),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Move a reason one place up or down."""
    offset = -1 if direction == "up" else 1
    reasons.move_reason(session=session, user=user, code=code, offset=offset)
    return _done("moved", code)


@router.post("/{code}/active")
def set_active(
    request: Request,
    code: str,
    active: bool = Form(),
    session: Session = request_session,
    user: User = Depends(editor),
):
    """Deactivate a reason (no longer offered at wrap-up) or reactivate it."""
    try:
        reasons.set_reason_active(session=session, user=user, code=code, active=active)
    except Conflict as exc:
        return _render(request, session, user, error=exc)
    return _done("reactivated" if active else "deactivated", code)


@router.post("/{code}/delete")
def delete_reason(
    request: Request, code: str, session: Session = request_session, user=Depends(editor)
):
    """Delete a reason no call has used; one in use must be deactivated instead."""
    try:
        reasons.delete_reason(session=session, user=user, code=code)
    except Conflict as exc:
        return _render(request, session, user, error=exc)
    return _done("deleted", None)


def _done(what: str, code: str | None) -> RedirectResponse:
    anchor = f"#reason-{code}" if code else ""
    return RedirectResponse(f"{PAGE}?done={what}{anchor}", status_code=303)


def _render(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str | None = None,
    error: InvalidInput | Conflict | None = None,
    form: dict[str, str] | None = None,
    failed: tuple[str, str] | None = None,
):
    return render(
        request,
        "contact_reasons/page.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="reports",
        reasons=reasons.list_reasons(session=session),
        usage=reasons.reason_usage(session=session),
        done=done,
        error=t(error.key, **error.params) if error else None,
        form=form or {},
        failed=failed,
        max_code=reasons.MAX_CODE_LENGTH,
        max_label=reasons.MAX_LABEL_LENGTH,
    )
