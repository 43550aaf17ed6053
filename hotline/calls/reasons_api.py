"""JSON API of the contact-reason taxonomy: staff read it, supervisors and system admins keep it."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls import reasons
from hotline.db import TransactionRoute, request_session

router = APIRouter(
    route_class=TransactionRoute, prefix="/api/contact-reasons", tags=["contact reasons"]
)
hotline_staff = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
editors = require_roles(*reasons.EDITING_ROLES)


class ReasonIn(BaseModel):
    """A new contact reason: a slug code and a Danish label."""

    code: str = Field(max_length=reasons.MAX_CODE_LENGTH)
    label: str = Field(max_length=reasons.MAX_LABEL_LENGTH)


class ReasonPatch(BaseModel):
    """A new label, and/or whether the reason is offered at wrap-up."""

    label: str | None = Field(default=None, max_length=reasons.MAX_LABEL_LENGTH)
    active: bool | None = None


class OrderIn(BaseModel):
    """Every reason's code, in the new order."""

    codes: list[str] = Field(max_length=1000)


@router.get("")
def list_reasons(
    include_inactive: bool = Query(False),
    session: Session = request_session,
    user: User = Depends(hotline_staff),
) -> list[dict[str, Any]]:
    """The reasons in their order: the active ones, or all (old calls may show inactive ones)."""
    found = reasons.list_reasons(session=session, include_inactive=include_inactive)
    return [reasons.snapshot(r) for r in found]


@router.post("", status_code=201)
def create_reason(
    body: ReasonIn, session: Session = request_session, user: User = Depends(editors)
) -> dict[str, Any]:
    """Add a reason at the end of the list."""
    reason = reasons.create_reason(session=session, user=user, code=body.code, label=body.label)
    return reasons.snapshot(reason)


@router.put("/order")
def reorder_reasons(
    body: OrderIn, session: Session = request_session, user: User = Depends(editors)
) -> list[dict[str, Any]]:
    """Put the reasons in the given order (every code once)."""
    ordered = reasons.reorder_reasons(session=session, user=user, codes=body.codes)
    return [reasons.snapshot(r) for r in ordered]


@router.patch("/{code}")
def update_reason(
    code: str, body: ReasonPatch, session: Session = request_session, user=Depends(editors)
) -> dict[str, Any]:
    """Rename a reason and/or deactivate or reactivate it."""
    reason = reasons.get_reason(session=session, code=code)
    if body.label is not None:
        reasons.rename_reason(session=session, user=user, code=code, label=body.label)
    if body.active is not None:
        reasons.set_reason_active(session=session, user=user, code=code, active=body.active)
    return reasons.snapshot(reason)


@router.delete("/{code}", status_code=204)
def delete_reason(code: str, session: Session = request_session, user=Depends(editors)):
    """Delete a reason no call has used; one in use answers 409 (deactivate it instead)."""
    reasons.delete_reason(session=session, user=user, code=code)
    return Response(status_code=204)
