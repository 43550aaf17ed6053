"""Cookie sessions kept on the server: a session lives while its row does.

The signed cookie holds a random session id; the database holds only the id's SHA-256, the
user and the start. Every cookie request reads its user through that row, so deleting it (at
logout) ends the session at once in every process, for any copy of the cookie. Logging out
everywhere deletes all of a user's rows. Rows older than the maximum session age are refused
by the cookie's own timestamps and deleted at the next login.
"""

import secrets
from datetime import timedelta

from sqlalchemy import Select, delete, literal, select, union_all
from sqlalchemy.orm import Session

from hotline.auth.models import ApiToken, User, UserSession
from hotline.auth.service import token_sha256
from hotline.db import utcnow


def start_session(*, session: Session, user: User, max_age_s: int) -> str:
    """A new session of the user; its id, for the cookie. Flushes."""
    now = utcnow()
    session.execute(
        delete(UserSession).where(UserSession.started_at < now - timedelta(seconds=max_age_s))
    )
    session_id = secrets.token_urlsafe(32)
    session.add(UserSession(id_sha256=token_sha256(session_id), user_id=user.id, started_at=now))
    session.flush()
    return session_id


def session_user(*, session: Session, user_id: object, session_id: object) -> User | None:
    """The user of a live session, or None (no such session, or another user's)."""
    if not isinstance(user_id, int) or not isinstance(session_id, str):
        return None
    return session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id_sha256 == token_sha256(session_id), User.id == user_id)
    )


def end_session(*, session: Session, session_id: object) -> None:
    """End one session (nothing if it has already ended). Flushes."""
    if isinstance(session_id, str):
        session.execute(
            delete(UserSession).where(UserSession.id_sha256 == token_sha256(session_id))
        )


def end_all_sessions(*, session: Session, user: User) -> None:
    """End every session of the user. Flushes."""
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def live_logins(*, session: Session, user_ids: Select) -> tuple[dict[str, int], dict[str, int]]:
    """The unrevoked API tokens' and the live sessions' SHA-256 with their users, for the users
    the query selects (one round trip)."""
    tokens = select(ApiToken.token_sha256, ApiToken.user_id, literal(True)).where(
        ApiToken.revoked_at.is_(None), ApiToken.user_id.in_(user_ids)
    )
    sessions = select(UserSession.id_sha256, UserSession.user_id, literal(False)).where(
        UserSession.user_id.in_(user_ids)
    )
    token_owners: dict[str, int] = {}
    session_owners: dict[str, int] = {}
    for sha256, user_id, is_token in session.execute(union_all(tokens, sessions)):
        (token_owners if is_token else session_owners)[sha256] = user_id
    return token_owners, session_owners
