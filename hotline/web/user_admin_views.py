"""The system admins' pages of users: list, create, change, deactivate, set a password."""

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth import users
from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.auth.passwords import MAX_LENGTH, MIN_LENGTH
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.municipalities.models import Municipality
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, prefix="/admin/users", include_in_schema=False)
admin = require_roles(Role.SYSTEM_ADMIN)
PAGE = "/admin/users"
DONE = r"^(created|updated|deactivated|reactivated|password)$"
ROLE_FILTER = r"^(|agent|municipality_admin|supervisor|system_admin)$"


# Generous bounds against abuse; the service gives the precise Danish reason for a bad value.
# Functions, not shared constants: FastAPI binds a Form() to the first parameter using it.
def _text() -> str:
    return Form("", max_length=400)


def _password() -> str:
    return Form("", max_length=1000)


@router.get("")
def users_page(
    request: Request,
    role: str = Query("", pattern=ROLE_FILTER),
    municipality: str = Query("", max_length=4),
    status: str = Query("", pattern=r"^(|active|inactive)$"),
    q: str = Query("", max_length=100),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """Every user matching the filters, with their role, municipalities and state."""
    active = {"active": True, "inactive": False}.get(status)
    found = users.list_users(
        session=session,
        role=Role(role) if role else None,
        municipality_code=municipality or None,
        active=active,
        text=q,
    )
    filters = {"role": role, "municipality": municipality, "status": status, "q": q}
    return render(
        request,
        "users/list.html",
        user=user,
        nav="users",
        accounts=found,
        filters=filters,
        municipalities=_all_municipalities(session),
        roles=list(Role),
    )


@router.get("/new")
def new_user_page(request: Request, session: Session = request_session, user=Depends(admin)):
    """The form for a new user."""
    return _render_new(request, session, user)


@router.post("")
def create(
    request: Request,
    username: str = Form("", max_length=200),
    full_name: str = _text(),
    email: str = _text(),
    role: str = Form("", max_length=32),
    municipalities: list[str] = Form([]),
    password: str = _password(),
    password_repeat: str = _password(),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """Create a user; a bad field re-renders the form with what was typed (never the password)."""
    form = {"username": username, "full_name": full_name, "email": email, "role": role,
            "municipalities": municipalities}  # fmt: skip
    try:
        _ensure_repeated(password, password_repeat)
        account = users.add_user(
            session=session,
            actor=user,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            email=email,
            municipality_codes=municipalities,
        )
    except (InvalidInput, Conflict) as exc:
        return _render_new(request, session, user, error=exc, form=form)
    return _done(account, "created")


@router.get("/{user_id}")
def user_page(
    request: Request,
    user_id: int,
    done: str | None = Query(None, pattern=DONE),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """One user: their details to change, their password, and deactivating or reactivating."""
    account = users.get_user(session=session, user_id=user_id)
    return _render_edit(request, session, user, account, done=done)


@router.post("/{user_id}")
def update(
    request: Request,
    user_id: int,
    full_name: str = _text(),
    email: str = _text(),
    role: str = Form("", max_length=32),
    municipalities: list[str] = Form([]),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """Change a user's name, e-mail, role and municipalities."""
    account = users.get_user(session=session, user_id=user_id)
    form = {"full_name": full_name, "email": email, "role": role, "municipalities": municipalities}
    try:
        users.update_user(
            session=session,
            actor=user,
            user=account,
            full_name=full_name,
            email=email,
            role=role,
            municipality_codes=municipalities,
        )
    except (InvalidInput, Conflict) as exc:  # raised before anything was changed
        return _render_edit(request, session, user, account, error=exc, form=form)
    return _done(account, "updated")


@router.post("/{user_id}/deactivate")
def deactivate(
    request: Request, user_id: int, session: Session = request_session, user=Depends(admin)
):
    """Stop the user logging in and end their sessions; their history stays."""
    account = users.get_user(session=session, user_id=user_id)
    try:
        users.deactivate_user(session=session, actor=user, user=account)
    except Conflict as exc:
        return _render_edit(request, session, user, account, error=exc)
    return _done(account, "deactivated")


@router.post("/{user_id}/reactivate")
def reactivate(user_id: int, session: Session = request_session, user=Depends(admin)):
    """Let a deactivated user log in again."""
    account = users.get_user(session=session, user_id=user_id)
    users.reactivate_user(session=session, actor=user, user=account)
    return _done(account, "reactivated")


@router.post("/{user_id}/password")
def set_password(
    request: Request,
    user_id: int,
    password: str = _password(),
    password_repeat: str = _password(),
    session: Session = request_session,
    user: User = Depends(admin),
):
    """Give the user a new password; their sessions end (an admin's own one continues)."""
    account = users.get_user(session=session, user_id=user_id)
    try:
        _ensure_repeated(password, password_repeat)
        users.set_password(session=session, actor=user, user=account, password=password)
    except InvalidInput as exc:
        return _render_edit(request, session, user, account, error=exc, password_failed=True)
    if account.id == user.id:
        request.session["epoch"] = account.session_epoch
    return _done(account, "password")


def _ensure_repeated(password: str, repeated: str) -> None:
    if password != repeated:
        raise InvalidInput("users.password.mismatch")


def _done(account: User, what: str) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}/{account.id}?done={what}", status_code=303)


def _all_municipalities(session: Session) -> list[Municipality]:
    return list(session.scalars(select(Municipality).order_by(Municipality.name)))


def _render_new(
    request: Request,
    session: Session,
    user: User,
    *,
    error: InvalidInput | Conflict | None = None,
    form: dict[str, Any] | None = None,
):
    return render(
        request,
        "users/new.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="users",
        error=t(error.key, **error.params) if error else None,
        form=form or {"role": Role.AGENT.value, "municipalities": []},
        **_form_context(session),
    )


def _render_edit(
    request: Request,
    session: Session,
    user: User,
    account: User,
    *,
    done: str | None = None,
    error: InvalidInput | Conflict | NotFound | None = None,
    form: dict[str, Any] | None = None,
    password_failed: bool = False,
):
    current = {
        "full_name": account.full_name,
        "email": account.email or "",
        "role": str(account.role),
        "municipalities": sorted(account.municipality_codes),
    }
    return render(
        request,
        "users/edit.html",
        status_code=error.status_code if error else 200,
        user=user,
        nav="users",
        account=account,
        done=done,
        error=t(error.key, **error.params) if error else None,
        form=form or current,
        password_failed=password_failed,
        **_form_context(session),
    )


def _form_context(session: Session) -> dict[str, Any]:
    return {
        "municipalities": _all_municipalities(session),
        "roles": list(Role),
        "min_password": MIN_LENGTH,
        "max_password": MAX_LENGTH,
        "max_name": users.MAX_FULL_NAME_LENGTH,
        "max_email": users.MAX_EMAIL_LENGTH,
    }
