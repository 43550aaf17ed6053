"""Calls: the active call, the caller's municipality, notes, wrap-up and durations."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.models import Call, CallState, ContactReason, Outcome
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.municipalities.models import Municipality

OPEN_STATES = (CallState.ACTIVE, CallState.WRAP_UP)
MAX_NOTES_LENGTH = 10_000
CONTACT_REASONS = (
    ("mitid", "MitID"),
    ("digital-post", "Digital Post"),
    ("selvbetjening", "Selvbetjening på borger.dk"),
    ("pas", "Pas"),
    ("koerekort", "Kørekort"),
    ("sundhedskort", "Sundhedskort"),
    ("flytning", "Flytning"),
    ("laegevalg", "Lægevalg"),
    ("skat", "Skat"),
    ("ydelser", "Ydelser og pension"),
    ("andet", "Andet"),
)


def get_call(*, session: Session, call_id: int, user: User) -> Call:
    """A call the user may work on: the agent who has it, or a supervisor."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound("calls.not_found")
    if call.agent_id != user.id and user.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise PermissionDenied("error.permission_denied")
    return call


def get_own_open_call(*, session: Session, call_id: int, user: User) -> Call:
    """The user's own call that is still open (active or in wrap-up)."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound("calls.not_found")
    if call.agent_id != user.id:
        raise PermissionDenied("error.permission_denied")
    if call.state not in OPEN_STATES:
        raise Conflict("calls.not_open", reference=call.reference)
    return call


def get_active_call(*, session: Session, agent: User) -> Call | None:
    """The call the agent is working on (active or in wrap-up), if any."""
    return session.scalar(
        select(Call)
        .where(Call.agent_id == agent.id, Call.state.in_(OPEN_STATES))
        .order_by(Call.answered_at.desc())
        .limit(1)
    )


def set_call_municipality(*, session: Session, call: Call, code: str, user: User) -> Call:
    """Set the caller's municipality (the one the bill and the letterhead follow)."""
    _ensure_own_open(call, user)
    municipality = session.get(Municipality, (code or "").strip().zfill(4)[:4])
    if municipality is None:
        raise InvalidInput("calls.unknown_municipality", code=code[:10])
    call.municipality_code = municipality.code
    call.municipality = municipality
    session.flush()
    return call


def save_call_notes(*, session: Session, call: Call, notes: str, user: User) -> Call:
    """Save the agent's notes on their own open call."""
    _ensure_own_open(call, user)
    call.notes = _checked_notes(notes)
    session.flush()
    return call


def wrap_up_call(
    *,
    session: Session,
    call: Call,
    user: User,
    contact_reason_code: str | None,
    outcome: str | None,
    notes: str | None = None,
) -> Call:
    """Finish the call: contact reason and outcome are required; the call is then done."""
    _ensure_own_open(call, user)
    reason = session.get(ContactReason, contact_reason_code) if contact_reason_code else None
    if reason is None or not reason.active:
        raise InvalidInput("calls.reason_required")
    if outcome not in {o.value for o in Outcome}:
        raise InvalidInput("calls.outcome_required")
    now = utcnow()
    call.contact_reason_code = reason.code
    call.outcome = Outcome(outcome)
    if notes is not None:
        call.notes = _checked_notes(notes)
    call.ended_at = call.ended_at or now
    call.wrapped_up_at = now
    call.state = CallState.DONE
    session.flush()
    return call


def list_contact_reasons(*, session: Session) -> list[ContactReason]:
    """The active contact reasons, in their order."""
    return list(
        session.scalars(
            select(ContactReason)
            .where(ContactReason.active.is_(True))
            .order_by(ContactReason.sort_order, ContactReason.label)
        )
    )


def seed_contact_reasons(*, session: Session) -> int:
    """Create the standard contact reasons that are missing; returns how many were added."""
    existing = set(session.scalars(select(ContactReason.code)))
    added = 0
    for order, (code, label) in enumerate(CONTACT_REASONS):
        if code not in existing:
            session.add(ContactReason(code=code, label=label, sort_order=order * 10))
            added += 1
    session.flush()
    return added


def wait_seconds(call: Call) -> int | None:
    """Seconds from offered to answered."""
    return _seconds(call.offered_at, call.answered_at)


def talk_seconds(call: Call) -> int | None:
    """Seconds from answered to ended."""
    return _seconds(call.answered_at, call.ended_at)


def after_call_seconds(call: Call) -> int | None:
    """Seconds of after-call work, from ended to wrapped up."""
    return _seconds(call.ended_at, call.wrapped_up_at)


def _seconds(start, end) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _ensure_own_open(call: Call, user: User) -> None:
    if call.agent_id != user.id:
        raise PermissionDenied("error.permission_denied")
    if call.state not in OPEN_STATES:
        raise Conflict("calls.not_open", reference=call.reference)


def _checked_notes(notes: str) -> str:
    if len(notes) > MAX_NOTES_LENGTH:
        raise InvalidInput("calls.notes_too_long", max=MAX_NOTES_LENGTH)
    return notes
