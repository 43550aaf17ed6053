"""JSON API of the letters domain: the call's replies, the PDF archive and its search, retries."""

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.calls.service import get_call
from hotline.db import TransactionRoute, request_session
from hotline.kit.errors import Gone
from hotline.kit.responses import model_json
from hotline.letters.archive import MAX_PER_PAGE, search_archive
from hotline.letters.models import Channel, ReplyStatus
from hotline.letters.service import (
    ReplyIn,
    create_reply,
    get_reply,
    list_replies,
    pdf_filename,
    retry_reply,
)

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["letters"])


class ReplyOut(BaseModel):
    """A reply as the API shows it (without the PDF bytes)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int | None
    reference: str
    municipality_code: str
    author_name: str
    channel: str
    recipient_name: str
    recipient_email: str | None
    subject: str
    cited_rules: list[dict[str, Any]]
    status: str
    pdf_sha256: str
    message_id: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class ArchivedReplyOut(ReplyOut):
    """A reply as the archive lists it: purged_at is set once the retention period removed it."""

    purged_at: datetime | None


class ArchiveOut(BaseModel):
    """One page of the archive's search results."""

    total: int
    page: int
    per_page: int
    items: list[ArchivedReplyOut]


@router.get("/replies", response_model=list[ReplyOut])
def replies_of_call(
    call_id: int, user: User = Depends(current_user), session: Session = request_session
):
    """The replies written on a call."""
    return list_replies(session=session, call_id=call_id, user=user)


@router.post("/calls/{call_id}/replies", response_model=ReplyOut, status_code=201)
def create_call_reply(
    call_id: int,
    form: ReplyIn,
    request: Request,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """Write a reply on a call: an e-mail is queued, a PDF letter is archived."""
    call = get_call(session=session, call_id=call_id, user=user)
    settings = request.app.state.settings
    reply = create_reply(session=session, call=call, author=user, form=form, settings=settings)
    return model_json(ReplyOut, reply, status_code=201)


@router.get("/replies/{reply_id}.pdf")
def reply_pdf(
    reply_id: int, user: User = Depends(current_user), session: Session = request_session
) -> Response:
    """The archived PDF of a reply, exactly as it was sent."""
    reply = get_reply(session=session, reply_id=reply_id, user=user)
    if reply.purged_at is not None:
        raise Gone("archive.purged")
    return Response(
        reply.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf_filename(reply)}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/archive", response_model=ArchiveOut)
def archive(
    municipality: str | None = Query(None, pattern=r"^\d{4}$"),
    q: str | None = Query(None, max_length=200),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    channel: Channel | None = None,
    status: ReplyStatus | None = None,
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(50, ge=1, le=MAX_PER_PAGE),
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """Find archived replies in the municipalities the user may see, newest first."""
    found = search_archive(
        session,
        user,
        municipality_code=municipality,
        q=q,
        date_from=date_from,
        date_to=date_to,
        channel=channel,
        status=status,
        page=page,
        per_page=per_page,
    )
    return ArchiveOut(
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        items=[ArchivedReplyOut.model_validate(reply) for reply in found.items],
    )


@router.post("/replies/{reply_id}/retry", response_model=ReplyOut)
def retry(reply_id: int, user: User = Depends(current_user), session: Session = request_session):
    """Queue a failed e-mail reply again."""
    return model_json(ReplyOut, retry_reply(session=session, reply_id=reply_id, user=user))
