"""CTI intake: the telephony platform's newCall / answer / hangup events (Zammad's generic CTI)."""

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.agents import mark_wrap_up
from hotline.calls.events import mark_calls_changed
from hotline.calls.models import Call, CallState, CtiEvent
from hotline.calls.queue import assign_call
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.municipalities.service import municipality_for_dialled_number

log = logging.getLogger(__name__)

CTI_EVENTS = ("newCall", "answer", "hangup")
# No 0/O, 1/I/L: a reference is read aloud and typed by hand.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "DH-"
MAX_FIELD_LENGTH = 100


def normalise_number(raw: str | None) -> str | None:
    """A phone number in E.164 (Danish numbers without +45 too); the raw value if unparseable."""
    if raw is None:
        return None
    raw = raw.strip()[:32]
    if not raw:
        return None
    for candidate in (raw, "+" + raw.lstrip("+")):
        try:
            number = phonenumbers.parse(candidate, "DK")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return raw


def new_reference(*, session: Session) -> str:
    """A short, unique, human-readable call reference such as "DH-7K3Q9X"."""
    while True:
        reference = REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.scalar(select(Call.id).where(Call.reference == reference)) is None:
            return reference


def record_cti_event(*, session: Session, payload: Mapping[str, Any]) -> Call:
    """Apply one CTI event; a repeated (callId, event) changes nothing and returns the call."""
    event, cti_call_id = _validated(payload)
    call = session.scalar(select(Call).where(Call.cti_call_id == cti_call_id))
    if event != "newCall" and call is None:
        log.warning("CTI %s for unknown callId %r", event, cti_call_id)
        raise NotFound("calls.cti_unknown_call", call_id=cti_call_id)
    repeated = session.scalar(
        select(CtiEvent.id).where(CtiEvent.cti_call_id == cti_call_id, CtiEvent.event == event)
    )
    if repeated is not None:
        return call
    session.add(CtiEvent(cti_call_id=cti_call_id, event=event, payload=_jsonable(payload)))
    session.flush()
    if event == "newCall":
        call = call or _offer_call(session=session, cti_call_id=cti_call_id, payload=payload)
    elif event == "answer":
        _answer_call(session=session, call=call, payload=payload)
    else:
        _hang_up_call(session=session, call=call)
    session.flush()
    mark_calls_changed(session)
    return call


def _validated(payload: Mapping[str, Any]) -> tuple[str, str]:
    event = payload.get("event")
    cti_call_id = payload.get("callId")
    if not isinstance(event, str) or not event:
        raise InvalidInput("calls.cti_missing_field", field="event")
    if not isinstance(cti_call_id, str | int) or not str(cti_call_id).strip():
        raise InvalidInput("calls.cti_missing_field", field="callId")
    if event not in CTI_EVENTS:
        raise InvalidInput("calls.cti_unknown_event", event=event[:40])
    cti_call_id = str(cti_call_id).strip()
    if len(cti_call_id) > MAX_FIELD_LENGTH:
        raise InvalidInput("calls.cti_field_too_long", field="callId")
    return event, cti_call_id


def _offer_call(*, session: Session, cti_call_id: str, payload: Mapping[str, Any]) -> Call:
    to_number = normalise_number(_text(payload.get("to")))
    line = municipality_for_dialled_number(session=session, number=to_number)
    direction = _text(payload.get("direction")) or "in"
    call = Call(
        reference=new_reference(session=session),
        cti_call_id=cti_call_id,
        from_number=normalise_number(_text(payload.get("from"))),
        to_number=to_number,
        direction=direction if direction in ("in", "out") else "in",
        line_municipality_code=line.code if line else None,
        municipality_code=line.code if line else None,
        state=CallState.WAITING,
        offered_at=utcnow(),
    )
    session.add(call)
    session.flush()
    return call


def _answer_call(*, session: Session, call: Call, payload: Mapping[str, Any]) -> None:
    """Assign the call to the answering agent; without one it stays waiting and unanswered."""
    agent = _answering_agent(session=session, payload=payload)
    if agent is None or call.state != CallState.WAITING:
        return
    try:
        assign_call(session=session, call_id=call.id, agent=agent)
    except Conflict as exc:
        log.warning(
            "CTI answer of %s by %s not applied: %s", call.reference, agent.username, exc.key
        )


def _hang_up_call(*, session: Session, call: Call) -> None:
    now = utcnow()
    if call.state == CallState.WAITING:
        call.state = CallState.ABANDONED
        call.ended_at = now
    elif call.state in (CallState.ACTIVE, CallState.WRAP_UP):
        call.ended_at = call.ended_at or now
        call.state = CallState.WRAP_UP
        mark_wrap_up(session=session, agent_id=call.agent_id, call_id=call.id)


def _answering_agent(*, session: Session, payload: Mapping[str, Any]) -> User | None:
    names = payload.get("user") or []
    if isinstance(names, str):
        names = [names]
    candidates = [str(n) for n in names if n] + [_text(payload.get("answeringNumber")) or ""]
    for name in filter(None, candidates):
        user = session.scalar(select(User).where(User.username == name[:64]))
        if user is not None and user.is_active and user.role in (Role.AGENT, Role.SUPERVISOR):
            return user
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:MAX_FIELD_LENGTH]


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(k)[:50]: (v if isinstance(v, str | int | float | bool | list) or v is None else str(v))
        for k, v in payload.items()
    }
