"""FastAPI dependencies: the current user from a bearer token or the session, with CSRF."""

import hmac
import secrets
from collections.abc import Callable

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.auth.service import ensure_role, user_for_api_token
from hotline.db import request_session
from hotline.kit.errors import NotAuthenticated, PermissionDenied

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose CSRF token (header or form field) is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("error.csrf")


def authenticated_user(request: Request, session: Session = request_session) -> tuple[User, bool]:
    """The user behind a bearer token or the session cookie, and whether it came by cookie."""
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        user = user_for_api_token(
            session=session,
            token=authorization[7:].strip(),
            demo_mode=request.app.state.settings.demo_mode,
        )
        if user is None:
            raise NotAuthenticated("error.not_authenticated")
        return user, False
    user_id = request.session.get("user_id")
    user = session.get(User, user_id) if user_id else None
    settings = request.app.state.settings
    if (
        user is None
        or not user.is_active
        or request.session.get("epoch") != user.session_epoch
        or (user.is_demo and not settings.demo_mode)
    ):
        request.session.pop("user_id", None)
        raise NotAuthenticated("error.not_authenticated")
    return user, True


async def current_user(
    request: Request, authenticated: tuple[User, bool] = Depends(authenticated_user)
) -> User:
    """The current user; a cookie-authenticated unsafe request must also pass the CSRF check."""
    # The database work above runs in the thread pool (a plain def); only the form read is async.
    user, by_cookie = authenticated
    if by_cookie:
        await verify_csrf(request)
    return user


def require_roles(*roles: Role) -> Callable[..., User]:
    """A dependency giving the current user if they have one of the roles."""

    def dependency(user: User = Depends(current_user)) -> User:
        ensure_role(user, *roles)
        return user

    return dependency


def log_in(request: Request, user: User) -> None:
    """Start a fresh session for the user (a new CSRF token too, against session fixation)."""
    request.session.clear()
    request.session.update(user_id=user.id, epoch=user.session_epoch)
    csrf_token(request)


def log_out(request: Request) -> None:
    """End the session."""
    request.session.clear()
