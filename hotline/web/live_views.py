"""Server-sent events: the console's queue and the supervisors' board, pushed as they change.

One stream per page (browsers open at most six connections per host over HTTP/1.1). Each event
is named after the fragment it replaces and carries its HTML, or ("queue-rows") a patch of the
queue's rows; calls.js applies it. A stream sends what changed since its last event, as bytes
encoded once per change for every stream (see live_renders and live_queue).
"""

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import csrf_token, require_roles, session_time_left
from hotline.auth.models import Role, User
from hotline.auth.service import token_sha256
from hotline.calls.agents import note_consoles_open
from hotline.calls.events import CallsFeed
from hotline.calls.presence import OpenConsoles
from hotline.db import TransactionRoute, request_session
from hotline.web.live_renders import LiveRenders, Shown, Snapshot

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)

CONSOLE_ROLES = (Role.AGENT, Role.SUPERVISOR)
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
HEARTBEAT_SECONDS = 15.0
# A burst of changes becomes one render: a stream renders at most this often, and always after
# the last change (and the snapshots it picks from are built at most every 0.1 s: live_renders).
RENDER_INTERVAL_SECONDS = 0.05
# A stream ends after this long, or earlier when its session would expire or go idle; EventSource
# then reconnects, and the new request checks the login (and refreshes the session cookie) again:
# an open console or board keeps its session from going idle.
STREAM_MAX_SECONDS = 30 * 60.0
RECONNECT_MS = 2000

# A stream's events for a snapshot, given what it has sent (None: the login no longer holds).
PickEvents = Callable[[Snapshot, Shown | None], tuple[bytes, Shown | None]]


@router.get("/console/stream")
def console_stream(
    request: Request,
    session: Session = request_session,
    user: User = Depends(require_roles(*CONSOLE_ROLES)),
):
    """The console's live stream: the queue and the agent's own state."""
    # Noted now, in this request's transaction (another session would wait for its write lock on
    # SQLite); then with every open console of this process by the presence worker.
    note_consoles_open(session=session, user_ids=[user.id])
    user_id, csrf = user.id, csrf_token(request)

    def pick(shot: Snapshot, shown: Shown | None) -> tuple[bytes, Shown]:
        return shot.console(user_id, csrf, shown)

    return event_stream(request, user, CONSOLE_ROLES, pick, console=True)


@router.get("/supervisor/stream")
async def supervisor_stream(
    request: Request, user: User = Depends(require_roles(*SUPERVISOR_ROLES))
):
    """The supervisors' live stream: the board of agents and waiting calls."""

    def board(shot: Snapshot, _shown: Shown | None) -> tuple[bytes, None]:
        return shot.event(("board",), "board", lambda: shot.board), None

    return event_stream(request, user, SUPERVISOR_ROLES, board, board=True)


def event_stream(
    request: Request,
    user: User,
    roles: tuple[Role, ...],
    pick_events: PickEvents,
    console: bool = False,
    board: bool = False,
) -> StreamingResponse:
    """A text/event-stream response with the user's events now and after every change."""
    settings = request.app.state.settings
    lifetime = STREAM_MAX_SECONDS
    if "user_id" in request.session:
        lifetime = min(lifetime, session_time_left(request))
    authorization = request.headers.get("Authorization", "")
    bearer = authorization.lower().startswith("bearer ")
    token = token_sha256(authorization[7:].strip()) if bearer else None
    user_id, epoch = user.id, request.session.get("epoch")
    sid = request.session.get("sid") if token is None else None
    session_sha256 = token_sha256(sid) if isinstance(sid, str) else None

    def events_of(snapshot: Snapshot, shown: Shown | None) -> tuple[bytes, Shown | None] | None:
        # The same checks as a new request: logged out, deactivated, or no longer allowed ends it.
        demo_mode = settings.demo_mode
        if not snapshot.signed_in(
            user_id,
            roles,
            demo_mode=demo_mode,
            epoch=epoch,
            token_sha256=token,
            session_sha256=session_sha256,
        ):
            return None
        return pick_events(snapshot, shown)

    state = request.app.state
    stream = _stream(state.calls_feed, state.live_renders, events_of, lifetime, board)
    if console:  # counted among this process's open consoles while it is being sent
        stream = _counted(stream, state.open_consoles, user_id)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        # Never stored, and no buffering in a reverse proxy (nginx honours this header).
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    feed: CallsFeed,
    renders: LiveRenders,
    events_of: Callable[[Snapshot, Shown | None], tuple[bytes, Shown | None] | None],
    lifetime: float,
    board: bool,
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    # Subscribe before the first render, so that no change after it is missed.
    changes = feed.subscribe()
    shown: Shown | None = None
    renders.board_watchers += board
    try:
        yield f"retry: {RECONNECT_MS}\n\n".encode()
        while True:
            events = events_of(await renders.latest(feed.generation, board), shown)
            if events is None:
                return
            sent, shown = events
            if sent:
                yield sent
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:
                    await asyncio.wait_for(changes.get(), min(HEARTBEAT_SECONDS, remaining))
                    break
                except TimeoutError:
                    yield b": heartbeat\n\n"
            await asyncio.sleep(RENDER_INTERVAL_SECONDS)
            while not changes.empty():  # this render covers the changes of the pause too
                changes.get_nowait()
    finally:
        feed.unsubscribe(changes)
        if board:
            renders.board_watchers -= 1


async def _counted(
    stream: AsyncIterator[bytes], consoles: OpenConsoles, user_id: int
) -> AsyncIterator[bytes]:
    consoles.opened(user_id)
    try:
        async for chunk in stream:
            yield chunk
    finally:
        consoles.closed(user_id)
