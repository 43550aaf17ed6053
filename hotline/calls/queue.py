"""The live queue: waiting calls, and agents claiming them (atomically)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from hotline.auth.models import Role, User
from hotline.auth.service import ensure_role
from hotline.calls.agents import mark_on_call
from hotline.calls.models import AgentState, AgentStatus, Call, CallState, shown_number
from hotline.db import utcnow
from hotline.kit.errors import Conflict, NotFound
from hotline.municipalities.models import Municipality, short_municipality_name

CLAIMING_ROLES = (Role.AGENT, Role.SUPERVISOR)
BUSY_STATES = (CallState.ACTIVE, CallState.WRAP_UP)
# claim_next_call retries this often when other agents keep taking the oldest call first.
MAX_CLAIM_ATTEMPTS = 20


@dataclass(frozen=True)
class QueueStatus:
    """What supervisors watch: how many wait, and for how long the longest has waited."""

    waiting: int
    longest_wait_seconds: int


def list_waiting_calls(*, session: Session, limit: int | None = None) -> list[Call]:
    """The waiting calls, oldest first (the oldest `limit` of them, if given)."""
    query = select(Call).where(Call.state == CallState.WAITING).order_by(Call.offered_at, Call.id)
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class QueuedCall:
    """A waiting call as the queue lists it."""

    id: int
    reference: str
    caller_number: str | None
    offered_at: datetime
    line_name: str | None  # the municipality's short name: the one chosen, else the line's


@dataclass(frozen=True)
class QueueWindow:
    """The oldest waiting calls, how many wait in all, and the newest one's reference."""

    calls: list[QueuedCall]
    count: int
    newest: str | None


def queue_window(*, session: Session, rows: int) -> QueueWindow:
    """The oldest `rows` waiting calls, with the count and the newest (one statement)."""
    # Plain rows, not Call objects: the queue is read for every change in a surge, and a Call
    # loads its agent, contact reason and both municipalities with it. The count and the newest
    # ride on every row (the database computes each once): one round trip, not three.
    waiting = Call.state == CallState.WAITING
    count = select(func.count(Call.id)).where(waiting).scalar_subquery()
    newest = (
        select(Call.reference)
        .where(waiting)
        .order_by(Call.offered_at.desc(), Call.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    chosen, line = aliased(Municipality), aliased(Municipality)
    oldest = session.execute(
        select(
            Call.id,
            Call.reference,
            Call.from_number,
            Call.offered_at,
            func.coalesce(chosen.name, line.name),
            count.label("waiting_count"),
            newest.label("newest_reference"),
        )
        .outerjoin(chosen, chosen.code == Call.municipality_code)
        .outerjoin(line, line.code == Call.line_municipality_code)
        .where(waiting)
        .order_by(Call.offered_at, Call.id)
        .limit(rows)
    ).all()
    calls = [
        QueuedCall(
            call_id,
            reference,
            shown_number(number),
            offered_at,
            name and short_municipality_name(name),
        )
        for call_id, reference, number, offered_at, name, _count, _newest in oldest
    ]
    if not oldest:
        return QueueWindow(calls, 0, None)
    return QueueWindow(calls, oldest[0].waiting_count, oldest[0].newest_reference)


def queue_status(*, session: Session, now: datetime | None = None) -> QueueStatus:
    """The number of waiting calls and the longest wait in seconds."""
    count, oldest = session.execute(
        select(func.count(Call.id), func.min(Call.offered_at)).where(
            Call.state == CallState.WAITING
        )
    ).one()
    if oldest is None:
        return QueueStatus(0, 0)
    return QueueStatus(count, waited_seconds(oldest, now))


def waited_seconds(offered_at: datetime, now: datetime | None = None) -> int:
    """Whole seconds since the call was offered."""
    return max(0, int(((now or utcnow()) - offered_at).total_seconds()))


def claim_call(*, session: Session, call_id: int, agent: User) -> Call:
    """Take a waiting call; exactly one of several agents claiming at once wins."""
    ensure_role(agent, *CLAIMING_ROLES)
    return _take_one(session, agent, call_id, away_too=True)


def ensure_not_away(*, session: Session, agent: User) -> None:
    """An agent who is away ("Ikke klar") takes no call from the queue.

    Logging in makes a call taker away until they say they are ready; one who never had a console
    (an integration with an API token) has no state and is not held back.
    """
    if session.scalar(_away(agent).select()):
        raise Conflict("calls.agent_away")


def assign_call(*, session: Session, call_id: int, agent: User) -> Call:
    """Make a waiting call the agent's active call (a CTI answer, whatever the agent's state), or
    raise why not."""
    return _take_one(session, agent, call_id, away_too=False)


def claim_next_call(*, session: Session, agent: User) -> Call:
    """Claim the oldest waiting call, trying the next one when another agent was faster."""
    ensure_role(agent, *CLAIMING_ROLES)
    # SKIP LOCKED (PostgreSQL): a call another agent is claiming right now is passed over, not
    # waited for. A herd of agents waiting on one row held every route thread, and the winner's
    # commit then had no thread to run on (SQLite takes one writer at a time).
    oldest = (
        select(Call.id)
        .where(Call.state == CallState.WAITING)
        .order_by(Call.offered_at, Call.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    for _ in range(MAX_CLAIM_ATTEMPTS):
        if (call := _take(session, agent, Call.id == oldest.scalar_subquery())) is not None:
            return call
        _refuse(session, agent)
        if session.scalar(oldest) is None:
            raise Conflict("calls.queue_empty")
    raise Conflict("calls.already_taken")


def _take_one(session: Session, agent: User, call_id: int, *, away_too: bool) -> Call:
    """Take that call, or raise why not (away, busy, no such call, already taken)."""
    call = _take(session, agent, Call.id == call_id, away_too=away_too)
    if call is None:
        _refuse(session, agent, away_too=away_too)
        if session.get(Call, call_id) is None:
            raise NotFound("calls.not_found")
        raise Conflict("calls.already_taken")
    return call


def _take(session: Session, agent: User, which, *, away_too: bool = True) -> Call | None:
    """The call `which` picks, made the agent's active call in one UPDATE if it still waits and
    the agent is free (and not away); None if not."""
    # One conditional UPDATE: the database serialises concurrent claims on the row. A concurrent
    # claim by the same agent of another call is invisible to NOT EXISTS under READ COMMITTED;
    # the unique index uq_calls_open_agent refuses it, inside a savepoint so that the rest of the
    # transaction survives the refusal. The agent's state is read in the same statement: each
    # round trip to the database is a wait in a surge.
    free = ~_busy(agent).exists()
    if away_too:
        free = free & ~_away(agent)
    try:
        with session.begin_nested():
            call = session.scalar(
                update(Call)
                .where(which, Call.state == CallState.WAITING, free)
                .values(state=CallState.ACTIVE, agent_id=agent.id, answered_at=utcnow())
                .returning(Call)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
    except IntegrityError as exc:
        raise Conflict("calls.agent_busy") from exc
    if call is not None:
        mark_on_call(session=session, agent_id=agent.id, call_id=call.id)
    return call


def _refuse(session: Session, agent: User, *, away_too: bool = True) -> None:
    """Raise why the agent may take no call now, if that is why a claim took none."""
    if away_too:
        ensure_not_away(session=session, agent=agent)
    if session.scalar(_busy(agent).limit(1)) is not None:
        raise Conflict("calls.agent_busy")


def _busy(agent: User):
    return select(Call.id).where(Call.agent_id == agent.id, Call.state.in_(BUSY_STATES))


def _away(agent: User):
    return (
        select(AgentStatus.user_id)
        .where(AgentStatus.user_id == agent.id, AgentStatus.state == AgentState.AWAY)
        .exists()
    )
