"""JSON API of the calls domain: the CTI webhook, the queue, pick-up and wrap-up."""

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls import queue, service
from hotline.calls.cti import record_cti_event
from hotline.calls.integrations import accept_token, legacy_token_matches
from hotline.calls.models import Call, CallState
from hotline.db import TransactionRoute, commit_on_return, request_session
from hotline.kit.errors import HotlineError, InvalidInput

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["calls"])

# Who may see the queue and calls: the hotline's own staff, not municipality admins.
hotline_staff = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
claimers = require_roles(*queue.CLAIMING_ROLES)


class MunicipalityIn(BaseModel):
    """The caller's municipality, by its code."""

    code: str = Field(min_length=1, max_length=4)


class NotesIn(BaseModel):
    """The agent's notes on a call."""

    notes: str = Field(max_length=service.MAX_NOTES_LENGTH)


class WrapUpIn(BaseModel):
    """What the agent records when finishing a call."""

    contact_reason_code: str | None = Field(default=None, max_length=50)
    outcome: str | None = Field(default=None, max_length=16)
    notes: str | None = Field(default=None, max_length=service.MAX_NOTES_LENGTH)
    # An avoidable contact: the web page or e-service that confused the caller (an http(s) URL).
    avoidable: bool = False
    avoidable_url: str | None = Field(default=None, max_length=service.MAX_AVOIDABLE_URL_LENGTH)


@router.post("/cti/{token}")
async def cti_event(token: str, request: Request, session: Session = request_session):
    """Receive one event from the telephony platform (Zammad's generic CTI shape).

    200 when applied (or a repeat); 202 when held for its newCall; 4xx for what is refused.
    """
    try:
        payload: dict[str, Any] | HotlineError = await _cti_payload(request)
    except HotlineError as exc:  # told after the token check: an unknown token is a 404 first
        payload = exc
    source = None
    if not legacy_token_matches(token, settings=request.app.state.settings):
        source = request.client.host if request.client else "unknown"
    # The database work is synchronous: one trip to a worker thread, never on the event loop (the
    # session holds its connection from the first query to the commit: no hops in between).
    return await run_in_threadpool(
        _record_cti_event, session=session, token=token, source=source, payload=payload
    )


@commit_on_return
def _record_cti_event(
    *, session: Session, token: str, source: str | None, payload: dict[str, Any] | HotlineError
) -> JSONResponse:
    """Check an integration's token (source set), record the event; the platform's answer."""
    if source is not None:
        # An integration's token, looked up by its SHA-256; unknown or revoked is a 404.
        accept_token(session=session, token=token, source=source)
    if isinstance(payload, HotlineError):
        raise payload
    try:
        call = record_cti_event(session=session, payload=payload)
    except IntegrityError:
        # The same event arrived twice at once and the other request recorded it.
        session.rollback()
        return JSONResponse({"status": "ok", "reference": None})
    if call is None:
        return JSONResponse({"status": "held", "reference": None}, status_code=202)
    return JSONResponse({"status": "ok", "reference": call.reference})


class BadBody(HotlineError):
    """The body cannot be read as JSON or a form at all (400, as FastAPI's own routes answer)."""


async def _cti_payload(request: Request) -> dict[str, Any]:
    """The event's fields from a JSON or form body (read on the event loop, no database)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadBody("calls.cti_bad_json") from exc
        if not isinstance(payload, dict):
            raise InvalidInput("calls.cti_bad_json")
        return payload
    try:
        form = await request.form()
    except Exception as exc:  # Starlette's parsers raise several kinds for a broken body
        raise BadBody("calls.cti_bad_form") from exc
    payload: dict[str, Any] = {}
    users: list[str] = []
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise InvalidInput("calls.cti_bad_field", field=key[:40])
        if key in ("user", "user[]"):
            users.append(value)
        else:
            payload[key] = value
    if users:
        payload["user"] = users
    return payload


@router.get("/calls")
def list_calls(
    state: CallState = Query(CallState.WAITING),
    session: Session = request_session,
    user: User = Depends(hotline_staff),
):
    """The waiting calls, oldest first (only the waiting queue is listed)."""
    if state != CallState.WAITING:
        raise InvalidInput("calls.only_waiting_listed")
    return [queue_entry(call) for call in queue.list_waiting_calls(session=session)]


@router.post("/calls/next")
def claim_next(session: Session = request_session, user: User = Depends(claimers)):
    """Claim the oldest waiting call."""
    return call_detail(queue.claim_next_call(session=session, agent=user))


@router.post("/calls/{call_id}/claim")
def claim(call_id: int, session: Session = request_session, user: User = Depends(claimers)):
    """Claim one waiting call."""
    return call_detail(queue.claim_call(session=session, call_id=call_id, agent=user))


@router.get("/calls/{call_id}")
def get(call_id: int, session: Session = request_session, user: User = Depends(hotline_staff)):
    """One call: the agent who has it, or a supervisor."""
    return call_detail(service.get_call(session=session, call_id=call_id, user=user))


@router.post("/calls/{call_id}/municipality")
def set_municipality(
    call_id: int,
    body: MunicipalityIn,
    session: Session = request_session,
    user: User = Depends(claimers),
):
    """Set the caller's municipality on the agent's own call."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    service.set_call_municipality(session=session, call=call, code=body.code, user=user)
    return call_detail(call)


@router.post("/calls/{call_id}/notes")
def save_notes(
    call_id: int, body: NotesIn, session: Session = request_session, user=Depends(claimers)
):
    """Save the notes on the agent's own call; notes with a CPR number are refused (422)."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    return call_detail(
        service.save_call_notes(session=session, call=call, notes=body.notes, user=user)
    )


@router.post("/calls/{call_id}/wrap-up")
def wrap_up(
    call_id: int, body: WrapUpIn, session: Session = request_session, user=Depends(claimers)
):
    """Finish the agent's own call with a contact reason and an outcome."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    service.wrap_up_call(
        session=session,
        call=call,
        user=user,
        contact_reason_code=body.contact_reason_code,
        outcome=body.outcome,
        notes=body.notes,
        avoidable=body.avoidable,
        avoidable_url=body.avoidable_url,
    )
    return call_detail(call)


def queue_entry(call: Call) -> dict[str, Any]:
    """A waiting call as the queue lists it."""
    line = call.line_municipality
    return {
        "id": call.id,
        "reference": call.reference,
        # The telephony platform's own id of the call (its callId), to correlate with its logs.
        "call_id": call.cti_call_id,
        "direction": call.direction,
        "queue": call.cti_queue,
        "from": call.from_number,
        "to": call.to_number,
        "line_municipality_code": call.line_municipality_code,
        "line_municipality_name": line.name if line else None,
        "municipality_code": call.municipality_code,
        "offered_at": call.offered_at.isoformat(),
        "wait_seconds": queue.waited_seconds(call.offered_at),
    }


def call_detail(call: Call) -> dict[str, Any]:
    """A call with its state, times and durations."""
    return {
        **queue_entry(call),
        "state": call.state,
        "municipality_name": call.municipality.name if call.municipality else None,
        "agent": call.agent.username if call.agent else None,
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "wrapped_up_at": _iso(call.wrapped_up_at),
        # Unanswered: waiting until now, or until the caller gave up.
        "wait_seconds": call.wait_seconds
        if call.answered_at
        else queue.waited_seconds(call.offered_at, call.ended_at),
        "talk_seconds": call.talk_seconds,
        "after_call_seconds": call.after_call_seconds,
        "contact_reason_code": call.contact_reason_code,
        "outcome": call.outcome,
        "avoidable": call.avoidable,
        "avoidable_url": call.avoidable_url,
        "notes": call.notes,
        "end_cause": call.end_cause,
        "related_call_id": call.related_call_id,
        "callback_id": call.callback_id,
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None
