"""Server-sent events: the console's queue and the supervisors' board, pushed as they change.

One stream per page (browsers open at most six connections per host over HTTP/1.1). Each event
is named after the fragment it replaces and carries its HTML; calls.js swaps it in.
"""

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from hotline.auth.deps import csrf_token, require_roles, session_time_left
from hotline.auth.models import Role, User
from hotline.auth.service import token_sha256
from hotline.calls.agents import note_console_open
from hotline.calls.events import CallsFeed
from hotline.web.live_renders import LiveRenders, Snapshot

router = APIRouter(include_in_schema=False)

CONSOLE_ROLES = (Role.AGENT, Role.SUPERVISOR)
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
HEARTBEAT_SECONDS = 15.0
# A burst of changes becomes one render: a stream renders at most this often, and always after
# the last change.
RENDER_INTERVAL_SECONDS = 0.15
# A stream ends after this long, or earlier when its session would expire or go idle; EventSource
# then reconnects, and the new request checks the login (and refreshes the session cookie) again:
# an open console or board keeps its session from going idle.
STREAM_MAX_SECONDS = 30 * 60.0
RECONNECT_MS = 2000
# A console stream notes that its console is open this often, in console_gone_after_s.
PRESENCE_NOTES_PER_GONE = 3

Events = list[tuple[str, str]]


@router.get("/console/stream")
async def console_stream(request: Request, user: User = Depends(require_roles(*CONSOLE_ROLES))):
    """The console's live stream: the queue and the agent's own state."""
    user_id, csrf = user.id, csrf_token(request)
    make_session = request.app.state.sessionmaker

    def note_open() -> None:
        with make_session() as session:
            note_console_open(session=session, user_id=user_id)
            session.commit()

    return event_stream(
        request, user, CONSOLE_ROLES, lambda shot: shot.console(user_id, csrf), note_open
    )


@router.get("/supervisor/stream")
async def supervisor_stream(
    request: Request, user: User = Depends(require_roles(*SUPERVISOR_ROLES))
):
    """The supervisors' live stream: the board of agents and waiting calls."""
    return event_stream(request, user, SUPERVISOR_ROLES, lambda shot: [("board", shot.board)])


def sse_event(name: str, data: str) -> str:
    """One named server-sent event; every line of the data gets its own "data:" field."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


def event_stream(
    request: Request,
    user: User,
    roles: tuple[Role, ...],
    pick_events: Callable[[Snapshot], Events],
    note_open: Callable[[], None] | None = None,
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
    presence_s = settings.console_gone_after_s / PRESENCE_NOTES_PER_GONE

    def events_of(snapshot: Snapshot) -> Events | None:
        # The same checks as a new request: logged out, deactivated, or no longer allowed ends it.
        demo_mode = settings.demo_mode
        if not snapshot.signed_in(
            user_id, roles, demo_mode=demo_mode, epoch=epoch, token_sha256=token
        ):
            return None
        return pick_events(snapshot)

    feed = request.app.state.calls_feed
    return StreamingResponse(
        _stream(feed, request.app.state.live_renders, events_of, lifetime, note_open, presence_s),
        media_type="text/event-stream",
        # No caching, and no buffering in a reverse proxy (nginx honours this header).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    feed: CallsFeed,
    renders: LiveRenders,
    events_of: Callable[[Snapshot], Events | None],
    lifetime: float,
    note_open: Callable[[], None] | None,
    presence_s: float,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    noted = -presence_s
    # Subscribe before the first render, so that no change after it is missed.
    changes = feed.subscribe()
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        while True:
            events = events_of(await renders.latest(feed.generation))
            if events is None:
                return
            yield "".join(sse_event(name, data) for name, data in events)
            while True:
                if note_open is not None and loop.time() - noted >= presence_s:
                    await run_in_threadpool(note_open)
                    noted = loop.time()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:
                    wait = min(HEARTBEAT_SECONDS, presence_s, remaining)
                    await asyncio.wait_for(changes.get(), wait)
                    break
                except TimeoutError:
                    yield ": heartbeat\n\n"
            await asyncio.sleep(RENDER_INTERVAL_SECONDS)
            while not changes.empty():  # this render covers the changes of the pause too
                changes.get_nowait()
    finally:
        feed.unsubscribe(changes)
