"""Agents flag a resolved rule as unclear or wrong; the municipality's admins close the flags."""

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import Role, User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.municipalities.service import get_municipality
from hotline.rules.models import FlagKind, RuleFlag
from hotline.rules.resolve import resolve_rule
from hotline.rules.service import check_topic_slug

MAX_TEXT_LENGTH = 2000
# Hotline staff flag what they read; municipality admins edit their own rules instead.
FLAGGING_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def may_flag(user: User) -> bool:
    """Whether the user may flag rules (hotline staff, not municipality admins)."""
    return user.role in FLAGGING_ROLES


def flag_rule(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    kind: str,
    comment: str,
) -> RuleFlag:
    """Flag a topic, as resolved today for a participating municipality, as unclear or wrong."""
    if not may_flag(user):
        raise PermissionDenied("error.permission_denied")
    try:
        flag_kind = FlagKind(kind)
    except ValueError:
        raise InvalidInput("rule_flags.invalid_kind") from None
    text = _checked_text(comment, "rule_flags.comment_required", "rule_flags.comment_too_long")
    check_topic_slug(topic_slug)
    municipality = get_municipality(session=session, code=municipality_code)
    if not municipality.participating:
        raise InvalidInput("rule_flags.not_participating", municipality=municipality.name)
    resolved = resolve_rule(
        session=session, topic_slug=topic_slug, municipality_code=municipality_code
    )
    # The version the agent read: the local layer when one applies, else the national rule.
    read = resolved.local or resolved.national
    flag = RuleFlag(
        topic_slug=topic_slug,
        municipality_code=municipality_code,
        rule_version_id=read.rule_version_id if read else None,
        kind=flag_kind,
        comment=text,
        created_by_id=user.id,
        created_by_name=user.full_name,
    )
    session.add(flag)
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="rule_flag.create",
        entity_type="rule_flag",
        entity_id=str(flag.id),
        municipality_code=municipality_code,
        after=flag_snapshot(flag),
    )
    return flag


def list_flags(
    *,
    session: Session,
    user: User,
    municipality_code: str | None,
    open_only: bool = True,
    topic_slug: str | None = None,
) -> list[RuleFlag]:
    """Open (or closed) flags of a municipality the user administers, newest first.

    municipality_code None: every municipality the user administers (a system admin: all).
    """
    query = select(RuleFlag)
    if municipality_code is not None:
        ensure_can_admin_municipality(user, municipality_code)
        query = query.where(RuleFlag.municipality_code == municipality_code)
    elif user.role == Role.MUNICIPALITY_ADMIN:
        query = query.where(RuleFlag.municipality_code.in_(user.municipality_codes))
    elif user.role != Role.SYSTEM_ADMIN:
        raise PermissionDenied("error.permission_denied")
    if topic_slug is not None:
        query = query.where(RuleFlag.topic_slug == topic_slug)
    if open_only:
        query = query.where(RuleFlag.closed_at.is_(None)).order_by(RuleFlag.created_at.desc())
    else:
        query = query.where(RuleFlag.closed_at.is_not(None)).order_by(RuleFlag.closed_at.desc())
    return list(session.scalars(query.order_by(RuleFlag.id.desc())))


def open_flag_counts(*, session: Session, user: User, municipality_code: str) -> dict[str, int]:
    """The number of open flags per topic of a municipality the user administers."""
    ensure_can_admin_municipality(user, municipality_code)
    rows = session.execute(
        select(RuleFlag.topic_slug, func.count(RuleFlag.id))
        .where(RuleFlag.municipality_code == municipality_code, RuleFlag.closed_at.is_(None))
        .group_by(RuleFlag.topic_slug)
    )
    return {slug: count for slug, count in rows}


def own_flags(
    *, session: Session, user: User, municipality_code: str, topic_slug: str, limit: int = 5
) -> list[RuleFlag]:
    """The user's own latest flags of a topic in a municipality (what an agent sees back)."""
    return list(
        session.scalars(
            select(RuleFlag)
            .where(
                RuleFlag.created_by_id == user.id,
                RuleFlag.municipality_code == municipality_code,
                RuleFlag.topic_slug == topic_slug,
            )
            .order_by(RuleFlag.created_at.desc(), RuleFlag.id.desc())
            .limit(limit)
        )
    )


def get_flag(*, session: Session, user: User, flag_id: int) -> RuleFlag:
    """A flag, for an admin of its municipality; NotFound or PermissionDenied otherwise."""
    flag = session.get(RuleFlag, flag_id)
    if flag is None:
        raise NotFound("rule_flags.not_found", id=flag_id)
    ensure_can_admin_municipality(user, flag.municipality_code)
    return flag


def close_flag(*, session: Session, user: User, flag_id: int, resolution: str) -> RuleFlag:
    """Close an open flag with what was done about it; Conflict if it is already closed."""
    flag = get_flag(session=session, user=user, flag_id=flag_id)
    if flag.closed_at is not None:
        raise Conflict("rule_flags.already_closed", name=flag.closed_by_name or "")
    text = _checked_text(
        resolution, "rule_flags.resolution_required", "rule_flags.resolution_too_long"
    )
    before = flag_snapshot(flag)
    # Conditional, so of two admins closing the same flag at once exactly one succeeds.
    result = session.execute(
        update(RuleFlag)
        .where(RuleFlag.id == flag.id, RuleFlag.closed_at.is_(None))
        .values(
            closed_at=utcnow(), closed_by_id=user.id, closed_by_name=user.full_name, resolution=text
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(flag)
    if result.rowcount != 1:
        raise Conflict("rule_flags.already_closed", name=flag.closed_by_name or "")
    record_change(
        session=session,
        actor=user,
        action="rule_flag.close",
        entity_type="rule_flag",
        entity_id=str(flag.id),
        municipality_code=flag.municipality_code,
        before=before,
        after=flag_snapshot(flag),
    )
    return flag


def flag_snapshot(flag: RuleFlag) -> dict[str, Any]:
    """A JSON-safe dict of a flag (for the audit log)."""
    return {
        "topic_slug": flag.topic_slug,
        "municipality_code": flag.municipality_code,
        "rule_version_id": flag.rule_version_id,
        "kind": str(flag.kind),
        "comment": flag.comment,
        "created_by": flag.created_by_name,
        "closed_at": flag.closed_at.isoformat() if flag.closed_at else None,
        "closed_by": flag.closed_by_name,
        "resolution": flag.resolution,
    }


def _checked_text(value: str, required_key: str, too_long_key: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(required_key)
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(too_long_key, max=MAX_TEXT_LENGTH, length=len(text))
    return text
