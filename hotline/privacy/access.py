"""Right of access: everything stored about one caller number, for a data protection request.

A caller is known only by their number: the calls from it (or, outgoing, to it), the callbacks
booked for it or on those calls, the replies written on those calls and the calls' CTI events.
What retention has already removed is not there any more, and the export says so by its absence.
Free text is exported with CPR numbers masked, as in every export; PDFs are left out (the
reply's text is in the export, and the PDF can be fetched from the archive by its id).
"""

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, defer

from hotline.audit.service import record_change
from hotline.auth.models import Role, User
from hotline.calls.cti_input import normalise_number
from hotline.calls.models import Call, Callback, CtiEvent
from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.models import SurveyInvite
from hotline.kit.cpr import mask_cpr
from hotline.kit.errors import InvalidInput
from hotline.letters.models import Reply

ACCESS_ROLES = (Role.SYSTEM_ADMIN,)
AUDIT_ACTION = "privacy.access_export"
MAX_NUMBER_LENGTH = 40
_E164 = re.compile(r"^\+[1-9]\d{5,14}$")
# A digit with at least two more digits after it: all but the last two.
_MASKED_DIGIT = re.compile(r"\d(?=(?:\D*\d){2})")


def caller_number(raw: str) -> str:
    """The number as the calls store it (E.164, Danish without +45 too); InvalidInput if none."""
    number = normalise_number((raw or "")[:MAX_NUMBER_LENGTH])
    if number is None or not _E164.match(number):
        raise InvalidInput("privacy.number_invalid")
    return number


def masked_number(number: str) -> str:
    """The number with every digit but the last two replaced by *, for the audit log."""
    return _MASKED_DIGIT.sub("*", number)


def access_export(
    *, session: Session, user: User, number: str, settings: Settings
) -> dict[str, Any]:
    """Everything stored about the number, as JSON-ready data; audited (the caller commits)."""
    number = caller_number(number)
    calls = list(
        session.scalars(
            select(Call)
            .where(
                or_(
                    Call.from_number == number,
                    and_(Call.direction == "out", Call.to_number == number),
                )
            )
            .order_by(Call.offered_at, Call.id)
        )
    )
    call_ids = [call.id for call in calls]
    callbacks = list(
        session.scalars(
            select(Callback)
            .where(or_(Callback.caller_phone == number, Callback.call_id.in_(call_ids)))
            .order_by(Callback.created_at, Callback.id)
        )
    )
    replies = list(
        session.scalars(
            select(Reply)
            .where(Reply.call_id.in_(call_ids))
            .options(defer(Reply.pdf))
            .order_by(Reply.created_at, Reply.id)
        )
    )
    cti_ids = [call.cti_call_id for call in calls if call.cti_call_id]
    events = list(
        session.scalars(
            select(CtiEvent)
            .where(CtiEvent.cti_call_id.in_(cti_ids))
            .order_by(CtiEvent.received_at, CtiEvent.id)
        )
    )
    answers = list(
        session.scalars(
            select(SurveyInvite)
            .where(SurveyInvite.call_id.in_(call_ids))
            .order_by(SurveyInvite.created_at, SurveyInvite.id)
        )
    )
    references = _references(session, calls, callbacks)
    export = {
        "number": number,
        "generated_at": utcnow().isoformat(),
        "generated_by": user.username,
        "retention_days": {
            "calls": settings.call_retention_days,
            "replies": settings.archive_retention_days,
        },
        "calls": [_call(call) for call in calls],
        "callbacks": [_callback(callback, references) for callback in callbacks],
        "replies": [_reply(reply) for reply in replies],
        "cti_events": [_event(event) for event in events],
        "survey_answers": [_survey_answer(answer, references) for answer in answers],
    }
    kinds = ("calls", "callbacks", "replies", "cti_events", "survey_answers")
    counts = {name: len(export[name]) for name in kinds}
    record_change(
        session=session,
        actor=user,
        action=AUDIT_ACTION,
        entity_type="caller_number",
        entity_id=masked_number(number),
        after=counts,
    )
    return export


def _survey_answer(invite: SurveyInvite, references: dict[int, str]) -> dict[str, Any]:
    return {
        "call_reference": references.get(invite.call_id),
        "code": invite.code,
        "created_at": _iso(invite.created_at),
        "expires_at": _iso(invite.expires_at),
        "answered_at": _iso(invite.answered_at),
        "score": invite.score,
        "comment": invite.comment,
        "class": invite.confirmed_class or invite.suggested_class,
    }


def _references(session: Session, calls: list[Call], callbacks: list[Callback]) -> dict[int, str]:
    known = {call.id: call.reference for call in calls}
    missing = {c.call_id for c in callbacks if c.call_id and c.call_id not in known}
    if missing:
        query = select(Call.id, Call.reference).where(Call.id.in_(missing))
        known |= dict(session.execute(query).all())
    return known


def _call(call: Call) -> dict[str, Any]:
    return {
        "reference": call.reference,
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "line_municipality": _municipality(call.line_municipality),
        "municipality": _municipality(call.municipality),
        "state": call.state,
        "offered_at": _iso(call.offered_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "wrapped_up_at": _iso(call.wrapped_up_at),
        "contact_reason": call.contact_reason.label if call.contact_reason else None,
        "outcome": call.outcome,
        "avoidable": call.avoidable,
        "avoidable_url": _text(call.avoidable_url),
        "notes": _text(call.notes),
    }


def _callback(callback: Callback, references: dict[int, str]) -> dict[str, Any]:
    return {
        "id": callback.id,
        "call_reference": references.get(callback.call_id) if callback.call_id else None,
        "municipality": _municipality(callback.municipality),
        "caller_name": _text(callback.caller_name),
        "caller_phone": callback.caller_phone,
        "question": _text(callback.question),
        "preferred_time": _text(callback.preferred_time),
        "rules_consulted": [r.get("title") for r in callback.rules_consulted or []],
        "status": callback.status,
        "created_at": _iso(callback.created_at),
        "handled_at": _iso(callback.handled_at),
        "handled_note": _text(callback.handled_note),
    }


def _reply(reply: Reply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "reference": reply.reference,
        "municipality_code": reply.municipality_code,
        "channel": reply.channel,
        "status": reply.status,
        "created_at": _iso(reply.created_at),
        "sent_at": _iso(reply.sent_at),
        "purged_at": _iso(reply.purged_at),
        "author_name": reply.author_name,
        "recipient_name": _text(reply.recipient_name),
        "recipient_address": _text(reply.recipient_address),
        "recipient_email": _text(reply.recipient_email),
        "subject": _text(reply.subject),
        "body_md": _text(reply.body_md),
        "cited_rules": [r.get("title") for r in reply.cited_rules or []],
        "pdf_sha256": reply.pdf_sha256,
    }


def _event(event: CtiEvent) -> dict[str, Any]:
    payload = {k: _text(v) if isinstance(v, str) else v for k, v in (event.payload or {}).items()}
    return {
        "cti_call_id": event.cti_call_id,
        "event": event.event,
        "received_at": _iso(event.received_at),
        "payload": payload,
    }


def _municipality(municipality) -> dict[str, str] | None:
    return {"code": municipality.code, "name": municipality.name} if municipality else None


def _text(value: str | None) -> str | None:
    return mask_cpr(value) if value else value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
