"""FastAPI dependencies: the current user from a bearer token or the session, with CSRF."""

import hmac
import secrets
import time
from collections.abc import Callable
from functools import partial

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.auth.service import (
    api_token_recently_valid,
    ensure_role,
    recent_api_token_owner,
    user_for_api_token,
)
from hotline.auth.sessions import end_session, session_user, start_session
from hotline.db import request_session
from hotline.kit.errors import NotAuthenticated, PermissionDenied

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# The session's "seen" (last request) is rewritten at most this often: each rewrite is a new cookie.
SEEN_RESOLUTION_S = 60
# What the login page says once, after a session ended by itself ({"key": ..., **params}).
NOTICE = "notice"


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


async def current_user(request: Request, session: Session = request_session) -> User:
    """The user behind a bearer token or the session cookie (with CSRF checked for unsafe ones)."""
    token = _bearer_token(request)
    if token is not None:
        demo_mode = request.app.state.settings.demo_mode
        # A token seen a moment ago needs no query, so no trip to the thread pool either.
        user = recent_api_token_owner(session=session, token=token, demo_mode=demo_mode)
        if user is None:
            find = partial(user_for_api_token, session=session, token=token, demo_mode=demo_mode)
            user = await run_in_threadpool(_then_release, session, find)
        if user is None:
            raise NotAuthenticated("error.not_authenticated")
        return user
    user = await run_in_threadpool(_then_release, session, partial(_cookie_user, request, session))
    await verify_csrf(request)
    return user


def _then_release(session: Session, find: Callable[[], User | None]) -> User | None:
    """The login's lookup, its transaction then ended in the same thread.

    The route runs in a later trip to the thread pool. Holding the connection in between, the
    requests waiting for a route thread held every pooled connection while the route threads
    waited for one, when 200 consoles opened their streams at once.
    """
    user = find()
    session.commit()  # the user stays loaded (expire_on_commit=False); the route begins anew
    return user


def signed_in_by_recent_token(request: Request) -> bool:
    """Whether the request's bearer token was found valid by this process a moment ago (so
    current_user would accept it without a query); for a route any signed-in user may use."""
    token = _bearer_token(request)
    demo_mode = request.app.state.settings.demo_mode
    return token is not None and api_token_recently_valid(token=token, demo_mode=demo_mode)


def _bearer_token(request: Request) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _cookie_user(request: Request, session: Session) -> User:
    user_id = request.session.get("user_id")
    if user_id is not None:
        _end_if_timed_out(request, session)
    user = session_user(session=session, user_id=user_id, session_id=request.session.get("sid"))
    settings = request.app.state.settings
    if (
        user is None
        or not user.is_active
        or request.session.get("epoch") != user.session_epoch
        or (user.is_demo and not settings.demo_mode)
    ):
        request.session.pop("user_id", None)
        raise NotAuthenticated("error.not_authenticated")
    if time.time() - request.session["seen"] >= SEEN_RESOLUTION_S:
        request.session["seen"] = int(time.time())
    return user


def signed_in_user(request: Request, session: Session) -> User | None:
    """The cookie session's user, or None: for pages anyone may see, such as the error pages."""
    try:
        return _cookie_user(request, session)
    except NotAuthenticated:
        return None


def _end_if_timed_out(request: Request, session: Session) -> None:
    """End a session idle too long or older than the maximum, with a notice for the login page."""
    settings = request.app.state.settings
    now = time.time()
    started, seen = request.session.get("started"), request.session.get("seen")
    if not isinstance(started, int) or not isinstance(seen, int):
        notice = None  # from before sessions had timestamps: log in again
    elif now - seen > settings.session_idle_minutes * 60:
        notice = {"key": "account.notice.idle", "minutes": settings.session_idle_minutes}
    elif now - started > settings.session_max_age_s:
        hours = f"{settings.session_max_age_s / 3600:g}"
        notice = {"key": "account.notice.max_age", "hours": hours}
    else:
        return
    log_out(request, session=session, notice=notice)
    raise NotAuthenticated("error.not_authenticated")


def session_time_left(request: Request) -> float:
    """How long a live stream on this cookie session may run before it must reconnect (and so
    count as a request): until the session's maximum age, and within half the idle timeout."""
    settings = request.app.state.settings
    started = request.session.get("started", 0)
    until_max_age = started + settings.session_max_age_s - time.time()
    return max(0.0, min(until_max_age, settings.session_idle_minutes * 60 / 2))


def require_roles(*roles: Role) -> Callable[..., User]:
    """A dependency giving the current user if they have one of the roles."""

    async def dependency(user: User = Depends(current_user)) -> User:  # no I/O: no thread
        ensure_role(user, *roles)
        return user

    return dependency


def log_in(request: Request, user: User, *, session: Session) -> None:
    """Start a fresh session for the user (a new id and CSRF token, against session fixation)."""
    request.session.clear()
    now = int(time.time())
    max_age_s = request.app.state.settings.session_max_age_s
    sid = start_session(session=session, user=user, max_age_s=max_age_s)
    request.session.update(
        user_id=user.id, sid=sid, epoch=user.session_epoch, started=now, seen=now
    )
    csrf_token(request)


def log_out(request: Request, *, session: Session, notice: dict | None = None) -> None:
    """End the session, on the server too; the notice (a text key and its parameters) shows on
    the login page."""
    end_session(session=session, session_id=request.session.get("sid"))
    request.session.clear()
    if notice:
        request.session[NOTICE] = notice


def pop_notice(request: Request) -> dict | None:
    """The notice log_out left for the login page, once."""
    return request.session.pop(NOTICE, None)
