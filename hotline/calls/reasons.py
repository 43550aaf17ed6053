"""The contact-reason taxonomy supervisors keep: list, create, rename, reorder, (de)activate."""

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import Role, User
from hotline.auth.service import ensure_role
from hotline.calls.models import Call, ContactReason
from hotline.kit.errors import Conflict, InvalidInput, NotFound

EDITING_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CODE_LENGTH = 50
MAX_LABEL_LENGTH = 200
# What a Danish after-hours hotline hears. The orders are those of earlier seeds, so a database
# seeded before gets the new reasons in between and keeps "Andet" last.
CONTACT_REASONS = (
    ("mitid", "MitID", 0),
    ("digital-post", "Digital Post", 10),
    ("selvbetjening", "Selvbetjening på borger.dk", 20),
    ("nemkonto", "NemKonto", 25),
    ("pas", "Pas", 30),
    ("koerekort", "Kørekort", 40),
    ("sundhedskort", "Sundhedskort", 50),
    ("flytning", "Flytning", 60),
    ("boligstoette", "Boligstøtte", 62),
    ("hjemmehjaelp", "Hjemmehjælp og ældre", 64),
    ("boernepasning", "Børnepasning", 66),
    ("affald", "Affald og storskrald", 68),
    ("laegevalg", "Lægevalg", 70),
    ("parkering", "Parkering", 72),
    ("veje", "Veje, fortove og snerydning", 74),
    ("skat", "Skat (henvist til Skattestyrelsen)", 80),
    ("ydelser", "Ydelser og pension", 90),
    ("andet", "Andet", 100),
)


def seed_contact_reasons(*, session: Session) -> int:
    """Create the standard contact reasons that are missing; returns how many were added."""
    reasons = list_reasons(session=session)
    codes = {r.code for r in reasons}
    labels = {_fold(r.label) for r in reasons if r.active}
    added = 0
    for code, label, order in CONTACT_REASONS:
        # A supervisor's own reason with the same label stands in for the standard one.
        if code not in codes and _fold(label) not in labels:
            session.add(ContactReason(code=code, label=label, sort_order=order))
            added += 1
    session.flush()
    return added


def list_reasons(*, session: Session, include_inactive: bool = True) -> list[ContactReason]:
    """The contact reasons in their order (inactive ones too unless asked not to)."""
    query = select(ContactReason).order_by(ContactReason.sort_order, ContactReason.label)
    if not include_inactive:
        query = query.where(ContactReason.active.is_(True))
    return list(session.scalars(query))


def list_active_reasons(*, session: Session) -> list[ContactReason]:
    """The reasons offered at wrap-up, in their order."""
    return list_reasons(session=session, include_inactive=False)


def reason_usage(*, session: Session) -> dict[str, int]:
    """How many calls each reason was recorded on, by code (unused reasons are left out)."""
    rows = session.execute(
        select(Call.contact_reason_code, func.count())
        .where(Call.contact_reason_code.is_not(None))
        .group_by(Call.contact_reason_code)
    )
    return {code: count for code, count in rows}


def get_reason(*, session: Session, code: str) -> ContactReason:
    """One contact reason by its code."""
    reason = session.get(ContactReason, code) if isinstance(code, str) else None
    if reason is None:
        raise NotFound("reasons.not_found", code=str(code)[:MAX_CODE_LENGTH])
    return reason


def create_reason(*, session: Session, user: User, code: str, label: str) -> ContactReason:
    """Add an active reason at the end of the list."""
    ensure_role(user, *EDITING_ROLES)
    code = check_code(code)
    label = _checked_label(session, label)
    if session.get(ContactReason, code) is not None:
        raise Conflict("reasons.code_taken", code=code)
    last = session.scalar(select(func.max(ContactReason.sort_order))) or 0
    reason = ContactReason(code=code, label=label, active=True, sort_order=last + 10)
    try:
        with session.begin_nested():
            session.add(reason)
            session.flush()
    except IntegrityError:  # created by a colleague at the same moment
        raise Conflict("reasons.code_taken", code=code) from None
    _audit(session, user, "create", reason, before=None)
    return reason


def rename_reason(*, session: Session, user: User, code: str, label: str) -> ContactReason:
    """Give a reason a new label; calls keep the reason, so old calls show the new label."""
    ensure_role(user, *EDITING_ROLES)
    reason = get_reason(session=session, code=code)
    label = _normalised_label(label)
    if label == reason.label:
        return reason
    if reason.active:
        _checked_label(session, label, ignore=reason.code)
    before = snapshot(reason)
    reason.label = label
    session.flush()
    _audit(session, user, "rename", reason, before=before)
    return reason


def set_reason_active(*, session: Session, user: User, code: str, active: bool) -> ContactReason:
    """Deactivate (no longer offered at wrap-up) or reactivate a reason; old calls keep it."""
    ensure_role(user, *EDITING_ROLES)
    reason = get_reason(session=session, code=code)
    if reason.active == active:
        return reason
    if active:
        _checked_label(session, reason.label, ignore=reason.code)
    else:
        _ensure_another_active(session, reason)
    before = snapshot(reason)
    reason.active = active
    session.flush()
    _audit(session, user, "reactivate" if active else "deactivate", reason, before=before)
    return reason


def reorder_reasons(*, session: Session, user: User, codes: list[str]) -> list[ContactReason]:
    """Put the reasons in this order; the list must name every reason once."""
    ensure_role(user, *EDITING_ROLES)
    reasons = list_reasons(session=session)
    by_code = {r.code: r for r in reasons}
    if len(codes) != len(by_code) or set(codes) != set(by_code):
        raise InvalidInput("reasons.order_incomplete")
    before = [r.code for r in reasons]
    if codes == before:
        return reasons
    for position, code in enumerate(codes, start=1):
        by_code[code].sort_order = position * 10
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="contact_reason.reorder",
        entity_type="contact_reason",
        entity_id="*",
        before={"order": before},
        after={"order": list(codes)},
    )
    return [by_code[code] for code in codes]


def move_reason(*, session: Session, user: User, code: str, offset: int) -> list[ContactReason]:
    """Move a reason up (offset -1) or down (+1) one place; at either end nothing changes."""
    ensure_role(user, *EDITING_ROLES)
    codes = [r.code for r in list_reasons(session=session)]
    get_reason(session=session, code=code)
    here = codes.index(code)
    there = here + offset
    if 0 <= there < len(codes):
        codes[here], codes[there] = codes[there], codes[here]
    return reorder_reasons(session=session, user=user, codes=codes)


def delete_reason(*, session: Session, user: User, code: str) -> None:
    """Delete a reason no call has used (a typo, say); a reason in use can only be deactivated."""
    ensure_role(user, *EDITING_ROLES)
    reason = get_reason(session=session, code=code)
    used = session.scalar(select(func.count()).where(Call.contact_reason_code == reason.code))
    if used:
        raise Conflict("reasons.in_use", count=used)
    if reason.active:
        _ensure_another_active(session, reason)
    before = snapshot(reason)
    try:
        with session.begin_nested():
            session.delete(reason)
            session.flush()
    except IntegrityError:  # a call was wrapped up with it just now
        raise Conflict("reasons.in_use", count=1) from None
    record_change(
        session=session,
        actor=user,
        action="contact_reason.delete",
        entity_type="contact_reason",
        entity_id=before["code"],
        before=before,
    )


def check_code(code: Any) -> str:
    """A valid reason code (a slug: a-z, 0-9 and single hyphens), or InvalidInput."""
    code = code.strip() if isinstance(code, str) else ""
    if not code or len(code) > MAX_CODE_LENGTH or not CODE_PATTERN.match(code):
        raise InvalidInput("reasons.code_invalid", max=MAX_CODE_LENGTH)
    return code


def snapshot(reason: ContactReason) -> dict[str, Any]:
    """A reason as the API and the audit log show it."""
    return {
        "code": reason.code,
        "label": reason.label,
        "active": reason.active,
        "sort_order": reason.sort_order,
    }


def _normalised_label(label: Any) -> str:
    label = " ".join(label.split()) if isinstance(label, str) else ""
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput("reasons.label_invalid", max=MAX_LABEL_LENGTH)
    return label


def _checked_label(session: Session, label: Any, ignore: str | None = None) -> str:
    """The label, normalised, if no other active reason has it (case aside)."""
    label = _normalised_label(label)
    for other in list_active_reasons(session=session):
        if other.code != ignore and _fold(other.label) == _fold(label):
            raise Conflict("reasons.label_taken", label=label)
    return label


def _ensure_another_active(session: Session, reason: ContactReason) -> None:
    # Wrap-up needs a reason: the last active one stays.
    others = session.scalar(
        select(func.count())
        .select_from(ContactReason)
        .where(ContactReason.active.is_(True), ContactReason.code != reason.code)
    )
    if not others:
        raise Conflict("reasons.last_active")


def _fold(label: str) -> str:
    return " ".join(label.split()).casefold()


def _audit(session: Session, user: User, verb: str, reason: ContactReason, before) -> None:
    record_change(
        session=session,
        actor=user,
        action=f"contact_reason.{verb}",
        entity_type="contact_reason",
        entity_id=reason.code,
        before=before,
        after=snapshot(reason),
    )
