"""HTML views of callbacks: the "Book opringning" form in the console, and the admins' list."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.auth.service import can_admin_municipality
from hotline.calls import callbacks
from hotline.calls.models import Call, CallbackStatus
from hotline.calls.service import get_own_open_call
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.letters.models import Reply
from hotline.municipalities.models import Municipality
from hotline.rules.resolve import list_resolved_topics
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
call_takers = require_roles(Role.AGENT, Role.SUPERVISOR)
viewers = require_roles(Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
DONE_SHOWN = 100
FLASH_KEY = "console_flash"  # the console's flash line (console_views)


def _form(
    caller_phone: str = Form(default="", max_length=100),
    caller_name: str = Form(default="", max_length=1000),
    question: str = Form(default="", max_length=100_000),
    preferred_time: str = Form(default="", max_length=1000),
    topics: list[str] = Form(default=[]),
) -> callbacks.CallbackIn:
    return callbacks.CallbackIn(
        caller_phone=caller_phone,
        caller_name=caller_name,
        question=question,
        preferred_time=preferred_time,
        topics=topics[:100],
    )


@router.get("/console/calls/{call_id}/callback")
def callback_form(
    call_id: int,
    request: Request,
    form: int = Query(default=1, ge=0, le=1),
    user: User = Depends(call_takers),
    session: Session = request_session,
):
    """The callback form, pre-filled from the call (form=0: only the button and what is booked)."""
    call = get_own_open_call(session=session, call_id=call_id, user=user)
    prefilled = callbacks.CallbackIn(
        caller_phone=call.caller_number or "",
        question=call.notes or "",
        topics=_cited_topics(session, call),
    )
    return _panel(request, session, call, prefilled if form else None)


@router.post("/console/calls/{call_id}/callback")
def book_callback(
    call_id: int,
    request: Request,
    form: callbacks.CallbackIn = Depends(_form),
    user: User = Depends(call_takers),
    session: Session = request_session,
):
    """Book the callback; htmx gets the panel back with a notice, or the form with the errors."""
    call = get_own_open_call(session=session, call_id=call_id, user=user)
    is_htmx = bool(request.headers.get("HX-Request"))
    errors = {
        name: t(key, max=callbacks.LIMITS.get(key, 0))
        for name, key in callbacks.form_errors(form).items()
    }
    if not errors:
        try:
            booked = callbacks.book_callback(
                session=session,
                call_id=call.id,
                user=user,
                form=form,
                mail_domain=request.app.state.settings.mail_from.rpartition("@")[2],
            )
        except InvalidInput as exc:
            errors = {"topics" if "topic" in exc.key else "form": t(exc.key, **exc.params)}
        else:
            notice = t(
                "callbacks.booked_mail" if booked.mail_status != "none" else "callbacks.booked",
                municipality=call.municipality.name,
            )
            if not is_htmx:
                request.session[FLASH_KEY] = {"kind": "success", "text": notice}
                return RedirectResponse("/console", status_code=303)
            return _panel(request, session, call, None, notice=notice)
    return _panel(request, session, call, form, errors=errors, status_code=422)


def _panel(request, session, call: Call, form, notice=None, errors=None, status_code=200):
    topics = []
    if form is not None and call.municipality_code:
        topics = list_resolved_topics(session=session, municipality_code=call.municipality_code)
        chosen = set(form.topics)
        topics.sort(key=lambda topic: topic.slug not in chosen)  # the chosen ones first
    return render(
        request,
        "console/_callback_form.html",
        status_code=status_code,
        call=call,
        form=form,
        topics=topics,
        booked=callbacks.list_for_call(session=session, call=call),
        notice=notice,
        errors=errors or {},
        max_question=callbacks.MAX_QUESTION,
    )


def _cited_topics(session: Session, call: Call) -> list[str]:
    """The topics cited in the call's replies so far (the agent ticks more in the form)."""
    replies = session.scalars(select(Reply.cited_rules).where(Reply.call_id == call.id))
    return list(dict.fromkeys(r["topic"] for cited in replies for r in cited or [] if "topic" in r))


@router.get("/admin/callbacks")
def admin_callbacks(
    request: Request,
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    done: int | None = None,
    user: User = Depends(viewers),
    session: Session = request_session,
):
    """The callbacks of a municipality the user may see: open (oldest first), then done."""
    return _render_list(request, session, user, municipality, done_id=done)


@router.post("/admin/callbacks/{callback_id}/done")
def admin_mark_done(
    request: Request,
    callback_id: int,
    note: str = Form(default="", max_length=100_000),
    user: User = Depends(viewers),
    session: Session = request_session,
):
    """Mark a callback done; already done (409) or a bad note (422) re-renders the list."""
    try:
        callback = callbacks.mark_done(
            session=session, user=user, callback_id=callback_id, note=note
        )
    except (Conflict, InvalidInput) as exc:
        found = session.get(callbacks.Callback, callback_id)
        return _render_list(
            request,
            session,
            user,
            found.municipality_code if found else None,
            message=t(exc.key, **exc.params),
            failed=(callback_id, note),
            status_code=exc.status_code,
        )
    query = urlencode({"municipality": callback.municipality_code, "done": callback.id})
    return RedirectResponse(f"/admin/callbacks?{query}", status_code=303)


def _render_list(
    request, session, user, municipality, done_id=None, message=None, failed=None, status_code=200
):
    choices = _visible(session, user)
    code = municipality or (choices[0].code if len(choices) == 1 else None)
    found = callbacks.list_callbacks(session=session, user=user, municipality_code=code)
    return render(
        request,
        "callbacks/admin.html",
        status_code=status_code,
        user=user,
        nav="callbacks",
        choices=choices,
        selected=session.get(Municipality, code) if code else None,
        open_callbacks=[c for c in found if c.status == CallbackStatus.OPEN],
        done_callbacks=[c for c in found if c.status == CallbackStatus.DONE][:DONE_SHOWN],
        references=callbacks.call_references(session=session, callbacks=found),
        handlers=callbacks.handler_names(session=session, callbacks=found),
        can_handle={c.id for c in found if can_admin_municipality(user, c.municipality_code)},
        done_id=done_id,
        message=message,
        failed=failed,
        max_note=callbacks.MAX_NOTE,
    )


def _visible(session: Session, user: User) -> list[Municipality]:
    """The municipalities whose callbacks the user may list (everyone's for supervisors)."""
    if user.role in callbacks.SEE_ALL:
        query = select(Municipality).where(Municipality.participating.is_(True))
        return list(session.scalars(query.order_by(Municipality.name)))
    return sorted(user.municipalities, key=lambda m: m.name)
