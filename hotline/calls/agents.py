"""Agent states: available, on call, wrap-up, away; changed as agents take and finish calls."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.events import mark_calls_changed
from hotline.calls.models import AgentState, AgentStatus, Call, CallState
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput

# The states an agent chooses; the others follow their calls.
CHOSEN_STATES = (AgentState.AVAILABLE, AgentState.AWAY)
STATE_ORDER = (AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.AWAY)
CALL_TAKERS = (Role.AGENT, Role.SUPERVISOR)
_OPEN_CALL_STATES = (CallState.ACTIVE, CallState.WRAP_UP)


@dataclass(frozen=True)
class AgentView:
    """What the console and the board show of one agent."""

    user_id: int
    name: str
    state: AgentState
    since: datetime | None
    call: Call | None


def agent_state(*, session: Session, user: User) -> AgentView:
    """The user's state; someone never seen is away."""
    status = session.get(AgentStatus, user.id, populate_existing=True)
    if status is None:
        return AgentView(user.id, user.full_name, AgentState.AWAY, None, None)
    call = session.get(Call, status.call_id) if status.call_id else None
    return AgentView(user.id, user.full_name, AgentState(status.state), status.since, call)


def choose_agent_state(*, session: Session, user: User, state: str) -> None:
    """The agent makes themselves available or away; not while they have a call open."""
    if state not in CHOSEN_STATES:
        raise InvalidInput("live.state_unknown")
    if _open_call(session, user.id) is not None:
        raise Conflict("live.state_busy")
    _put(session, user.id, AgentState(state))


def mark_on_call(*, session: Session, agent_id: int, call_id: int) -> None:
    """The agent has taken (or answered) the call, whatever they were before."""
    _put(session, agent_id, AgentState.ON_CALL, call_id)


def mark_wrap_up(*, session: Session, agent_id: int, call_id: int) -> None:
    """The caller hung up: the agent does the after-call work."""
    _put(session, agent_id, AgentState.WRAP_UP, call_id)


def mark_available(*, session: Session, agent_id: int) -> None:
    """The agent finished their call's wrap-up and is ready for the next one."""
    _put(session, agent_id, AgentState.AVAILABLE)


def mark_signed_in_or_out(*, session: Session, user: User) -> None:
    """Logging in or out makes a call taker away (until they choose available), unless on a call."""
    if user.role in CALL_TAKERS and _open_call(session, user.id) is None:
        _put(session, user.id, AgentState.AWAY)


def note_consoles_open(*, session: Session, user_ids: Collection[int]) -> None:
    """These agents each have a console with its live stream open now (one statement)."""
    if user_ids:
        session.execute(
            update(AgentStatus)
            .where(AgentStatus.user_id.in_(user_ids))
            .values(console_seen_at=utcnow())
        )


def away_when_consoles_gone(*, session: Session, gone_after: timedelta) -> int:
    """Make away every available agent whose consoles have all been closed for gone_after.

    A closed browser must not leave an agent "available" on the board. Only agents who have had
    a console are concerned: one who works through the API alone has no console to close.
    """
    now = utcnow()
    result = session.execute(
        update(AgentStatus)
        .where(
            AgentStatus.state == AgentState.AVAILABLE,
            AgentStatus.console_seen_at < now - gone_after,
        )
        .values(state=AgentState.AWAY, call_id=None, since=now)
    )
    if result.rowcount:
        mark_calls_changed(session)
    return result.rowcount


def list_agents(*, session: Session) -> list[AgentView]:
    """The board's agents: every active agent with a state, and anyone else not away."""
    order = case({s.value: i for i, s in enumerate(STATE_ORDER)}, value=AgentStatus.state)
    rows = session.execute(
        select(AgentStatus, User, Call)
        .join(User, User.id == AgentStatus.user_id)
        .outerjoin(Call, Call.id == AgentStatus.call_id)
        .where(
            User.is_active.is_(True),
            or_(User.role == Role.AGENT, AgentStatus.state != AgentState.AWAY),
        )
        .order_by(order, AgentStatus.since, User.full_name)
        .execution_options(populate_existing=True)
    ).all()
    return [
        AgentView(user.id, user.full_name, AgentState(status.state), status.since, call)
        for status, user, call in rows
    ]


def _open_call(session: Session, user_id: int) -> int | None:
    return session.scalar(
        select(Call.id).where(Call.agent_id == user_id, Call.state.in_(_OPEN_CALL_STATES)).limit(1)
    )


def _put(session: Session, user_id: int, state: AgentState, call_id: int | None = None) -> None:
    """Insert or update the agent's row in one statement (two requests may create it at once)."""
    session.flush()  # the call the row points to, if it is new
    values = {"new_user_id": user_id, "new_state": state, "new_call_id": call_id}
    session.execute(_upsert_state(session.get_bind().dialect.name), {**values, "now": utcnow()})
    mark_calls_changed(session)


@lru_cache(maxsize=4)
def _upsert_state(dialect: str):
    """The upsert of an agent's state (built once: building it cost more than running it)."""
    table = AgentStatus.__table__
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(
        user_id=bindparam("new_user_id", type_=table.c.user_id.type),
        state=bindparam("new_state", type_=table.c.state.type),
        call_id=bindparam("new_call_id", type_=table.c.call_id.type),
        since=bindparam("now", type_=table.c.since.type),
    )
    unchanged = (table.c.state == statement.excluded.state) & (
        table.c.call_id.is_not_distinct_from(statement.excluded.call_id)
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={
            "state": statement.excluded.state,
            "call_id": statement.excluded.call_id,
            # "since" is when the state began: setting the same state again keeps it.
            "since": case((unchanged, table.c.since), else_=statement.excluded.since),
        },
    )
