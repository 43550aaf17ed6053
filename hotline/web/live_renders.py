"""The live fragments, read and rendered once per change for every stream of this process.

With twenty consoles open, each stream reading the database and rendering on its own made one
change cost twenty reads and renders, and the claims in between waited for them. Now the first
stream to ask after a change builds a `Snapshot`: the queue in its three forms (to take from, with
a call open, away; see live_queue), the agent-state badge per state, the board while a supervisor
watches, and what the login checks read. Every stream then picks its own variant; the bytes of
an event are encoded once and shared by every stream that sends it.
"""

import asyncio
import itertools
import math
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.auth.models import Role, User
from hotline.auth.sessions import live_logins
from hotline.calls.models import AgentState, AgentStatus, Call
from hotline.calls.queue import BUSY_STATES, list_waiting_calls, queue_window, waited_seconds
from hotline.db import utcnow
from hotline.web.console_views import QUEUE_ROWS, agent_state_choices, queue_variant
from hotline.web.live_queue import QueueView, needs_whole, render_queue_views
from hotline.web.supervisor_views import board_context
from hotline.web.templating import templates

# Stands in for each stream's own CSRF token in the shared HTML.
CSRF_SLOT = "hotline-csrf-slot-7c1e"
# A snapshot this old is not reused by a stream that (re)connects: its clocks would lag.
MAX_AGE_S = 1.0
# Builds start at least this far apart (see LiveRenders).
MIN_BUILD_INTERVAL_S = 0.1
STREAM_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
_serials = itertools.count(1)


@dataclass(frozen=True)
class Signer:
    """The columns a stream's login check reads of its user."""

    is_active: bool
    role: Role
    session_epoch: int
    is_demo: bool


@dataclass(frozen=True)
class Shown:
    """What a console stream has sent: the snapshot, its queue variant and its badge."""

    serial: int
    queue: QueueView
    variant: str
    agent_state: str


@dataclass(frozen=True)
class Snapshot:
    """One change, rendered: every stream's fragments and what its login check needs."""

    queue: dict[str, QueueView]  # by queue_variant
    agent_state: dict[AgentState, str]
    board: str | None  # rendered only while a supervisor's stream is open
    states: dict[int, AgentState]
    busy: frozenset[int]
    signers: dict[int, Signer]
    token_owners: dict[str, int]  # an unrevoked API token's SHA-256 -> its owner's id
    session_owners: dict[str, int]  # a live cookie session's id SHA-256 -> its user's id
    serial: int = field(default_factory=lambda: next(_serials))
    encoded: dict[tuple, bytes] = field(default_factory=dict, compare=False)

    def event(self, key: tuple, name: str, data: Callable[[], str | None]) -> bytes:
        """The event's bytes, encoded once for every stream that sends it (b"" for no data)."""
        if key not in self.encoded:
            text = data()
            self.encoded[key] = b"" if text is None else sse_event(name, text).encode()
        return self.encoded[key]

    def console(self, user_id: int, csrf: str, shown: Shown | None) -> tuple[bytes, Shown]:
        """The console's events since what it has shown: the queue (whole or patched), the badge."""
        state = self.states.get(user_id, AgentState.AWAY)
        variant = queue_variant(busy=user_id in self.busy, state=state)
        queue = self.queue[variant]
        if shown is None or shown.variant != variant or needs_whole(shown.queue, queue):
            sent = self.event(("queue", variant), "queue", lambda: queue.full)
        else:
            patch = lambda: queue.patch_from(shown.queue, shown.serial)  # noqa: E731
            sent = self.event(("queue-rows", variant, shown.serial), "queue-rows", patch)
        badge = fill(self.agent_state[state], csrf)
        if shown is None or shown.agent_state != badge:
            sent += sse_event("agent-state", badge).encode()
        return sent, Shown(self.serial, queue, variant, badge)

    def signed_in(
        self,
        user_id: int,
        roles: tuple[Role, ...],
        *,
        demo_mode: bool,
        epoch: int | None,
        token_sha256: str | None,
        session_sha256: str | None,
    ) -> bool:
        """Whether the stream's login still holds (the checks a new request makes)."""
        signer = self.signers.get(user_id)
        if signer is None or not signer.is_active or signer.role not in roles:
            return False
        if signer.is_demo and not demo_mode:
            return False
        if token_sha256 is not None:
            return self.token_owners.get(token_sha256) == user_id
        return epoch == signer.session_epoch and self.session_owners.get(session_sha256) == user_id


def sse_event(name: str, data: str) -> str:
    """One named server-sent event; every line of the data gets its own "data:" field."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


def fill(html: str, csrf: str) -> str:
    """The shared HTML with the stream's own CSRF token."""
    return html.replace(CSRF_SLOT, csrf)


def build_snapshot(session: Session, board: bool = True) -> Snapshot:
    """Read the queue, the agents and the logins once, and render every variant."""
    # Three reads: each round trip is a wait in a surge, and a build runs for every change.
    now = utcnow()
    window = queue_window(session=session, rows=QUEUE_ROWS)
    streaming = User.role.in_(STREAM_ROLES)
    busy = select(Call.id).where(Call.agent_id == User.id, Call.state.in_(BUSY_STATES)).exists()
    users = session.execute(
        select(
            User.id,
            User.is_active,
            User.role,
            User.session_epoch,
            User.is_demo,
            AgentStatus.state,
            busy.label("busy"),
        )
        .outerjoin(AgentStatus, AgentStatus.user_id == User.id)
        .where(streaming)
    ).all()
    token_owners, session_owners = live_logins(
        session=session, user_ids=select(User.id).where(streaming)
    )
    return Snapshot(
        queue=render_queue_views(window, now),
        agent_state=agent_state_badges(),
        board=_render_board(session, now) if board else None,
        states={row.id: AgentState(row.state) for row in users if row.state is not None},
        busy=frozenset(row.id for row in users if row.busy),
        signers={
            row.id: Signer(row.is_active, row.role, row.session_epoch, row.is_demo) for row in users
        },
        token_owners=token_owners,
        session_owners=session_owners,
    )


@lru_cache(maxsize=1)
def agent_state_badges() -> dict[AgentState, str]:
    """The agent-state badge for each state, with the CSRF slot (the same for every change)."""
    return {
        state: _render("console/_agent_state.html", **agent_state_choices(state))
        for state in AgentState
    }


def _render_board(session: Session, now) -> str:
    waiting = [(c, waited_seconds(c.offered_at, now)) for c in list_waiting_calls(session=session)]
    return _render("supervisor/_board.html", **board_context(session, waiting))


def _render(name: str, **context) -> str:
    return templates.get_template(name).render(csrf_token=lambda _request: CSRF_SLOT, **context)


class LiveRenders:
    """The latest snapshot of this process, built one at a time however many streams ask.

    A stream asks for a snapshot that shows at least its change (the feed's generation). A build
    not yet reading the database takes every change asked for until it starts; one already reading
    is waited for, then the next is built. Builds start at least MIN_BUILD_INTERVAL_S apart: in a
    surge, dozens of changes a second each started a build of its own (every variant read and
    rendered), several at once, and their threads starved the claims.
    """

    def __init__(
        self,
        make_session: sessionmaker,
        build: Callable[[Session, bool], Snapshot] = build_snapshot,
    ) -> None:
        self.make_session, self.build = make_session, build
        self.board_watchers = 0  # open supervisor streams: only they need the board rendered
        self._shot: Snapshot | None = None
        self._shot_generation = -1
        self._shot_started = -math.inf  # when its build began reading (its clocks' moment)
        self._next: asyncio.Future[Snapshot] | None = None  # the build under way or about to be
        self._next_generation = -1
        self._next_board = False
        self._next_reading = False

    async def latest(self, generation: int, board: bool = False) -> Snapshot:
        """A snapshot showing this change (the feed's generation) or a later one."""
        while True:
            if (shot := self._shot) is not None and self._shows(shot, generation, board):
                return shot
            if self._next is None:
                self._next = asyncio.ensure_future(self._build_next())
            pending = self._next
            if self._next_reading and (self._next_generation < generation or self._lacks(board)):
                with suppress(Exception):  # that build's askers see its failure, not this one
                    await asyncio.shield(pending)
                continue
            if not self._next_reading:
                self._next_generation = max(self._next_generation, generation)
                self._next_board = self._next_board or board
            # Shielded: a stream that goes away does not cancel the others' snapshot.
            return await asyncio.shield(pending)

    def _shows(self, shot: Snapshot, generation: int, board: bool) -> bool:
        fresh = time.monotonic() - self._shot_started <= MAX_AGE_S
        return fresh and self._shot_generation >= generation and not (board and shot.board is None)

    def _lacks(self, board: bool) -> bool:
        return board and not self._next_board

    async def _build_next(self) -> Snapshot:
        try:
            pause = self._shot_started + MIN_BUILD_INTERVAL_S - time.monotonic()
            await asyncio.sleep(max(0.0, pause))
            self._next_reading = True
            generation = self._next_generation
            board = self._next_board = self._next_board or self.board_watchers > 0
            started = time.monotonic()
            shot = await run_in_threadpool(self._build, board)
            self._shot, self._shot_generation, self._shot_started = shot, generation, started
            return shot
        finally:
            self._next, self._next_reading = None, False
            self._next_generation, self._next_board = -1, False

    def _build(self, board: bool) -> Snapshot:
        with self.make_session() as session:
            return self.build(session, board)
