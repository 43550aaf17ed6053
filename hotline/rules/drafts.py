"""Drafts of local rules: one shared, unpublished edit per rule, previewed, then published."""

from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.db import utcnow
from hotline.kit.dates import danish_datetime
from hotline.kit.errors import Conflict, NotFound
from hotline.municipalities.models import Municipality
from hotline.rules.models import Rule, RuleDraft, RuleVersion
from hotline.rules.resolve import (
    DEFAULT_VERIFY_AFTER_DAYS,
    layers_in_force,
    resolved_rule,
    today_in_denmark,
)
from hotline.rules.schemas import LocalRuleIn, ResolvedRule
from hotline.rules.service import (
    check_mode,
    check_topic_slug,
    get_rule,
    new_local_version,
    save_local_rule,
)


def get_draft(
    *, session: Session, user: User, municipality_code: str, topic_slug: str
) -> RuleDraft | None:
    """The local rule's draft, for an admin of the municipality; None if there is none."""
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    return _find(session, municipality_code, topic_slug)


def draft_topics(*, session: Session, user: User, municipality_code: str) -> set[str]:
    """The topics of the municipality that have a draft."""
    ensure_can_admin_municipality(user, municipality_code)
    query = select(RuleDraft.topic_slug).where(RuleDraft.municipality_code == municipality_code)
    return set(session.scalars(query))


def save_draft(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    data: LocalRuleIn,
    expected_revision: int,
    base_version: int | None = None,
) -> RuleDraft:
    """Create (expected_revision 0) or update the rule's draft; Conflict if someone saved first.

    base_version: the local version the admin's text is based on (publishing conflicts unless it
    is still the newest). A new draft may start from any existing version; a save over a draft
    keeps its base or moves it to the newest. None: the draft's base, or for a new one the newest.
    """
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    if session.get(Municipality, municipality_code) is None:
        raise NotFound("municipalities.not_found", code=municipality_code)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    check_mode(data.mode, has_national=national is not None)
    local = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    current = local.current_version if local else 0
    draft = _find(session, municipality_code, topic_slug)
    content = data.model_dump(mode="json")
    if draft is None:
        if expected_revision != 0:
            raise Conflict("rules.drafts.gone")
        _check_base(base_version, current, allowed=set(range(current + 1)))
        base = current if base_version is None else base_version
        before, draft = None, _create(session, user, municipality_code, topic_slug, base, content)
    else:
        if expected_revision != draft.revision:
            raise draft_conflict(draft)
        _check_base(base_version, current, allowed={current, draft.base_version})
        if content == draft.content and base_version in (None, draft.base_version):
            return draft  # nothing changed: no new revision, nothing to audit
        before = draft_snapshot(draft)
        _update(session, user, draft, expected_revision, content, base_version)
    _audit(session, user, "rule.draft.save", draft, before, draft_snapshot(draft))
    return draft


def discard_draft(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    expected_revision: int | None = None,
) -> None:
    """Delete the rule's draft; NotFound if none, Conflict if it changed since expected_revision."""
    draft = _existing(session, user, municipality_code, topic_slug, expected_revision)
    _audit(session, user, "rule.draft.discard", draft, draft_snapshot(draft), None)
    session.delete(draft)
    session.flush()


def publish_draft(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    expected_revision: int | None = None,
) -> RuleVersion:
    """Save the draft as the rule's new version and delete it; Conflict (the draft kept) if a
    version was published after the draft was started, or the draft changed since
    expected_revision."""
    draft = _existing(session, user, municipality_code, topic_slug, expected_revision)
    data = LocalRuleIn.model_validate(draft.content)
    try:
        # A savepoint: a conflict undoes only the publishing, never the caller's other writes.
        with session.begin_nested():
            version = save_local_rule(
                session=session,
                user=user,
                municipality_code=municipality_code,
                topic_slug=topic_slug,
                expected_version=draft.base_version,
                data=data,
            )
    except Conflict as exc:
        meanwhile = _published_meanwhile(session, draft)
        if meanwhile is None:
            raise
        raise meanwhile from exc
    session.delete(draft)
    session.flush()
    return version


def preview_draft(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    data: LocalRuleIn | None = None,
    on: date | None = None,
    verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS,
) -> ResolvedRule:
    """The rule exactly as agents would see it on `on` had the draft (or `data`, unsaved) been
    published; `on` defaults to today, or the draft's valid_from when that is later."""
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    if data is None:
        draft = _find(session, municipality_code, topic_slug)
        if draft is None:
            raise NotFound("rules.drafts.not_found", topic=topic_slug)
        data = LocalRuleIn.model_validate(draft.content)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    check_mode(data.mode, has_national=national is not None)
    local = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    pending = _unsaved_version(user, data, national, local, municipality_code, topic_slug)
    on = on or max(today_in_denmark(), pending.valid_from)
    # The resolver reads only `.versions` of the local rule: give it the draft as the newest one.
    with_draft = SimpleNamespace(versions=[*(local.versions if local else ()), pending])
    layers = layers_in_force(topic_slug, national, with_draft, on)
    if layers is None:
        raise NotFound("rules.not_found", topic=topic_slug)
    return resolved_rule(
        replace(layers, local_rule=local), municipality_code, on, verify_after_days
    )


def draft_snapshot(draft: RuleDraft) -> dict[str, Any]:
    """A JSON-safe dict of a draft (for the audit log and the API)."""
    return {
        "revision": draft.revision,
        "base_version": draft.base_version,
        "content": draft.content,
        "updated_by": draft.updated_by_name,
        "updated_at": draft.updated_at.isoformat(),
    }


def draft_conflict(draft: RuleDraft) -> Conflict:
    """The conflict of a save over a draft someone else saved meanwhile, naming them."""
    return Conflict(
        "rules.drafts.conflict",
        name=draft.updated_by_name,
        when=danish_datetime(draft.updated_at),
        revision=draft.revision,
    )


def _audit(session: Session, user: User, action: str, draft: RuleDraft, before, after) -> None:
    code, slug = draft.municipality_code, draft.topic_slug
    record_change(
        session=session,
        actor=user,
        action=action,
        entity_type="rule_draft",
        entity_id=f"{code}/{slug}",
        municipality_code=code,
        before=before,
        after=after,
    )


def _find(session: Session, municipality_code: str, topic_slug: str) -> RuleDraft | None:
    return session.scalar(
        select(RuleDraft).where(
            RuleDraft.topic_slug == topic_slug, RuleDraft.municipality_code == municipality_code
        )
    )


def _existing(
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    expected_revision: int | None,
) -> RuleDraft:
    draft = get_draft(
        session=session, user=user, municipality_code=municipality_code, topic_slug=topic_slug
    )
    if draft is None:
        raise NotFound("rules.drafts.not_found", topic=topic_slug)
    if expected_revision is not None and expected_revision != draft.revision:
        raise draft_conflict(draft)
    return draft


def _check_base(base_version: int | None, current: int, *, allowed: set[int]) -> None:
    # Text based on an older version than the newest must not silently become the new base.
    if base_version is not None and base_version not in allowed:
        raise Conflict("rules.conflict", version=current)


def _create(
    session: Session, user: User, code: str, topic_slug: str, base: int, content: dict
) -> RuleDraft:
    now = utcnow()
    draft = RuleDraft(
        topic_slug=topic_slug,
        municipality_code=code,
        base_version=base,
        revision=1,
        content=content,
        updated_by_id=user.id,
        updated_by_name=user.full_name,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
    except IntegrityError as exc:
        # Another admin started the draft of the same rule at the same moment.
        other = _find(session, code, topic_slug)
        raise (draft_conflict(other) if other else Conflict("rules.drafts.gone")) from exc
    return draft


def _update(
    session: Session,
    user: User,
    draft: RuleDraft,
    expected_revision: int,
    content: dict,
    base_version: int | None,
) -> None:
    # The conditional UPDATE makes the revision check atomic across concurrent transactions.
    result = session.execute(
        update(RuleDraft)
        .where(RuleDraft.id == draft.id, RuleDraft.revision == expected_revision)
        .values(
            revision=expected_revision + 1,
            content=content,
            base_version=draft.base_version if base_version is None else base_version,
            updated_by_id=user.id,
            updated_by_name=user.full_name,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(draft)
    if result.rowcount != 1:
        raise draft_conflict(draft)


def _published_meanwhile(session: Session, draft: RuleDraft) -> Conflict | None:
    newest = session.scalar(
        select(RuleVersion)
        .join(Rule)
        .where(
            Rule.topic_slug == draft.topic_slug,
            Rule.municipality_code == draft.municipality_code,
        )
        .order_by(RuleVersion.version.desc())
        .limit(1)
    )
    if newest is None:
        return None
    return Conflict(
        "rules.drafts.published_meanwhile",
        version=newest.version,
        name=newest.author_name,
        when=danish_datetime(newest.created_at),
    )


def _unsaved_version(
    user: User,
    data: LocalRuleIn,
    national: Rule | None,
    local: Rule | None,
    code: str,
    topic_slug: str,
) -> RuleVersion:
    """The version publishing would add, in memory only (never added to the session)."""
    number = (local.current_version if local else 0) + 1
    version = new_local_version(user=user, data=data, number=number, national=national)
    version.id, version.created_at = 0, utcnow()
    owner = local or Rule(topic_slug=topic_slug, municipality_code=code, current_version=0)
    # Without the backref event: appending to owner.versions would put the version in the session.
    set_committed_value(version, "rule", owner)
    return version
