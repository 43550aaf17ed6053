"""HTML views of the agent console: the queue, the active call, the municipality, wrap-up."""

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls import agents, queue, service
from hotline.calls.models import AgentState, Call, Outcome
from hotline.db import TransactionRoute, request_session, utcnow
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidFields, InvalidInput
from hotline.kit.numbers import danish_message
from hotline.municipalities.service import search_municipalities
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
console_user = require_roles(Role.AGENT, Role.SUPERVISOR)
FLASH_KEY = "console_flash"


@router.get("/console")
def console(
    request: Request, session: Session = request_session, user: User = Depends(console_user)
):
    """The agent console: the queue, and the call the agent is working on."""
    return _console_page(request, session, user, flash=request.session.pop(FLASH_KEY, None))


@router.get("/console/queue")
def queue_fragment(
    request: Request, session: Session = request_session, user: User = Depends(console_user)
):
    """The waiting calls (the console's live stream sends the same fragment)."""
    return render(request, "console/_queue.html", **queue_context(session, user))


@router.post("/console/state")
def choose_state(
    request: Request,
    state: str = Form(max_length=16),
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """The agent makes themselves available or away."""
    try:
        agents.choose_agent_state(session=session, user=user, state=state)
    except Conflict as exc:
        return _back_to_console(request, t(exc.key, **exc.params), kind="error")
    return _back_to_console(request, t("live.state_changed." + state))


@router.post("/console/calls/next")
def claim_next(
    request: Request, session: Session = request_session, user: User = Depends(console_user)
):
    """Take the oldest waiting call."""
    try:
        call = queue.claim_next_call(session=session, agent=user)
    except Conflict as exc:
        return _back_to_console(request, t(exc.key, **exc.params), kind="error")
    return _back_to_console(request, t("console.claimed", reference=call.reference))


@router.post("/console/calls/{call_id}/claim")
def claim(
    call_id: int,
    request: Request,
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """Take one waiting call."""
    try:
        call = queue.claim_call(session=session, call_id=call_id, agent=user)
    except Conflict as exc:
        return _back_to_console(request, t(exc.key, **exc.params), kind="error")
    return _back_to_console(request, t("console.claimed", reference=call.reference))


@router.get("/console/municipalities")
def municipality_hits(
    request: Request,
    q: str = Query("", max_length=100),
    call_id: int | None = None,
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """Municipalities matching a name, code or postal code, each with a choose button."""
    matches = search_municipalities(session=session, query=q, limit=12) if q.strip() else []
    return render(request, "console/_municipality_hits.html", matches=matches, call_id=call_id, q=q)


@router.post("/console/calls/{call_id}/municipality")
def choose_municipality(
    call_id: int,
    request: Request,
    code: str = Form(max_length=4),
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """Set the caller's municipality; htmx gets the picker and fresh rules and reply panels."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    service.set_call_municipality(session=session, call=call, code=code, user=user)
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/console", status_code=303)
    return render(request, "console/_municipality_changed.html", call=call)


@router.post("/console/calls/{call_id}/notes")
def save_notes(
    call_id: int,
    request: Request,
    notes: str = Form("", max_length=2 * service.MAX_NOTES_LENGTH),
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """Save the notes (htmx, on change); notes with a CPR number are refused, not saved."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    try:
        service.save_call_notes(session=session, call=call, notes=notes, user=user)
    except InvalidInput as exc:  # a CPR number: the service refuses to store it
        # Nothing is stored; the text stays in the agent's form until they remove the number.
        warning = t(exc.key, **exc.params)
        if not request.headers.get("HX-Request"):
            return _console_page(
                request, session, user, status_code=422, notes_draft=notes, notes_warning=warning
            )
        return render(request, "console/_notes_result.html", status_code=422, notes_warning=warning)
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/console", status_code=303)
    return render(request, "console/_notes_result.html", saved_at=utcnow())


@router.post("/console/calls/{call_id}/wrap-up")
def wrap_up(
    call_id: int,
    request: Request,
    contact_reason_code: str = Form("", max_length=50),
    outcome: str = Form("", max_length=16),
    notes: str = Form("", max_length=2 * service.MAX_NOTES_LENGTH),
    avoidable: bool = Form(False),
    # Longer than the limit is refused by the service, with the form kept.
    avoidable_url: str = Form("", max_length=2 * service.MAX_AVOIDABLE_URL_LENGTH),
    session: Session = request_session,
    user: User = Depends(console_user),
):
    """Finish the call; a missing or wrong field re-renders the form with the error."""
    call = service.get_own_open_call(session=session, call_id=call_id, user=user)
    try:
        service.wrap_up_call(
            session=session,
            call=call,
            user=user,
            contact_reason_code=contact_reason_code or None,
            outcome=outcome or None,
            notes=notes,
            avoidable=avoidable,
            avoidable_url=avoidable_url,
        )
    except InvalidFields as exc:
        # Shown again, not saved: the notes may be what was refused (a CPR number).
        form = {
            "contact_reason_code": contact_reason_code,
            "outcome": outcome,
            "avoidable": avoidable,
            "avoidable_url": avoidable_url,
        }
        errors = {name: danish_message(e.key, **e.params) for name, e in exc.errors.items()}
        if request.headers.get("HX-Request"):
            # Only the wrap-up and the notes come back, so the reply being written stays.
            return render(
                request,
                "console/_wrap_up_failed.html",
                status_code=422,
                call=call,
                **_wrap_up_context(session),
                wrap_up_errors=errors,
                form=form,
                notes_draft=notes,
            )
        return _console_page(
            request,
            session,
            user,
            status_code=422,
            wrap_up_errors=errors,
            form=form,
            notes_draft=notes,
        )
    durations = [call.wait_seconds, call.talk_seconds, call.after_call_seconds]
    message = t("console.wrapped_up", reference=call.reference)
    return _back_to_console(request, message, durations=durations)


def _wrap_up_context(session: Session) -> dict:
    """What the wrap-up form and the notes field need besides the call."""
    return {
        "reasons": service.list_contact_reasons(session=session),
        "outcomes": list(Outcome),
        "max_notes_length": service.MAX_NOTES_LENGTH,
    }


def _console_page(request: Request, session: Session, user: User, status_code: int = 200, **extra):
    call = service.get_active_call(session=session, agent=user)
    state = agents.agent_state(session=session, user=user).state
    return render(
        request,
        "console/page.html",
        status_code=status_code,
        user=user,
        nav="console",
        call=call,
        **(_wrap_up_context(session) if call else {}),
        form=extra.pop("form", {}),
        **queue_context(session, user, call=call, state=state),
        **agent_state_choices(state),
        **extra,
    )


# A console lists the oldest this many waiting calls and counts the rest: an agent takes the
# oldest call, and a surge of hundreds in rows would cost every console bytes and rendering.
QUEUE_ROWS = 25
# The queue as a console shows it: with take buttons, for an agent with a call, for one away.
QUEUE_VARIANTS = {
    "free": {"agent_busy": False, "agent_away": False},
    "busy": {"agent_busy": True, "agent_away": False},
    "away": {"agent_busy": False, "agent_away": True},
}


def queue_variant(*, busy: bool, state: AgentState) -> str:
    """Which form of the queue a console gets."""
    return "busy" if busy else "away" if state == AgentState.AWAY else "free"


def queue_context(
    session: Session, user: User, call: Call | None = None, state: AgentState | None = None
) -> dict:
    """What console/_queue.html shows: the waiting calls, and whether the user may take one."""
    window = queue.queue_window(session=session, rows=QUEUE_ROWS)
    busy = call is not None or service.get_active_call(session=session, agent=user) is not None
    state = state or agents.agent_state(session=session, user=user).state
    return {**window_context(window), **QUEUE_VARIANTS[queue_variant(busy=busy, state=state)]}


def window_context(window: queue.QueueWindow) -> dict:
    """The queue's rows, count and newest as console/_queue.html shows them."""
    now = utcnow()
    return {
        "waiting": [(c, queue.waited_seconds(c.offered_at, now)) for c in window.calls],
        "waiting_count": window.count,
        "newest": window.newest,
    }


def agent_state_choices(state: AgentState) -> dict:
    """The agent-state badge's context: the state, and the one the agent may switch to."""
    choices = {AgentState.AVAILABLE: AgentState.AWAY, AgentState.AWAY: AgentState.AVAILABLE}
    return {"agent_state": state, "next_state": choices.get(state)}


def _back_to_console(
    request: Request, message: str, kind: str = "success", durations: list | None = None
) -> Response:
    request.session[FLASH_KEY] = {"kind": kind, "text": message, "durations": durations}
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": "/console"})
    return RedirectResponse("/console", status_code=303)
