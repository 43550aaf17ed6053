"""Log in and log out."""

import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth import lockout
from hotline.auth.deps import current_user, log_in, log_out, pop_notice, verify_csrf
from hotline.auth.models import Role, User
from hotline.auth.service import authenticate
from hotline.calls.agents import mark_signed_in_or_out
from hotline.calls.events import mark_calls_changed
from hotline.db import TransactionRoute, request_session, utcnow
from hotline.i18n import t
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)

HOME_BY_ROLE = {
    Role.AGENT: "/console",
    Role.MUNICIPALITY_ADMIN: "/admin/rules",
    Role.SUPERVISOR: "/supervisor",
    Role.SYSTEM_ADMIN: "/admin/rules",
}


@router.get("/")
def home(user: User = Depends(current_user)):
    """Send the user to their own start page."""
    return RedirectResponse(HOME_BY_ROLE[Role(user.role)], status_code=303)


@router.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon."""
    return RedirectResponse("/static/app/favicon.svg", status_code=301)


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    """The login page (with a notice if a session has just ended by itself)."""
    notice = pop_notice(request) or {}
    text = t(notice.pop("key"), **notice) if "key" in notice else None
    return render(request, "login.html", next=_safe_next(next), notice=text)


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=200),
    next: str = Form("/"),
    session: Session = request_session,
):
    """Check the credentials (unless locked out) and start a session."""
    settings = request.app.state.settings
    policy, now = lockout.LockoutPolicy.from_settings(settings), utcnow()
    client_ip = lockout.client_address(request)
    locked = dict(session=session, policy=policy, username=username, client_ip=client_ip, now=now)
    if wait := lockout.locked_for(**locked):
        lockout.log_refusal(username, client_ip, wait)
        seconds = math.ceil(wait.total_seconds())
        response = _refused(request, 429, next, username, _wait_text(seconds))
        response.headers["Retry-After"] = str(seconds)
        return response
    user = authenticate(
        session=session, username=username, password=password, demo_mode=settings.demo_mode
    )
    if user is None:
        lockout.record_failure(**locked)
        return _refused(request, 401, next, username, t("login.failed"))
    lockout.clear_failures(**locked)
    log_in(request, user, session=session)
    mark_signed_in_or_out(session=session, user=user)  # an agent is away until they say ready
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, session: Session = request_session):
    """End the session (an agent who logs out is away)."""
    user_id = request.session.get("user_id")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is not None and request.session.get("epoch") == user.session_epoch:
        mark_signed_in_or_out(session=session, user=user)
    log_out(request, session=session)
    mark_calls_changed(session)  # the session's open live streams check their login and end
    return RedirectResponse("/login", status_code=303)


def _wait_text(seconds: int) -> str:
    """The login page's refusal while slowed down or locked, in seconds or whole minutes."""
    if seconds < 60:
        return t("account.wait_seconds", seconds=seconds)
    minutes = math.ceil(seconds / 60)
    return t("account.locked_one") if minutes <= 1 else t("account.locked", minutes=minutes)


def _refused(request: Request, status_code: int, next: str, username: str, error: str):
    return render(
        request,
        "login.html",
        status_code=status_code,
        next=_safe_next(next),
        username=username,
        error=error,
    )


def _safe_next(target: str) -> str:
    """Only local paths, so the login page can't redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
