"""Every user's own account page: their details, API tokens, and "log out everywhere"."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth import account
from hotline.auth.deps import current_user, log_out
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, prefix="/account", include_in_schema=False)
PAGE = "/account"


@router.get("")
def account_page(
    request: Request,
    done: str | None = Query(None, pattern=r"^revoked$"),
    session: Session = request_session,
    user: User = Depends(current_user),
):
    """The user's details, session and tokens."""
    return _render(request, session, user, done=done)


@router.post("/tokens")
def create_token(
    request: Request,
    name: str = Form("", max_length=account.MAX_TOKEN_NAME),
    session: Session = request_session,
    user: User = Depends(current_user),
):
    """Make a personal API token and show it this once."""
    try:
        token, value = account.create_token(session=session, user=user, name=name)
    except InvalidInput as exc:
        return _render(request, session, user, error=exc, form_name=name)
    response = _render(request, session, user, token=value, token_for=token.name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, session: Session = request_session, user: User = Depends(current_user)
):
    """Revoke one of the user's tokens (anyone else's: 404)."""
    account.revoke_token(session=session, user=user, token_id=token_id)
    return RedirectResponse(f"{PAGE}?done=revoked", status_code=303)


@router.post("/logout-everywhere")
def logout_everywhere(
    request: Request, session: Session = request_session, user: User = Depends(current_user)
):
    """End every session of the user, this one too, and go to the login page."""
    account.log_out_everywhere(session=session, user=user)
    log_out(request, session=session, notice={"key": "account.notice.everywhere"})
    return RedirectResponse("/login", status_code=303)


def _render(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str | None = None,
    error: InvalidInput | None = None,
    form_name: str = "",
    token: str | None = None,
    token_for: str | None = None,
):
    settings = request.app.state.settings
    started = request.session.get("started")
    return render(
        request,
        "account/page.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="account",
        tokens=account.list_tokens(session=session, user=user),
        municipalities=user.municipalities,
        started=datetime.fromtimestamp(started, UTC) if isinstance(started, int) else None,
        idle_minutes=settings.session_idle_minutes,
        max_hours=f"{settings.session_max_age_s / 3600:g}",
        done=done,
        error=t(error.key, **error.params) if error else None,
        form_name=form_name,
        token=token,
        token_for=token_for,
        max_name=account.MAX_TOKEN_NAME,
    )
