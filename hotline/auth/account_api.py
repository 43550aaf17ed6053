"""JSON API of the caller's own account: their API tokens, and logging out everywhere."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.auth import account
from hotline.auth.deps import current_user, log_out
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.kit.errors import PermissionDenied

router = APIRouter(route_class=TransactionRoute, prefix="/api/account", tags=["account"])


class TokenIn(BaseModel):
    """A new personal API token: what it is for."""

    name: str = Field(max_length=account.MAX_TOKEN_NAME)


@router.get("/tokens")
def list_tokens(
    session: Session = request_session, user: User = Depends(current_user)
) -> list[dict[str, Any]]:
    """The caller's tokens, newest first (never their values)."""
    return [account.snapshot(token) for token in account.list_tokens(session=session, user=user)]


@router.post("/tokens", status_code=201)
def create_token(
    body: TokenIn,
    request: Request,
    session: Session = request_session,
    user: User = Depends(current_user),
) -> dict[str, Any]:
    """A new token for the caller; its value is in this answer only. Needs a login session."""
    if _by_token(request):
        # Otherwise a leaked token could make new ones, and revoking it would not end the leak.
        raise PermissionDenied("account.token.needs_login")
    token, value = account.create_token(session=session, user=user, name=body.name)
    return account.snapshot(token) | {"token": value}


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, session: Session = request_session, user: User = Depends(current_user)
) -> dict[str, Any]:
    """Revoke one of the caller's tokens (404 for anyone else's); it stops working at once."""
    return account.snapshot(account.revoke_token(session=session, user=user, token_id=token_id))


@router.post("/logout-everywhere")
def logout_everywhere(
    request: Request, session: Session = request_session, user: User = Depends(current_user)
) -> dict[str, Any]:
    """End every login session of the caller, this one too; API tokens keep working."""
    account.log_out_everywhere(session=session, user=user)
    if not _by_token(request):
        log_out(request, session=session)
    return {"logged_out": True}


def _by_token(request: Request) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")
