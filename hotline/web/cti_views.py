"""The system admins' page of CTI integrations: create, rotate and revoke their tokens."""

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls import integrations
from hotline.config import DEFAULT_CTI_TOKEN
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, prefix="/admin/cti", include_in_schema=False)
admin = require_roles(Role.SYSTEM_ADMIN)
NAME = Form("", max_length=200)


@router.get("")
def cti_page(
    request: Request,
    done: str | None = Query(None, pattern=r"^revoked$"),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """The integrations, their tokens' state, and the forms to change them."""
    return _render(request, session, user, done=done)


@router.post("")
def create(
    request: Request, name: str = NAME, session: Session = request_session, user=Depends(admin)
):
    """Create an integration and show its token once."""
    try:
        integration, token = integrations.create_integration(session=session, actor=user, name=name)
    except (InvalidInput, Conflict) as exc:
        return _render(request, session, user, error=exc, form_name=name)
    return _render(request, session, user, token=token, token_for=integration.name)


@router.post("/rotate")
def rotate(
    request: Request, name: str = NAME, session: Session = request_session, user=Depends(admin)
):
    """Give an integration a new token, shown once; the old one works for the grace period."""
    hours = request.app.state.settings.cti_rotation_grace_hours
    try:
        integration, token = integrations.rotate_integration(
            session=session, actor=user, name=name, grace=timedelta(hours=hours)
        )
    except NotFound as exc:
        return _render(request, session, user, error=exc)
    return _render(request, session, user, token=token, token_for=integration.name, rotated=True)


@router.post("/revoke")
def revoke(
    request: Request, name: str = NAME, session: Session = request_session, user=Depends(admin)
):
    """Stop an integration's token at once."""
    try:
        integrations.revoke_integration(session=session, actor=user, name=name)
    except NotFound as exc:
        return _render(request, session, user, error=exc)
    return RedirectResponse("/admin/cti?done=revoked", status_code=303)


def _render(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str | None = None,
    error: InvalidInput | Conflict | NotFound | None = None,
    form_name: str = "",
    token: str | None = None,
    token_for: str | None = None,
    rotated: bool = False,
):
    settings = request.app.state.settings
    legacy = integrations.legacy_token_matches(settings.cti_token, settings=settings)
    response = render(
        request,
        "cti/page.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="cti",
        rows=integrations.list_integrations(session=session),
        done=done,
        error=t(error.key, **error.params) if error else None,
        form_name=form_name,
        token=token,
        token_for=token_for,
        rotated=rotated,
        grace_hours=f"{settings.cti_rotation_grace_hours:g}",
        legacy=legacy,
        legacy_is_demo=legacy and settings.cti_token == DEFAULT_CTI_TOKEN,
        max_name=integrations.MAX_NAME_LENGTH,
    )
    if token:
        response.headers["Cache-Control"] = "private, no-store"
    return response
