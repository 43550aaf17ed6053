"""CTI intake: the telephony platform's newCall / answer / hangup events (Zammad's generic CTI).

Events are applied as Zammad applies them: an incoming call waits in the queue until answered,
hung up (missed, unless forwarded) or closed as lost; an answer by someone Hotline doesn't know
takes it out of the queue as answered elsewhere; an outgoing call never waits. Events on one
callId are applied one at a time, even from several server processes (db.lock_for_write), and a
repeated (callId, event) changes nothing. An answer or hangup that comes before its newCall is
held and applied when the newCall arrives. The functions flush and signal; the caller commits.
"""

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session, lazyload

from hotline.auth.models import Role, User
from hotline.calls.agents import mark_wrap_up
from hotline.calls.cti_input import FORWARDED, CtiEventIn, parse_cti_event
from hotline.calls.events import mark_calls_changed
from hotline.calls.models import Call, Callback, CallbackStatus, CallState, CtiEvent
from hotline.calls.queue import BUSY_STATES, assign_call
from hotline.db import lock_for_write, utcnow
from hotline.kit.errors import Conflict
from hotline.municipalities.service import line_for_dialled_number

log = logging.getLogger(__name__)

__all__ = ["new_reference", "record_cti_event"]
# No 0/O, 1/I/L: a reference is read aloud and typed by hand.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "DH-"
# Held events are applied in this order when their newCall arrives.
HELD_ORDER = ("answer", "hangup")
# Out of the queue before the line went quiet: the hangup only says when the call ended.
ENDING_LATER = (CallState.ELSEWHERE, CallState.OUTGOING, CallState.ABANDONED)
# Tables, not entities, where nothing is read back as an object: a third of the ORM's cost.
_CALLS, _EVENTS = Call.__table__, CtiEvent.__table__


def new_reference(*, session: Session) -> str:
    """A short, unique, human-readable call reference such as "DH-7K3Q9X"."""
    while True:
        reference = REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.scalar(select(_CALLS.c.id).where(_CALLS.c.reference == reference)) is None:
            return reference


def record_cti_event(*, session: Session, payload: Mapping[str, Any]) -> Call | None:
    """Apply one CTI event and return its call; None while it is held for its newCall.

    A repeated (callId, event) changes nothing.
    """
    event = parse_cti_event(payload)
    lock_for_write(session, f"cti:{event.call_id}")
    # The row too: a claim or the silence sweep changing the call meanwhile waits, or is seen.
    # Without the agent, reason and municipalities a Call loads with: no event needs them.
    call = session.scalar(
        select(Call)
        .where(Call.cti_call_id == event.call_id)
        .options(lazyload("*"))
        .with_for_update(of=Call)
    )
    # Every event on the callId so far, in one read: whether this one repeats, which are held.
    earlier = session.execute(
        select(_EVENTS.c.event, _EVENTS.c.held).where(_EVENTS.c.cti_call_id == event.call_id)
    ).all()
    if any(name == event.event for name, _held in earlier):
        return call
    now = utcnow()
    held = event.event != "newCall" and call is None
    # A plain insert: the unit of work would cost a flush of its own for a row nothing reads back.
    session.execute(
        insert(_EVENTS).values(
            cti_call_id=event.call_id,
            event=event.event,
            payload=_jsonable(payload),
            received_at=now,
            held=held,
        )
    )
    if held:
        log.info("CTI %s for callId %r held until its newCall", event.event, event.call_id)
        return None
    if event.event == "newCall":
        waiting_events = any(was_held for _name, was_held in earlier)
        call = call or _new_call(session=session, event=event, now=now, held=waiting_events)
    else:
        _apply(session=session, call=call, event=event, at=now)
    session.flush()
    mark_calls_changed(session)
    return call


def _new_call(*, session: Session, event: CtiEventIn, now: datetime, held: bool) -> Call:
    """The call, with any answer or hangup that arrived before it applied at their own times."""
    early_events = []
    if held:
        early_events = list(
            session.scalars(
                select(CtiEvent).where(
                    CtiEvent.cti_call_id == event.call_id, CtiEvent.held.is_(True)
                )
            )
        )
    early_events.sort(key=lambda e: HELD_ORDER.index(e.event))
    # If they overtook each other too, the answer takes the earlier moment, the hangup the later.
    moments = sorted(e.received_at for e in early_events)
    # A call first heard of while already waiting (an adapter's resync) says how long it has waited.
    came_in = now - timedelta(seconds=event.hold_seconds or 0)
    offered_at = min([came_in, *moments])
    if event.direction == "out":
        call = _outgoing_call(session=session, event=event, at=offered_at)
    else:
        call = _incoming_call(session=session, event=event, at=offered_at)
    if early_events:
        session.flush()  # the call's id, for an answer that assigns it
    for early, at in zip(early_events, moments, strict=True):
        early.held = False
        _apply(session=session, call=call, event=parse_cti_event(early.payload), at=at)
    return call


def _incoming_call(*, session: Session, event: CtiEventIn, at: datetime) -> Call:
    code = line_for_dialled_number(session=session, number=event.to_number)
    return _add_call(session, event, at, direction="in", state=CallState.WAITING, line=code)


def _outgoing_call(*, session: Session, event: CtiEventIn, at: datetime) -> Call:
    """An agent's call out: tied to their open call or an open callback to the same number."""
    agent = _hotline_user(session=session, event=event)
    related = _open_call_to(session=session, agent=agent, number=event.to_number)
    callback = None if related else _open_callback_to(session=session, number=event.to_number)
    line = line_for_dialled_number(session=session, number=event.from_number)
    belongs_to = related or callback
    return _add_call(
        session,
        event,
        at,
        direction="out",
        state=CallState.OUTGOING,
        line=line,
        municipality_code=belongs_to.municipality_code if belongs_to else None,
        agent_id=agent.id if agent else None,
        related_call_id=related.id if related else None,
        callback_id=callback.id if callback else None,
    )


def _add_call(
    session: Session, event: CtiEventIn, at: datetime, *, line: str | None, **fields: Any
) -> Call:
    """A new call from the event; its municipality is the line's unless given."""
    fields["municipality_code"] = fields.get("municipality_code") or line
    call = Call(
        reference=new_reference(session=session),
        cti_call_id=event.call_id,
        from_number=event.from_number,
        to_number=event.to_number,
        cti_queue=event.queue,
        line_municipality_code=line,
        offered_at=at,
        **fields,
    )
    session.add(call)
    return call


def _apply(*, session: Session, call: Call, event: CtiEventIn, at: datetime) -> None:
    if event.event == "answer":
        _answer(session=session, call=call, event=event, at=at)
    elif event.event == "hangup":
        _hang_up(session=session, call=call, event=event, at=at)


def _answer(*, session: Session, call: Call, event: CtiEventIn, at: datetime) -> None:
    """A Hotline agent takes the call; voicemail misses it; anyone else answered it elsewhere."""
    answered_at = _after(call.offered_at, event.hold_seconds, at)
    if call.state == CallState.OUTGOING:
        call.answered_at = call.answered_at or answered_at
        return
    if call.state != CallState.WAITING:
        return  # answered in the console already, or over: Zammad ignores an answer after hangup
    if event.by_voicemail:
        call.state, call.end_cause = CallState.ABANDONED, "voicemail"
        return
    agent = _hotline_user(session=session, event=event)
    if agent is not None:
        try:
            call = assign_call(session=session, call_id=call.id, agent=agent)
            call.answered_at = answered_at
            return
        except Conflict as exc:  # the agent holds another call (the row is locked: not taken)
            log.warning("CTI answer of %s by %s: %s", call.reference, agent.username, exc.key)
    # The platform put the caller through to someone: whoever it was, nobody may take it again.
    call.state, call.answered_at = CallState.ELSEWHERE, answered_at


def _hang_up(*, session: Session, call: Call, event: CtiEventIn, at: datetime) -> None:
    if call.state == CallState.WAITING:
        forwarded = event.cause == FORWARDED
        call.state = CallState.ELSEWHERE if forwarded else CallState.ABANDONED
        call.ended_at, call.end_cause = _after(call.offered_at, event.hold_seconds, at), event.cause
    elif call.state in BUSY_STATES:
        call.ended_at = call.ended_at or _after(call.answered_at, event.talk_seconds, at)
        call.end_cause = event.cause
        call.state = CallState.WRAP_UP
        mark_wrap_up(session=session, agent_id=call.agent_id, call_id=call.id)
    elif call.state in ENDING_LATER and call.ended_at is None:
        call.ended_at = _after(call.answered_at, event.talk_seconds, at)
        call.end_cause = call.end_cause or event.cause


def _after(start: datetime | None, seconds: int | None, at: datetime) -> datetime:
    """The moment the platform's seconds put after start, never later than the event itself."""
    if start is None or seconds is None:
        return at
    return min(at, start + timedelta(seconds=seconds))


def _hotline_user(*, session: Session, event: CtiEventIn) -> User | None:
    """The agent the platform names: answeringNumber, then each user, by login or e-mail."""
    for name in filter(None, (event.answering, *event.users)):
        name = name.lower()[:254]
        user = session.scalar(
            select(User)
            .where(or_(func.lower(User.username) == name, func.lower(User.email) == name))
            .where(User.is_active.is_(True), User.role.in_((Role.AGENT, Role.SUPERVISOR)))
            .order_by(User.id)
            .limit(1)
        )
        if user is not None:
            return user
    return None


def _open_call_to(*, session: Session, agent: User | None, number: str | None) -> Call | None:
    if agent is None or number is None:
        return None
    return session.scalar(
        select(Call).where(
            Call.agent_id == agent.id, Call.state.in_(BUSY_STATES), Call.from_number == number
        )
    )


def _open_callback_to(*, session: Session, number: str | None) -> Callback | None:
    if number is None:
        return None
    return session.scalar(
        select(Callback)
        .where(Callback.status == CallbackStatus.OPEN, Callback.caller_phone == number)
        .order_by(Callback.created_at.desc(), Callback.id.desc())
        .limit(1)
    )


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as received, cut to size (nested values become their text)."""
    return {str(k)[:50]: _cut(v) for k, v in list(payload.items())[:50]}


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1000]
    if isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, list):
        return [str(item)[:100] for item in value[:20]]
    return str(value)[:200]
