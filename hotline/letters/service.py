"""Replies: compose a letter from the agent's text and cited rules, archive it, queue the e-mail."""

import hashlib
import re
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.models import Call
from hotline.calls.service import OPEN_STATES, get_call
from hotline.config import Settings
from hotline.db import utcnow
from hotline.documents.layout_budget import layout_problem
from hotline.kit.cpr import contains_cpr
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.letters.letterheads import load_letterhead
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.letters.render import (
    MAX_BODY_CHARS,
    MAX_CITED_RULES,
    CitedRule,
    LetterContent,
    render_letter_pdf,
)
from hotline.municipalities.models import Municipality

# The longest text each field of the reply takes.
FIELD_LIMITS = {
    "recipient_name": 200,
    "recipient_address": 1000,
    "recipient_email": 254,
    "subject": 300,
    "body_md": MAX_BODY_CHARS,
}
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
ARCHIVE_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)


class ReplyIn(BaseModel):
    """What the agent filled in; checked by reply_form_errors, not by pydantic, for Danish text."""

    channel: Channel = Channel.EMAIL
    # Twice each field's limit: longer than the limit is an error at the field, with the text kept.
    recipient_name: str = Field(default="", max_length=2 * 200)
    recipient_address: str = Field(default="", max_length=2 * 1000)
    recipient_email: str = Field(default="", max_length=2 * 254)
    subject: str = Field(default="", max_length=2 * 300)
    body_md: str = Field(default="", max_length=5 * MAX_BODY_CHARS)
    topics: list[str] = Field(default=[], max_length=100)


def reply_form_errors(form: ReplyIn, *, for_preview: bool = False) -> dict[str, str]:
    """The locale keys of what is wrong with the form, by field name (empty when it is fine)."""
    errors: dict[str, str] = {
        name: "letters.field_too_long." + name
        for name, limit in FIELD_LIMITS.items()
        if len(getattr(form, name)) > limit
    }
    if not form.subject.strip():
        errors["subject"] = "letters.subject_required"
    if not form.body_md.strip():
        errors["body_md"] = "letters.body_required"
    if "body_md" not in errors and (problem := layout_problem(form.body_md)):
        errors["body_md"] = f"letters.{problem.limit}"
    if len(set(form.topics)) > MAX_CITED_RULES:
        errors["topics"] = "letters.too_many_rules"
    email = form.recipient_email.strip()
    if email and not _EMAIL.match(email) and "recipient_email" not in errors:
        errors["recipient_email"] = "letters.email_invalid"
    # No CPR number in a reply: e-mail is no secure channel, and the archive keeps the text.
    for name in ("recipient_name", "recipient_address", "recipient_email", "subject", "body_md"):
        if name not in errors and contains_cpr(getattr(form, name)):
            errors[name] = "cpr.in_reply"
    if for_preview:
        return errors
    if form.channel == Channel.EMAIL and not email:
        errors["recipient_email"] = "letters.email_required"
    if form.channel == Channel.PDF and not (
        form.recipient_name.strip() and form.recipient_address.strip()
    ):
        errors["recipient_address"] = "letters.address_required"
    return errors


def error_params(form: ReplyIn, name: str) -> dict[str, int]:
    """The numbers a field's error message may name: its length and its limit."""
    too_long = name in FIELD_LIMITS and len(getattr(form, name)) > FIELD_LIMITS[name]
    if name == "body_md" and not too_long and (problem := layout_problem(form.body_md)):
        return {"count": problem.count, "max": problem.max}
    if name in FIELD_LIMITS:
        return {"count": len(getattr(form, name)), "max": FIELD_LIMITS[name]}
    return {"max": MAX_CITED_RULES}


def _raise_first(form: ReplyIn, errors: dict[str, str]) -> None:
    for name, key in errors.items():
        raise InvalidInput(key, **error_params(form, name))


def call_takes_replies(call: Call) -> bool:
    """Whether replies can still be written on the call: only while it is active or in wrap-up."""
    return call.state in OPEN_STATES


def ensure_can_write_reply(call: Call, author: User) -> None:
    """Only the agent who has the call, while it is open, writes to the citizen about it."""
    if call.agent_id != author.id:
        raise PermissionDenied("error.permission_denied")
    if not call_takes_replies(call):
        raise Conflict("letters.call_closed")


def call_municipality(*, session: Session, call: Call) -> Municipality:
    """The caller's municipality; a reply cannot be written without it."""
    municipality = session.get(Municipality, call.municipality_code or "")
    if municipality is None:
        raise InvalidInput("letters.no_municipality")
    return municipality


def compose_letter(
    *,
    session: Session,
    call: Call,
    author: User,
    form: ReplyIn,
    settings: Settings,
    on: date | None = None,
) -> LetterContent:
    """The letter's content, citing each chosen topic as it applies in the caller's municipality."""
    from hotline.rules.resolve import resolve_rule

    municipality = call_municipality(session=session, call=call)
    _raise_first(form, reply_form_errors(form, for_preview=True))
    on = on or utcnow().astimezone(COPENHAGEN).date()
    cited = []
    for slug in dict.fromkeys(form.topics):
        try:
            rule = resolve_rule(
                session=session, topic_slug=slug, municipality_code=municipality.code, on=on
            )
        except NotFound as exc:
            raise InvalidInput("letters.unknown_topic", topic=slug[:100]) from exc
        cited.append(
            CitedRule(
                topic=slug,
                title=rule.title,
                sections_md=[section.body_md for section in rule.sections],
                fields={f.key: f.value for f in rule.fields},
                not_offered=rule.not_offered,
                rule_version_ids=rule.cited_versions,
            )
        )
    return LetterContent(
        municipality_name=municipality.name,
        reference=call.reference,
        letter_date=on,
        subject=form.subject.strip(),
        body_md=form.body_md.strip(),
        recipient_name=form.recipient_name.strip(),
        recipient_address=form.recipient_address.strip(),
        author_name=author.full_name,
        cited=cited,
    )


def preview_reply_pdf(
    *, session: Session, call: Call, author: User, form: ReplyIn, settings: Settings
) -> bytes:
    """The PDF the reply would be, without storing anything."""
    ensure_can_write_reply(call, author)
    letter = compose_letter(session=session, call=call, author=author, form=form, settings=settings)
    municipality = call_municipality(session=session, call=call)
    letterhead = load_letterhead(
        municipality=municipality, letterheads_dir=settings.letterheads_dir
    )
    return render_letter_pdf(letter, letterhead)


def create_reply(
    *, session: Session, call: Call, author: User, form: ReplyIn, settings: Settings
) -> Reply:
    """Render and archive the reply; an e-mail is queued for the outbox, a PDF counts as fetched."""
    from email.utils import make_msgid

    ensure_can_write_reply(call, author)
    municipality = call_municipality(session=session, call=call)
    _raise_first(form, reply_form_errors(form))
    letter = compose_letter(session=session, call=call, author=author, form=form, settings=settings)
    letterhead = load_letterhead(
        municipality=municipality, letterheads_dir=settings.letterheads_dir
    )
    pdf = render_letter_pdf(letter, letterhead)
    is_email = form.channel == Channel.EMAIL
    reply = Reply(
        call_id=call.id,
        reference=call.reference,
        municipality_code=municipality.code,
        author_id=author.id,
        author_name=author.full_name,
        channel=form.channel,
        recipient_name=letter.recipient_name,
        recipient_address=letter.recipient_address,
        recipient_email=form.recipient_email.strip() or None,
        subject=letter.subject,
        body_md=letter.body_md,
        cited_rules=[
            {"topic": r.topic, "rule_version_ids": r.rule_version_ids, "title": r.title}
            for r in letter.cited
        ],
        status=ReplyStatus.QUEUED if is_email else ReplyStatus.DOWNLOADED,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        # Fixed before the first attempt, so every retry carries the same Message-ID.
        message_id=make_msgid(idstring="reply", domain=settings.mail_from.rpartition("@")[2]),
        attempts=0,
        next_attempt_at=utcnow() if is_email else None,
        created_at=utcnow(),
    )
    session.add(reply)
    session.flush()
    return reply


def list_replies(*, session: Session, call_id: int, user: User) -> list[Reply]:
    """The replies of a call the user may work on, oldest first."""
    call = get_call(session=session, call_id=call_id, user=user)
    return list(session.scalars(select(Reply).where(Reply.call_id == call.id).order_by(Reply.id)))


def can_read_reply(user: User, reply: Reply) -> bool:
    """The archive rule: the author, supervisors and system admins, the municipality's admins."""
    if reply.author_id == user.id or user.role in ARCHIVE_ROLES:
        return True
    return (
        user.role == Role.MUNICIPALITY_ADMIN and reply.municipality_code in user.municipality_codes
    )


def get_reply(*, session: Session, reply_id: int, user: User) -> Reply:
    """An archived reply the user may read."""
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise NotFound("letters.not_found")
    if not can_read_reply(user, reply):
        raise PermissionDenied("error.permission_denied")
    return reply


def retry_reply(*, session: Session, reply_id: int, user: User) -> Reply:
    """Queue a failed e-mail reply again (its author, or a supervisor)."""
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise NotFound("letters.not_found")
    if reply.author_id != user.id and user.role not in ARCHIVE_ROLES:
        raise PermissionDenied("error.permission_denied")
    if reply.status != ReplyStatus.FAILED:
        raise Conflict("letters.not_failed")
    reply.status = ReplyStatus.QUEUED
    reply.attempts = 0
    reply.next_attempt_at = utcnow()
    session.flush()
    return reply


def pdf_filename(reply: Reply) -> str:
    """A safe file name for the reply's PDF: svar-<reference>.pdf."""
    return f"svar-{re.sub(r'[^A-Za-z0-9-]', '_', reply.reference)}.pdf"
