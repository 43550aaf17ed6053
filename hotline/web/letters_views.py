"""HTML views of letters: the reply composer fragment in the agent console, preview, send, retry."""

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.calls.models import Call
from hotline.calls.service import get_call
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput
from hotline.kit.numbers import danish_message
from hotline.letters.models import Channel, Reply
from hotline.letters.render import signature
from hotline.letters.service import (
    FIELD_LIMITS,
    ReplyIn,
    call_takes_replies,
    create_reply,
    error_params,
    list_replies,
    pdf_filename,
    preview_reply_pdf,
    reply_form_errors,
    retry_reply,
)
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)


def _form(
    channel: str = Form(default="email"),
    recipient_name: str = Form(default="", max_length=2 * FIELD_LIMITS["recipient_name"]),
    recipient_address: str = Form(default="", max_length=2 * FIELD_LIMITS["recipient_address"]),
    recipient_email: str = Form(default="", max_length=2 * FIELD_LIMITS["recipient_email"]),
    subject: str = Form(default="", max_length=2 * FIELD_LIMITS["subject"]),
    body_md: str = Form(default="", max_length=5 * FIELD_LIMITS["body_md"]),
    topics: list[str] = Form(default=[]),
) -> ReplyIn:
    return ReplyIn(
        channel=Channel.PDF if channel == "pdf" else Channel.EMAIL,
        recipient_name=recipient_name,
        recipient_address=recipient_address,
        recipient_email=recipient_email,
        subject=subject,
        body_md=body_md,
        topics=topics[:100],
    )


def _composer(
    request: Request,
    *,
    session: Session,
    call: Call,
    user: User,
    form: ReplyIn | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    page: bool = False,
    status_code: int = 200,
):
    """The composer (or why there is none: call closed, no municipality) and the replies list."""
    from hotline.rules.resolve import list_resolved_topics

    municipality = call.municipality
    topics = []
    closing = None
    if municipality is not None:
        topics = list_resolved_topics(session=session, municipality_code=municipality.code)
        form = form or ReplyIn(subject=t("letters.default_subject", municipality=municipality.name))
        closing = signature(author_name=user.full_name, municipality_name=municipality.name)
    return render(
        request,
        "letters/page.html" if page else "letters/composer.html",
        status_code=status_code,
        user=user,
        call=call,
        municipality=municipality,
        topics=topics,
        form=form,
        closed=not call_takes_replies(call),
        errors=errors or {},
        limits=FIELD_LIMITS,
        notice=notice,
        signature=closing,
        replies=list_replies(session=session, call_id=call.id, user=user),
    )


def _messages(form: ReplyIn, errors: dict[str, str]) -> dict[str, str]:
    """The Danish messages of reply_form_errors' locale keys, by field name."""
    return {
        field: danish_message(key, **error_params(form, field)) for field, key in errors.items()
    }


@router.get("/console/calls/{call_id}/reply")
def reply_panel(
    call_id: int,
    request: Request,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """The reply composer fragment of the agent console."""
    call = get_call(session=session, call_id=call_id, user=user)
    return _composer(request, session=session, call=call, user=user)


@router.get("/console/calls/{call_id}/replies")
def replies_list(
    call_id: int,
    request: Request,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """The call's replies with their delivery status (polled while one is on its way)."""
    return _replies_fragment(request, session=session, call_id=call_id, user=user)


@router.post("/console/calls/{call_id}/reply/preview")
def preview(
    call_id: int,
    request: Request,
    form: ReplyIn = Depends(_form),
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """The reply as a PDF, shown inline in a new tab; nothing is stored."""
    call = get_call(session=session, call_id=call_id, user=user)
    errors = _messages(form, reply_form_errors(form, for_preview=True))
    status_code = 422
    if call.municipality is not None and not errors:
        try:
            pdf = preview_reply_pdf(
                session=session, call=call, author=user, form=form, settings=_settings(request)
            )
        except InvalidInput as exc:
            errors = {"topics": t(exc.key, **exc.params)}
        except Conflict:
            status_code = 409  # the call is closed; the page says so instead of the form
        else:
            return _pdf_response(pdf, "forhaandsvisning.pdf", disposition="inline")
    return _composer(
        request,
        session=session,
        call=call,
        user=user,
        form=form,
        errors=errors,
        page=True,
        status_code=status_code,
    )


@router.post("/console/calls/{call_id}/reply")
def send_reply(
    call_id: int,
    request: Request,
    form: ReplyIn = Depends(_form),
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """Create the reply: an e-mail goes to the outbox (htmx), a PDF letter downloads at once."""
    call = get_call(session=session, call_id=call_id, user=user)
    is_htmx = bool(request.headers.get("HX-Request"))
    errors = _messages(form, reply_form_errors(form))
    status_code = 422
    reply: Reply | None = None
    if call.municipality is not None and not errors:
        try:
            reply = create_reply(
                session=session, call=call, author=user, form=form, settings=_settings(request)
            )
        except InvalidInput as exc:
            errors = {"topics": t(exc.key, **exc.params)}
        except Conflict:
            status_code = 409  # the call is closed; the composer says so instead of the form
    if reply is not None and reply.channel == Channel.PDF and not is_htmx:
        return _pdf_response(reply.pdf, pdf_filename(reply), disposition="attachment")
    if reply is not None:
        notice = "letters.queued_notice" if reply.channel == Channel.EMAIL else "letters.archived"
        return _composer(request, session=session, call=call, user=user, notice=t(notice))
    if is_htmx and status_code == 409:
        # A closed call is nothing the agent can correct, and htmx swaps no 409: the composer
        # comes back as it now is (saying the call is closed) with a 200.
        status_code = 200
    return _composer(
        request,
        session=session,
        call=call,
        user=user,
        form=form,
        errors=errors,
        page=not is_htmx,
        status_code=status_code,
    )


@router.post("/console/replies/{reply_id}/retry")
def retry(
    reply_id: int,
    request: Request,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """Queue a failed reply again and show the call's replies."""
    reply = retry_reply(session=session, reply_id=reply_id, user=user)
    return _replies_fragment(request, session=session, call_id=reply.call_id, user=user)


def _settings(request: Request):
    return request.app.state.settings


def _pdf_response(pdf: bytes, filename: str, *, disposition: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _replies_fragment(request: Request, *, session: Session, call_id: int, user: User):
    """The call's replies with their delivery status, as an htmx fragment."""
    call = get_call(session=session, call_id=call_id, user=user)
    replies = list_replies(session=session, call_id=call.id, user=user)
    return render(request, "letters/replies.html", call=call, replies=replies)
