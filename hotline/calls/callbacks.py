"""Callbacks: an agent books one for the municipality's daytime staff; its admins handle it."""

from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import Role, User, user_municipalities
from hotline.auth.service import ensure_can_admin_municipality
from hotline.calls.cti_input import normalise_number
from hotline.calls.models import Call, Callback, CallbackStatus, MailStatus
from hotline.calls.service import get_own_open_call
from hotline.db import utcnow
from hotline.kit.cpr import contains_cpr
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.rules.resolve import resolve_rule

MAX_QUESTION = 4000
MAX_NAME = 200
MAX_TIME = 200
MAX_NOTE = 2000
MAX_TOPICS = 20
# The limit each "too long" message names.
LIMITS = {
    "callbacks.question_too_long": MAX_QUESTION,
    "callbacks.time_too_long": MAX_TIME,
    "callbacks.name_too_long": MAX_NAME,
    "callbacks.too_many_topics": MAX_TOPICS,
}
# Who sees every municipality's callbacks (read only for supervisors).
SEE_ALL = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@dataclass
class CallbackIn:
    """What the agent fills in (the form is pre-filled from the call)."""

    caller_phone: str = ""
    question: str = ""
    preferred_time: str = ""
    caller_name: str = ""
    topics: list[str] = field(default_factory=list)


def form_errors(form: CallbackIn) -> dict[str, str]:
    """Locale keys of what is missing or wrong, by field (empty when the form is fine)."""
    errors = {}
    if not form.caller_phone.strip():
        errors["caller_phone"] = "callbacks.phone_required"
    elif len(form.caller_phone.strip()) > 32:
        errors["caller_phone"] = "callbacks.phone_invalid"
    if not form.question.strip():
        errors["question"] = "callbacks.question_required"
    elif len(form.question) > MAX_QUESTION:
        errors["question"] = "callbacks.question_too_long"
    if not form.preferred_time.strip():
        errors["preferred_time"] = "callbacks.time_required"
    elif len(form.preferred_time) > MAX_TIME:
        errors["preferred_time"] = "callbacks.time_too_long"
    if len(form.caller_name) > MAX_NAME:
        errors["caller_name"] = "callbacks.name_too_long"
    if len(form.topics) > MAX_TOPICS:
        errors["topics"] = "callbacks.too_many_topics"
    # No CPR number in free text: it would be stored and e-mailed.
    for name in ("question", "caller_name", "preferred_time"):
        if name not in errors and contains_cpr(getattr(form, name)):
            errors[name] = "cpr.in_callback"
    return errors


def book_callback(
    *, session: Session, call_id: int, user: User, form: CallbackIn, mail_domain: str
) -> Callback:
    """Book a callback on the agent's own open call, for the call's municipality; audited.

    Queues an e-mail to the municipality's admins (mail_status none when none has an address).
    """
    call = get_own_open_call(session=session, call_id=call_id, user=user)
    if call.municipality_code is None:
        raise InvalidInput("callbacks.need_municipality")
    errors = form_errors(form)
    if errors:
        key = next(iter(errors.values()))
        raise InvalidInput(key, max=LIMITS.get(key, 0))
    callback = Callback(
        call_id=call.id,
        municipality_code=call.municipality_code,
        booked_by_id=user.id,
        caller_name=form.caller_name.strip(),
        caller_phone=normalise_number(form.caller_phone) or form.caller_phone.strip(),
        question=form.question.strip(),
        rules_consulted=_consulted(session, call, form.topics),
        preferred_time=form.preferred_time.strip(),
        status=CallbackStatus.OPEN,
    )
    if admin_emails(session=session, municipality_code=call.municipality_code):
        callback.mail_status = MailStatus.QUEUED
        callback.mail_next_attempt_at = utcnow()
        # Fixed before the first attempt, so every retry carries the same Message-ID.
        callback.message_id = make_msgid(idstring="callback", domain=mail_domain)
    else:
        callback.mail_status = MailStatus.NONE
    session.add(callback)
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="callback.create",
        entity_type="callback",
        entity_id=str(callback.id),
        municipality_code=callback.municipality_code,
        after=callback_snapshot(callback, call),
    )
    return callback


def admin_emails(*, session: Session, municipality_code: str) -> list[str]:
    """The e-mail addresses of the municipality's active admins that have one."""
    rows = session.scalars(
        select(User.email)
        .join(user_municipalities, user_municipalities.c.user_id == User.id)
        .where(
            user_municipalities.c.municipality_code == municipality_code,
            User.role == Role.MUNICIPALITY_ADMIN,
            User.is_active.is_(True),
            User.email.is_not(None),
        )
        .order_by(User.id)
    )
    return list(dict.fromkeys(e.strip() for e in rows if e and e.strip()))


def list_callbacks(
    *, session: Session, user: User, municipality_code: str | None, status: str | None = None
) -> list[Callback]:
    """Callbacks the user may see: open first (oldest first), then done (newest first).

    A municipality admin sees only their municipalities (another one is 403); supervisors and
    system admins see all. municipality_code None: every municipality the user may see.
    """
    query = select(Callback)
    if municipality_code is not None:
        ensure_can_see(user, municipality_code)
        query = query.where(Callback.municipality_code == municipality_code)
    elif user.role == Role.MUNICIPALITY_ADMIN:
        query = query.where(Callback.municipality_code.in_(user.municipality_codes))
    elif user.role not in SEE_ALL:
        raise PermissionDenied("error.permission_denied")
    if status is not None:
        query = query.where(Callback.status == CallbackStatus(status))
    found = list(session.scalars(query.order_by(Callback.created_at, Callback.id)))
    open_ = [c for c in found if c.status == CallbackStatus.OPEN]
    done = sorted(
        (c for c in found if c.status == CallbackStatus.DONE),
        key=lambda c: (c.handled_at or c.created_at, c.id),
        reverse=True,
    )
    return open_ + done


def list_for_call(*, session: Session, call: Call) -> list[Callback]:
    """The callbacks booked on a call, oldest first."""
    query = select(Callback).where(Callback.call_id == call.id).order_by(Callback.id)
    return list(session.scalars(query))


def ensure_can_see(user: User, municipality_code: str) -> None:
    """Raise PermissionDenied unless the user may see this municipality's callbacks."""
    if user.role not in SEE_ALL:
        ensure_can_admin_municipality(user, municipality_code)


def mark_done(*, session: Session, user: User, callback_id: int, note: str) -> Callback:
    """Mark an open callback done, with an optional note (its admins); Conflict if already done."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise NotFound("callbacks.not_found", id=callback_id)
    ensure_can_admin_municipality(user, callback.municipality_code)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput("callbacks.note_too_long", max=MAX_NOTE)
    if contains_cpr(note):
        raise InvalidInput("cpr.in_callback")
    if callback.status == CallbackStatus.DONE:
        raise Conflict("callbacks.already_done")
    # Conditional, so of two admins marking it at once exactly one succeeds.
    result = session.execute(
        update(Callback)
        .where(Callback.id == callback.id, Callback.status == CallbackStatus.OPEN)
        .values(
            status=CallbackStatus.DONE,
            handled_at=utcnow(),
            handled_by_id=user.id,
            handled_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(callback)
    if result.rowcount != 1:
        raise Conflict("callbacks.already_done")
    record_change(
        session=session,
        actor=user,
        action="callback.done",
        entity_type="callback",
        entity_id=str(callback.id),
        municipality_code=callback.municipality_code,
        after={"status": "done", "note_length": len(note)},
    )
    return callback


def callback_snapshot(callback: Callback, call: Call | None) -> dict[str, Any]:
    """What the audit log keeps of a booking: no phone number, name or question (personal data)."""
    return {
        "call_reference": call.reference if call else None,
        "municipality_code": callback.municipality_code,
        "topics": [r["topic"] for r in callback.rules_consulted],
        "preferred_time": callback.preferred_time,
        "mail_status": str(callback.mail_status),
    }


def _consulted(session: Session, call: Call, topics: list[str]) -> list[dict[str, Any]]:
    consulted = []
    for slug in dict.fromkeys(s for s in topics if s):
        try:
            rule = resolve_rule(
                session=session, topic_slug=slug, municipality_code=call.municipality_code
            )
        except NotFound as exc:
            raise InvalidInput("callbacks.unknown_topic", topic=slug[:100]) from exc
        consulted.append(
            {"topic": slug, "title": rule.title, "rule_version_ids": rule.cited_versions}
        )
    return consulted


def handler_names(*, session: Session, callbacks: list[Callback]) -> dict[int, str]:
    """The full names of the users who marked these callbacks done, by user id."""
    ids = {c.handled_by_id for c in callbacks if c.handled_by_id}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def call_references(*, session: Session, callbacks: list[Callback]) -> dict[int, str]:
    """The references of these callbacks' calls, by call id."""
    ids = {c.call_id for c in callbacks if c.call_id}
    if not ids:
        return {}
    return dict(session.execute(select(Call.id, Call.reference).where(Call.id.in_(ids))).all())
