"""Calls: the active call, the caller's municipality, notes, wrap-up and durations."""

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.agents import mark_available
from hotline.calls.events import mark_calls_changed
from hotline.calls.models import Call, CallState, ContactReason, Outcome
from hotline.calls.reasons import list_active_reasons
from hotline.calls.reasons import seed_contact_reasons as seed_contact_reasons
from hotline.db import utcnow
from hotline.kit.cpr import contains_cpr
from hotline.kit.errors import Conflict, InvalidFields, InvalidInput, NotFound, PermissionDenied
from hotline.municipalities.models import Municipality
from hotline.reports import rollup  # noqa: F401  (finished calls go into the roll-ups)

OPEN_STATES = (CallState.ACTIVE, CallState.WRAP_UP)
MAX_NOTES_LENGTH = 10_000
MAX_AVOIDABLE_URL_LENGTH = 500
# The taxonomy lives in reasons.py; these names stay importable from here.
list_contact_reasons = list_active_reasons


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
    mark_calls_changed(session)  # the supervisors' board shows it
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
    avoidable: bool = False,
    avoidable_url: str | None = None,
) -> Call:
    """Finish the call: a contact reason and an outcome are required; the agent is available.

    Every wrong field is reported at once (InvalidFields, by form field name).
    """
    _ensure_own_open(call, user)
    errors: dict[str, InvalidInput] = {}
    reason = session.get(ContactReason, contact_reason_code) if contact_reason_code else None
    if reason is None or not reason.active:
        errors["contact_reason_code"] = InvalidInput("calls.reason_required")
    if outcome not in {o.value for o in Outcome}:
        errors["outcome"] = InvalidInput("calls.outcome_required")
    url = None
    if avoidable:
        url = _field(errors, "avoidable_url", checked_avoidable_url, avoidable_url)
    if notes is not None:
        notes = _field(errors, "notes", _checked_notes, notes)
    if errors:
        raise InvalidFields(errors)
    now = utcnow()
    call.contact_reason_code = reason.code
    call.outcome = Outcome(outcome)
    call.avoidable, call.avoidable_url = avoidable, url
    if notes is not None:
        call.notes = notes
    call.ended_at = call.ended_at or now
    call.wrapped_up_at = now
    call.state = CallState.DONE
    session.flush()
    mark_available(session=session, agent_id=user.id)
    return call


def checked_avoidable_url(raw: str | None) -> str:
    """The address of the web page or e-service that confused the caller: a whole http(s) URL."""
    url = (raw or "").strip()
    if not url:
        raise InvalidInput("live.avoidable_url_required")
    if len(url) > MAX_AVOIDABLE_URL_LENGTH:
        raise InvalidInput("live.avoidable_url_too_long", max=MAX_AVOIDABLE_URL_LENGTH)
    try:
        parts = urlsplit(url)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host or port
        valid = False
    if not valid or any(c.isspace() for c in url):
        raise InvalidInput("live.avoidable_url_invalid")
    return url


def wait_seconds(call: Call) -> int | None:
    """Seconds from offered to answered."""
    return call.wait_seconds


def talk_seconds(call: Call) -> int | None:
    """Seconds from answered to ended."""
    return call.talk_seconds


def after_call_seconds(call: Call) -> int | None:
    """Seconds of after-call work, from ended to wrapped up."""
    return call.after_call_seconds


def _ensure_own_open(call: Call, user: User) -> None:
    if call.agent_id != user.id:
        raise PermissionDenied("error.permission_denied")
    if call.state not in OPEN_STATES:
        raise Conflict("calls.not_open", reference=call.reference)


def _field(errors: dict[str, InvalidInput], name: str, check, value):
    """The checked value, or None with the field's error noted."""
    try:
        return check(value)
    except InvalidInput as exc:
        errors[name] = exc
        return None


def _checked_notes(notes: str) -> str:
    if len(notes) > MAX_NOTES_LENGTH:
        raise InvalidInput("calls.notes_too_long", max=MAX_NOTES_LENGTH)
    if contains_cpr(notes):  # free-text notes must never hold a CPR number
        raise InvalidInput("cpr.in_notes")
    return notes
