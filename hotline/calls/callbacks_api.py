"""JSON API of callbacks: the agent books one on their call; the municipality's admins handle it."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user, require_roles
from hotline.auth.models import Role, User
from hotline.calls import callbacks
from hotline.calls.models import Callback
from hotline.db import TransactionRoute, request_session
from hotline.kit.responses import model_json

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["callbacks"])
call_takers = require_roles(Role.AGENT, Role.SUPERVISOR)


class CallbackBody(BaseModel):
    """A callback to book; the service checks lengths, required fields and CPR numbers."""

    model_config = ConfigDict(extra="forbid")

    caller_phone: str = Field(max_length=100, description="normalised to E.164 when possible")
    question: str = Field(max_length=100_000)
    preferred_time: str = Field(max_length=1000, description='e.g. "i morgen mellem 9 og 12"')
    caller_name: str = Field(default="", max_length=1000)
    topics: list[str] = Field(default=[], max_length=100, description="topic slugs consulted")


class DoneBody(BaseModel):
    """What was done (optional)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=100_000)


class CallbackOut(BaseModel):
    """A callback as its municipality's admins see it."""

    id: int
    call_id: int | None
    call_reference: str | None
    municipality_code: str
    booked_by: str
    caller_name: str
    caller_phone: str
    question: str
    rules_consulted: list[dict[str, Any]]
    preferred_time: str
    status: Literal["open", "done"]
    created_at: datetime
    handled_at: datetime | None
    handled_by: str | None
    handled_note: str
    mail_status: str
    mail_last_error: str | None


def callback_out(callback: Callback, references: dict, handlers: dict) -> CallbackOut:
    """The output shape of a stored callback."""
    return CallbackOut(
        id=callback.id,
        call_id=callback.call_id,
        call_reference=references.get(callback.call_id),
        municipality_code=callback.municipality_code,
        booked_by=callback.booked_by.full_name,
        caller_name=callback.caller_name,
        caller_phone=callback.caller_phone,
        question=callback.question,
        rules_consulted=callback.rules_consulted,
        preferred_time=callback.preferred_time,
        status=callback.status,
        created_at=callback.created_at,
        handled_at=callback.handled_at,
        handled_by=handlers.get(callback.handled_by_id),
        handled_note=callback.handled_note,
        mail_status=callback.mail_status,
        mail_last_error=callback.mail_last_error,
    )


def _out(session: Session, found: list[Callback]) -> list[CallbackOut]:
    references = callbacks.call_references(session=session, callbacks=found)
    handlers = callbacks.handler_names(session=session, callbacks=found)
    return [callback_out(c, references, handlers) for c in found]


@router.post("/calls/{call_id}/callbacks", response_model=CallbackOut, status_code=201)
def book(
    call_id: int,
    body: CallbackBody,
    request: Request,
    user: User = Depends(call_takers),
    session: Session = request_session,
) -> Response:
    """Book a callback on your open call for its municipality; e-mailed to its admins."""
    callback = callbacks.book_callback(
        session=session,
        call_id=call_id,
        user=user,
        form=callbacks.CallbackIn(**body.model_dump()),
        mail_domain=request.app.state.settings.mail_from.rpartition("@")[2],
    )
    return model_json(CallbackOut, _out(session, [callback])[0], status_code=201)


@router.get("/callbacks", response_model=list[CallbackOut])
def list_callbacks(
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    status: Literal["open", "done"] | None = None,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> list[CallbackOut]:
    """Callbacks, open first: a municipality admin's own; supervisors and system admins all."""
    found = callbacks.list_callbacks(
        session=session, user=user, municipality_code=municipality, status=status
    )
    return _out(session, found)


@router.post("/callbacks/{callback_id}/done", response_model=CallbackOut)
def done(
    callback_id: int,
    body: DoneBody,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> Response:
    """Mark a callback done (its municipality's admins; 409 when it already is)."""
    callback = callbacks.mark_done(
        session=session, user=user, callback_id=callback_id, note=body.note
    )
    return model_json(CallbackOut, _out(session, [callback])[0])
