"""Server-sent events: the console's queue and the supervisors' board, pushed as they change.

One stream per page (browsers open at most six connections per host over HTTP/1.1). Each event
is named after the fragment it replaces and carries its HTML; calls.js swaps it in.
"""

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.auth.service import recent_api_token_owner, user_for_api_token
from hotline.calls.events import CallsFeed
from hotline.web.console_views import agent_state_context, queue_context
from hotline.web.supervisor_views import board_context
from hotline.web.templating import templates

router = APIRouter(include_in_schema=False)

CONSOLE_ROLES = (Role.AGENT, Role.SUPERVISOR)
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
HEARTBEAT_SECONDS = 15.0
# A burst of changes becomes one render: a stream renders at most this often, and always after
# the last change.
RENDER_INTERVAL_SECONDS = 0.15
# A stream ends after this long, or earlier when its session would expire; EventSource then
# reconnects, and the new request checks the login (and refreshes the session cookie) again.
STREAM_MAX_SECONDS = 30 * 60.0
RECONNECT_MS = 2000
AGENT_STATE = "console/_agent_state.html"

Events = list[tuple[str, str]]


@router.get("/console/stream")
async def console_stream(request: Request, user: User = Depends(require_roles(*CONSOLE_ROLES))):
    """The console's live stream: the queue and the agent's own state."""

    def render_events(session: Session, user: User) -> Events:
        queue = fragment(request, "console/_queue.html", **queue_context(session, user))
        state = agent_state_context(session, user)
        return [("queue", queue), ("agent-state", fragment(request, AGENT_STATE, **state))]

    return event_stream(request, user, CONSOLE_ROLES, render_events)


@router.get("/supervisor/stream")
async def supervisor_stream(
    request: Request, user: User = Depends(require_roles(*SUPERVISOR_ROLES))
):
    """The supervisors' live stream: the board of agents and waiting calls."""

    def render_events(session: Session, user: User) -> Events:
        return [("board", fragment(request, "supervisor/_board.html", **board_context(session)))]

    return event_stream(request, user, SUPERVISOR_ROLES, render_events)


def fragment(request: Request, name: str, **context) -> str:
    """A template rendered to a string, with the request in its context (for the CSRF token)."""
    return templates.get_template(name).render(request=request, **context)


def sse_event(name: str, data: str) -> str:
    """One named server-sent event; every line of the data gets its own "data:" field."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


def event_stream(
    request: Request,
    user: User,
    roles: tuple[Role, ...],
    render_events: Callable[[Session, User], Events],
) -> StreamingResponse:
    """A text/event-stream response that renders the events now and after every change."""
    settings = request.app.state.settings
    lifetime = STREAM_MAX_SECONDS
    if "user_id" in request.session:  # a cookie session expires this long after this response
        lifetime = min(lifetime, settings.session_max_age_s)
    user_id = user.id

    def render_now() -> Events | None:
        # The request's session has ended: streaming work opens its own, one per render.
        with request.app.state.sessionmaker() as session:
            current = _still_signed_in(session, request, user_id, roles)
            events = render_events(session, current) if current else None
            session.commit()  # a bearer token's last use may have been recorded
            return events

    return StreamingResponse(
        _stream(request.app.state.calls_feed, render_now, lifetime),
        media_type="text/event-stream",
        # No caching, and no buffering in a reverse proxy (nginx honours this header).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    feed: CallsFeed, render_now: Callable[[], Events | None], lifetime: float
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    # Subscribe before the first render, so that no change after it is missed.
    changes = feed.subscribe()
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        while True:
            events = await run_in_threadpool(render_now)
            if events is None:  # logged out, deactivated, or no longer allowed
                return
            yield "".join(sse_event(name, data) for name, data in events)
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:
                    await asyncio.wait_for(changes.get(), min(HEARTBEAT_SECONDS, remaining))
                    break
                except TimeoutError:
                    yield ": heartbeat\n\n"
            await asyncio.sleep(RENDER_INTERVAL_SECONDS)
            while not changes.empty():  # this render covers the changes of the pause too
                changes.get_nowait()
    finally:
        feed.unsubscribe(changes)


def _still_signed_in(
    session: Session, request: Request, user_id: int, roles: tuple[Role, ...]
) -> User | None:
    """The stream's user, if their login still holds (the same checks as a new request)."""
    settings = request.app.state.settings
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        token, demo_mode = authorization[7:].strip(), settings.demo_mode
        user = recent_api_token_owner(
            session=session, token=token, demo_mode=demo_mode
        ) or user_for_api_token(session=session, token=token, demo_mode=demo_mode)
    else:
        user = session.get(User, user_id)
        if user is not None and request.session.get("epoch") != user.session_epoch:
            user = None
    if user is None or user.id != user_id or not user.is_active or user.role not in roles:
        return None
    if user.is_demo and not settings.demo_mode:
        return None
    return user
