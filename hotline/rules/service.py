"""Editing local rules: new immutable versions, guarded against lost updates, audited."""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.municipalities.models import Municipality
from hotline.rules.files import SLUG_MAX_LENGTH, SLUG_PATTERN
from hotline.rules.models import VERSION_CONTENT_FIELDS, Rule, RuleMode, RuleVersion
from hotline.rules.resolve import Layers, today_in_denmark, version_in_force
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.search import index_rule


def get_rule(*, session: Session, topic_slug: str, municipality_code: str | None) -> Rule | None:
    """The national (code None) or local rule of a topic, or None."""
    code_filter = (
        Rule.municipality_code.is_(None)
        if municipality_code is None
        else Rule.municipality_code == municipality_code
    )
    return session.scalar(select(Rule).where(Rule.topic_slug == topic_slug, code_filter))


def latest_version(rule: Rule | None) -> RuleVersion | None:
    """The newest version of a rule (in force or not), or None."""
    return rule.versions[-1] if rule and rule.versions else None


def save_local_rule(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    expected_version: int,
    data: LocalRuleIn,
) -> RuleVersion:
    """Save a new version of a municipality's local rule; Conflict if someone saved first."""
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    if session.get(Municipality, municipality_code) is None:
        raise NotFound("municipalities.not_found", code=municipality_code)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    check_mode(data.mode, has_national=national is not None)
    rule = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    before = version_snapshot(latest_version(rule))
    if rule is None:
        rule = _create_rule(session, topic_slug, municipality_code, expected_version)
    _claim_next_version(session, rule, expected_version)
    version = new_local_version(
        user=user, data=data, number=expected_version + 1, national=national
    )
    rule.versions.append(version)
    session.flush()
    record_change(
        session=session,
        actor=user,
        action="rule.save",
        entity_type="rule",
        entity_id=f"{municipality_code}/{topic_slug}",
        municipality_code=municipality_code,
        before=before,
        after=version_snapshot(version),
    )
    index_rule(session=session, rule=rule)
    return version


def new_local_version(
    *, user: User, data: LocalRuleIn, number: int, national: Rule | None
) -> RuleVersion:
    """The unsaved version a save of the admin's input adds (a draft's preview builds it too)."""
    return RuleVersion(
        version=number,
        mode=RuleMode(data.mode),
        title=data.title.strip(),
        category=data.category.strip(),
        tags=[tag.strip() for tag in data.tags if tag.strip()],
        body_md=data.body_md.strip(),
        agent_notes_md=data.agent_notes_md.strip(),
        fields=data.fields.model_dump(mode="json", exclude_none=True),
        sources=[s.model_dump(mode="json") for s in data.sources],
        valid_from=data.valid_from or today_in_denmark(),
        valid_to=data.valid_to,
        based_on_national_version=national.current_version if national else None,
        author_name=user.full_name,
        author_id=user.id,
    )


def check_topic_slug(topic_slug: str) -> None:
    """InvalidInput unless the slug is one a kb_rules file name could have."""
    if len(topic_slug) > SLUG_MAX_LENGTH or not re.fullmatch(SLUG_PATTERN, topic_slug):
        raise InvalidInput("rules.invalid_slug", max_length=SLUG_MAX_LENGTH)


def get_rule_history(
    *, session: Session, topic_slug: str, municipality_code: str | None
) -> list[RuleVersion]:
    """Every version of a rule, newest first (empty if there is no such rule)."""
    rule = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    return list(reversed(rule.versions)) if rule else []


def version_snapshot(version: RuleVersion | None) -> dict[str, Any] | None:
    """A JSON-safe dict of a version (for the audit log)."""
    if version is None:
        return None
    names = ("version", *VERSION_CONTENT_FIELDS, "based_on_national_version")
    snapshot = {name: getattr(version, name) for name in names}
    snapshot["mode"] = str(snapshot["mode"])
    for name in ("valid_from", "valid_to"):
        snapshot[name] = snapshot[name].isoformat() if snapshot[name] else None
    return snapshot


@dataclass(frozen=True)
class AdminRuleRow:
    """One row of the admin overview: a topic and the municipality's local rule, if any."""

    topic_slug: str
    title: str
    category: str
    local_version: int  # 0 when there is no local rule
    mode: str | None
    stale: bool
    national_version: int


def admin_overview(*, session: Session, user: User, municipality_code: str) -> list[AdminRuleRow]:
    """The municipality's local rules (stale first), then national topics without one."""
    ensure_can_admin_municipality(user, municipality_code)
    rules = session.scalars(
        select(Rule).where(
            (Rule.municipality_code.is_(None)) | (Rule.municipality_code == municipality_code)
        )
    ).all()
    national = {r.topic_slug: r for r in rules if r.municipality_code is None}
    local = {r.topic_slug: r for r in rules if r.municipality_code is not None}
    rows = []
    for slug in national.keys() | local.keys():
        national_rule, local_rule = national.get(slug), local.get(slug)
        shown = latest_version(local_rule) or latest_version(national_rule)
        layers = Layers(slug, national_rule, None, local_rule, latest_version(local_rule))
        rows.append(
            AdminRuleRow(
                topic_slug=slug,
                title=shown.title or latest_version(national_rule).title,
                category=shown.category or latest_version(national_rule).category,
                local_version=local_rule.current_version if local_rule else 0,
                mode=str(layers.local.mode) if layers.local else None,
                stale=layers.stale,
                national_version=national_rule.current_version if national_rule else 0,
            )
        )
    return sorted(rows, key=lambda r: (r.local_version == 0, not r.stale, r.category, r.title))


@dataclass(frozen=True)
class LocalRuleEditing:
    """What the edit form shows: the national text in force and the newest local version."""

    topic_slug: str
    municipality_code: str
    national: RuleVersion | None
    local: RuleVersion | None
    current_version: int


def local_rule_for_edit(
    *, session: Session, user: User, municipality_code: str, topic_slug: str
) -> LocalRuleEditing:
    """The edit context of a local rule, for an admin of the municipality; NotFound if no topic."""
    ensure_can_admin_municipality(user, municipality_code)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    local = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    if national is None and local is None:
        raise NotFound("rules.not_found", topic=topic_slug)
    return LocalRuleEditing(
        topic_slug=topic_slug,
        municipality_code=municipality_code,
        national=version_in_force(national, today_in_denmark()) or latest_version(national),
        local=latest_version(local),
        current_version=local.current_version if local else 0,
    )


def check_mode(mode: str, *, has_national: bool) -> None:
    """InvalidInput unless the mode fits: local_only exactly when there is no national rule."""
    if mode == RuleMode.LOCAL_ONLY and has_national:
        raise InvalidInput("rules.local_only_has_national")
    if mode != RuleMode.LOCAL_ONLY and not has_national:
        raise InvalidInput("rules.needs_national")


def _create_rule(session: Session, topic_slug: str, code: str, expected_version: int) -> Rule:
    if expected_version != 0:
        raise Conflict("rules.conflict", version=0)
    rule = Rule(topic_slug=topic_slug, municipality_code=code, current_version=0)
    try:
        with session.begin_nested():
            session.add(rule)
            session.flush()
    except IntegrityError as exc:
        # Another transaction created the same local rule first.
        raise Conflict("rules.conflict", version=1) from exc
    return rule


def _claim_next_version(session: Session, rule: Rule, expected_version: int) -> None:
    # The conditional UPDATE makes the version check atomic across concurrent transactions.
    result = session.execute(
        update(Rule)
        .where(Rule.id == rule.id, Rule.current_version == expected_version)
        .values(current_version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(rule)
        raise Conflict("rules.conflict", version=rule.current_version)
    set_committed_value(rule, "current_version", expected_version + 1)
