"""Passwords, users, API tokens and the municipality scoping rule."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache, partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from hotline.auth.models import ApiToken, Role, User
from hotline.auth.token_cache import cached_owner, remember_owner
from hotline.db import utcnow, write_at_commit
from hotline.kit.errors import InvalidInput, PermissionDenied
from hotline.municipalities.models import Municipality

_hasher = PasswordHasher()
TOKEN_PREFIX = "hl_"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps failed logins for unknown users as slow as for known ones.

    Made at the first login, not at import: hashing takes a quarter of a second, which every
    `hotline` command and every server start would otherwise pay.
    """
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def authenticate(*, session: Session, username: str, password: str, demo_mode: bool) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active or (user.is_demo and not demo_mode):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def create_user(
    *,
    session: Session,
    username: str,
    full_name: str,
    password: str,
    role: Role,
    municipality_codes: Iterable[str] = (),
    is_demo: bool = False,
    email: str | None = None,
) -> User:
    """Create a user; municipality admins must be given at least one municipality."""
    codes = sorted(set(municipality_codes))
    if role == Role.MUNICIPALITY_ADMIN and not codes:
        raise InvalidInput("auth.admin_needs_municipality")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput("auth.username_taken", username=username)
    municipalities = list(session.scalars(select(Municipality).where(Municipality.code.in_(codes))))
    if len(municipalities) != len(codes):
        raise InvalidInput("auth.unknown_municipality")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        is_demo=is_demo,
        email=email,
        municipalities=municipalities,
    )
    session.add(user)
    session.flush()
    return user


def issue_api_token(*, session: Session, user: User, name: str) -> str:
    """Create a personal API token and return it; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_sha256=token_sha256(token)))
    session.flush()
    return token


# Built once: every API request runs it, and building a statement costs more than running it.
_TOKEN_OWNER = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_sha256 == bindparam("sha256"), ApiToken.revoked_at.is_(None))
)


def recent_api_token_owner(*, session: Session, token: str, demo_mode: bool) -> User | None:
    """The token's owner if this process found it valid a moment ago; no query (see token_cache)."""
    user = _recent_owner(token, demo_mode)
    return None if user is None else session.merge(user, load=False)


def api_token_recently_valid(*, token: str, demo_mode: bool) -> bool:
    """Whether this process found the token valid a moment ago, for a route that needs no user."""
    return _recent_owner(token, demo_mode) is not None


def _recent_owner(token: str, demo_mode: bool) -> User | None:
    user = cached_owner(token_sha256(token))
    return None if user is None or (user.is_demo and not demo_mode) else user


def user_for_api_token(*, session: Session, token: str, demo_mode: bool) -> User | None:
    """The active user owning this unrevoked token, or None (demo users only in demo mode)."""
    sha256 = token_sha256(token)
    found = session.execute(_TOKEN_OWNER, {"sha256": sha256}).one_or_none()
    if found is None:
        return None
    user, token_id, last_used_at = found
    if not user.is_active or (user.is_demo and not demo_mode):
        return None
    now = utcnow()
    # Recorded to the minute: a write on every API request would serialise them all.
    if last_used_at is None or now - last_used_at > TOKEN_USE_RESOLUTION:
        write_at_commit(session, f"api-token-use:{token_id}", partial(_note_use, token_id, now))
    remember_owner(sha256, user)
    return user


def _note_use(token_id: int, at: datetime, session: Session) -> None:
    # On the table, not through the ORM: a token's last use changes nothing the token cache holds
    # (the ORM's changes to tokens empty it).
    tokens = ApiToken.__table__
    session.connection().execute(
        update(tokens).where(tokens.c.id == token_id).values(last_used_at=at)
    )


def can_admin_municipality(user: User, municipality_code: str) -> bool:
    """Whether the user may change this municipality's local data."""
    if user.role == Role.SYSTEM_ADMIN:
        return True
    return user.role == Role.MUNICIPALITY_ADMIN and municipality_code in user.municipality_codes


def ensure_can_admin_municipality(user: User, municipality_code: str) -> None:
    """Raise PermissionDenied unless the user may change this municipality's local data."""
    if not can_admin_municipality(user, municipality_code):
        raise PermissionDenied("error.permission_denied")


def ensure_role(user: User, *roles: Role) -> None:
    """Raise PermissionDenied unless the user has one of the roles."""
    if user.role not in roles:
        raise PermissionDenied("error.permission_denied")


def token_sha256(token: str) -> str:
    """How an API token is stored and looked up: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def administered_municipalities(
    *, session: Session, user: User, participating_only: bool = False
) -> list[Municipality]:
    """The municipalities whose local data the user keeps, by name (a system admin: all)."""
    if user.role != Role.SYSTEM_ADMIN:
        return sorted(user.municipalities, key=lambda m: m.name)
    query = select(Municipality).order_by(Municipality.name)
    if participating_only:
        query = query.where(Municipality.participating.is_(True))
    return list(session.scalars(query))
