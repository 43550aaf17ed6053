"""User management by system admins: list, create, change, deactivate, set passwords; audited.

Users are never deleted: calls, replies and audit entries point at them. Deactivating a user ends
their sessions (their session epoch is bumped) and refuses their logins and API tokens while they
stay inactive; reactivating gives back exactly what they had.
"""

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hotline.audit.service import record_change
from hotline.auth.models import Role, User, user_municipalities
from hotline.auth.passwords import check_password
from hotline.auth.service import create_user, hash_password
from hotline.calls.agents import mark_signed_in_or_out
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.municipalities.models import Municipality

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FULL_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
ENTITY_TYPE = "user"


def list_users(
    *,
    session: Session,
    role: Role | None = None,
    municipality_code: str | None = None,
    active: bool | None = None,
    text: str = "",
) -> list[User]:
    """Users matching every filter given, by username; text searches username, name and e-mail."""
    query = select(User).options(selectinload(User.municipalities)).order_by(User.username)
    if role is not None:
        query = query.where(User.role == role)
    if municipality_code:
        query = query.where(
            User.id.in_(
                select(user_municipalities.c.user_id).where(
                    user_municipalities.c.municipality_code == municipality_code
                )
            )
        )
    if active is not None:
        query = query.where(User.is_active == active)
    users = list(session.scalars(query))
    needle = text.strip().casefold()
    if not needle:
        return users
    # Matched here, not in SQL: SQLite's lower() leaves "Æ" as it is, and there are few users.
    return [
        u
        for u in users
        if any(needle in (v or "").casefold() for v in (u.username, u.full_name, u.email))
    ]


def get_user(*, session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("users.not_found")
    return user


def find_user(*, session: Session, username: str) -> User:
    """The user with this username (in any case), or NotFound."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.casefold()))
    if user is None:
        raise NotFound("users.no_such_username", username=username)
    return user


def add_user(
    *,
    session: Session,
    actor: User | None,
    username: str,
    full_name: str,
    role: Role | str,
    password: str,
    email: str | None = None,
    municipality_codes: Iterable[str] = (),
) -> User:
    """Create a user after checking every field and the password policy; audited."""
    username = _check_username(session, username)
    full_name, email = _check_full_name(full_name), _check_email(email)
    role = _check_role(role)
    codes = _check_municipalities(session, role, municipality_codes)
    check_password(password, username=username)
    try:
        with session.begin_nested():
            user = create_user(
                session=session,
                username=username,
                full_name=full_name,
                password=password,
                role=role,
                municipality_codes=codes,
                email=email,
            )
    except IntegrityError:  # created at the same moment by someone else
        raise Conflict("users.username_taken", username=username) from None
    _audit(session, actor, "create", user, before=None)
    return user


def update_user(
    *,
    session: Session,
    actor: User | None,
    user: User,
    full_name: str,
    email: str | None,
    role: Role | str,
    municipality_codes: Iterable[str] = (),
) -> User:
    """Change a user's name, e-mail, role and municipalities; audited if anything changed."""
    full_name, email = _check_full_name(full_name), _check_email(email)
    role = _check_role(role)
    codes = _check_municipalities(session, role, municipality_codes)
    if user.role == Role.SYSTEM_ADMIN and role != Role.SYSTEM_ADMIN:
        _ensure_not_self(actor, user, "users.cannot_demote_self")
        if user.is_active:
            _ensure_another_system_admin(session, user)
    before = snapshot(user)
    if role != user.role:
        mark_signed_in_or_out(session=session, user=user)  # an agent made admin is not available
    user.full_name, user.email, user.role = full_name, email, role
    if codes != sorted(user.municipality_codes):
        user.municipalities = _municipalities(session, codes)
    session.flush()
    if snapshot(user) != before:
        _audit(session, actor, "update", user, before=before)
    return user


def deactivate_user(*, session: Session, actor: User | None, user: User) -> User:
    """Stop a user logging in and end their sessions; nothing of theirs is deleted. Audited."""
    if not user.is_active:
        return user
    _ensure_not_self(actor, user, "users.cannot_deactivate_self")
    if user.role == Role.SYSTEM_ADMIN:
        _ensure_another_system_admin(session, user)
    before = snapshot(user)
    user.is_active = False
    user.session_epoch += 1
    mark_signed_in_or_out(session=session, user=user)  # no longer available for calls
    session.flush()
    _audit(session, actor, "deactivate", user, before=before)
    return user


def reactivate_user(*, session: Session, actor: User | None, user: User) -> User:
    """Let a deactivated user log in again. Audited."""
    if user.is_active:
        return user
    before = snapshot(user)
    user.is_active = True
    session.flush()
    _audit(session, actor, "reactivate", user, before=before)
    return user


def set_password(*, session: Session, actor: User | None, user: User, password: str) -> User:
    """Give a user a new password (policy checked) and end their other sessions. Audited."""
    check_password(password, username=user.username)
    before = snapshot(user)
    user.password_hash = hash_password(password)
    # Whoever knew the old password is logged out; the caller re-logs an admin changing their own.
    user.session_epoch += 1
    mark_signed_in_or_out(session=session, user=user)
    session.flush()
    _audit(session, actor, "set_password", user, before=before, password_changed=True)
    return user


def snapshot(user: User) -> dict[str, Any]:
    """A user for the audit log: never the password hash."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role": str(user.role),
        "municipalities": sorted(user.municipality_codes),
        "is_active": user.is_active,
    }


def _check_username(session: Session, username: Any) -> str:
    username = username.strip() if isinstance(username, str) else ""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("users.username_invalid")
    taken = select(User.id).where(func.lower(User.username) == username.casefold())
    if session.scalar(taken) is not None:
        raise Conflict("users.username_taken", username=username)
    return username


def _check_full_name(full_name: Any) -> str:
    full_name = " ".join(full_name.split()) if isinstance(full_name, str) else ""
    if not full_name or len(full_name) > MAX_FULL_NAME_LENGTH:
        raise InvalidInput("users.full_name_invalid", max=MAX_FULL_NAME_LENGTH)
    return full_name


def _check_email(email: Any) -> str | None:
    email = email.strip() if isinstance(email, str) else ""
    if not email:
        return None
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise InvalidInput("users.email_invalid")
    return email


def _check_role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput("users.role_invalid") from None


def _check_municipalities(session: Session, role: Role, codes: Iterable[str]) -> list[str]:
    codes = sorted({code.strip() for code in codes if code.strip()})
    if role == Role.MUNICIPALITY_ADMIN and not codes:
        raise InvalidInput("users.admin_needs_municipality")
    if role != Role.MUNICIPALITY_ADMIN and codes:
        raise InvalidInput("users.municipalities_only_for_admins")
    known = set(session.scalars(select(Municipality.code).where(Municipality.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput("users.unknown_municipality", code=unknown[0][:10])
    return codes


def _municipalities(session: Session, codes: list[str]) -> list[Municipality]:
    return list(session.scalars(select(Municipality).where(Municipality.code.in_(codes))))


def _ensure_not_self(actor: User | None, user: User, key: str) -> None:
    if actor is not None and actor.id == user.id:
        raise Conflict(key)


def _ensure_another_system_admin(session: Session, user: User) -> None:
    """Refuse to leave the system without an active system admin."""
    # Locking the admins' rows makes two admins deactivating each other at once take turns.
    admins = select(User.id).where(User.role == Role.SYSTEM_ADMIN, User.is_active.is_(True))
    if set(session.scalars(admins.with_for_update())) <= {user.id}:
        raise Conflict("users.last_system_admin")


def _audit(session, actor, verb, user, *, before, password_changed=False) -> None:
    after = snapshot(user) | ({"password_changed": True} if password_changed else {})
    record_change(
        session=session,
        actor=actor,
        action=f"user.{verb}",
        entity_type=ENTITY_TYPE,
        entity_id=str(user.id),
        before=before,
        after=after,
    )
