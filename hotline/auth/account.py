"""A user's own account: their personal API tokens, and logging out everywhere."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import ApiToken, User
from hotline.auth.service import issue_api_token, token_sha256
from hotline.auth.sessions import end_all_sessions
from hotline.calls.agents import mark_signed_in_or_out
from hotline.db import utcnow
from hotline.kit.errors import InvalidInput, NotFound

MAX_TOKEN_NAME = 100  # the column
MAX_ID = 2**31 - 1  # a larger id can't exist, and PostgreSQL refuses to compare with it


def list_tokens(*, session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(*, session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token and its value (shown once; only its hash is kept). Audited."""
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME:
        raise InvalidInput("account.token.name_invalid", max=MAX_TOKEN_NAME)
    value = issue_api_token(session=session, user=user, name=name)
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == token_sha256(value))
    ).one()
    _audit(session, user, "create", token, before=None)
    return token, value


def revoke_token(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another's is NotFound); again is a no-op. Audited."""
    token = session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.user_id != user.id:
        raise NotFound("account.token.not_found")
    if token.revoked_at is None:
        before = snapshot(token)
        token.revoked_at = utcnow()
        session.flush()  # an ORM change to a token empties the token cache of this process
        _audit(session, user, "revoke", token, before=before)
    return token


def log_out_everywhere(*, session: Session, user: User) -> None:
    """End every cookie session of the user, this one too (API tokens stay). Audited."""
    before = {"session_epoch": user.session_epoch}
    user.session_epoch += 1
    end_all_sessions(session=session, user=user)
    mark_signed_in_or_out(session=session, user=user)  # a call taker's consoles are gone
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="user.logout_everywhere",
        entity_type="user",
        entity_id=str(user.id),
        before=before,
        after={"session_epoch": user.session_epoch},
    )


def snapshot(token: ApiToken) -> dict[str, Any]:
    """A token as the API and the audit log show it: never its value or hash."""
    return {
        "id": token.id,
        "name": token.name,
        "created_at": _iso(token.created_at),
        "last_used_at": _iso(token.last_used_at),
        "revoked_at": _iso(token.revoked_at),
    }


def _audit(session: Session, user: User, verb: str, token: ApiToken, *, before) -> None:
    record_change(
        session=session,
        actor=user,
        action=f"api_token.{verb}",
        entity_type="api_token",
        entity_id=str(token.id),
        before=before,
        after=snapshot(token),
    )


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
