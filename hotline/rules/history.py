"""A local rule's history: versions with diffs, restoring an old version, reviewing a stale rule."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.kit.errors import Conflict, NotFound
from hotline.rules.changes import VersionChanges, national_differences, version_changes
from hotline.rules.models import VERSION_CONTENT_FIELDS, Rule, RuleVersion
from hotline.rules.resolve import today_in_denmark, version_in_force
from hotline.rules.search import index_rule
from hotline.rules.service import (
    _claim_next_version,
    check_mode,
    check_topic_slug,
    get_rule,
    latest_version,
    version_snapshot,
)


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a local rule, compared with its predecessor and the national rule."""

    version: RuleVersion
    to_previous: VersionChanges | None  # None for the first version
    to_national: VersionChanges | None  # None when there is no national rule
    is_current: bool

    @property
    def imported(self) -> bool:
        """Whether the version was imported from a kb_rules file (not saved by a person)."""
        return self.version.source_path is not None


@dataclass(frozen=True)
class RuleHistory:
    """What the history page shows."""

    topic_slug: str
    municipality_code: str
    national: RuleVersion | None  # the national version in force, compared with
    current_version: int
    entries: list[HistoryEntry]  # newest first


def local_rule_history(
    *, session: Session, user: User, municipality_code: str, topic_slug: str
) -> RuleHistory:
    """Every version of the local rule, newest first, each compared with its predecessor and the
    national rule in force; for an admin of the municipality. NotFound if the topic is unknown."""
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    national_rule = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    local = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    if national_rule is None and local is None:
        raise NotFound("rules.not_found", topic=topic_slug)
    national = version_in_force(national_rule, today_in_denmark()) or latest_version(national_rule)
    versions = list(local.versions) if local else []
    entries = []
    previous: RuleVersion | None = None
    for version in versions:
        entries.append(
            HistoryEntry(
                version=version,
                to_previous=version_changes(previous, version) if previous else None,
                to_national=national_differences(national, version) if national else None,
                is_current=version.version == local.current_version,
            )
        )
        previous = version
    return RuleHistory(
        topic_slug=topic_slug,
        municipality_code=municipality_code,
        national=national,
        current_version=local.current_version if local else 0,
        entries=list(reversed(entries)),
    )


@dataclass(frozen=True)
class NationalChange:
    """How the national rule changed since the version a stale local rule was written against."""

    based_on: int
    current: int
    changes: VersionChanges


def national_change(
    *, session: Session, topic_slug: str, local: RuleVersion | None
) -> NationalChange | None:
    """The national change a local version has not been reviewed against; None if not stale."""
    national_rule = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    if local is None or national_rule is None:
        return None
    based_on = local.based_on_national_version or 0
    if based_on >= national_rule.current_version:
        return None
    by_number = {v.version: v for v in national_rule.versions}
    old = by_number.get(based_on)
    new = latest_version(national_rule)
    return NationalChange(
        based_on=based_on,
        current=national_rule.current_version,
        changes=version_changes(old, new),
    )


def restore_local_version(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    version: int,
    expected_version: int,
) -> RuleVersion:
    """Save an old version's content as a new version; Conflict if someone saved first."""
    rule, latest = _local_rule(session, user, municipality_code, topic_slug)
    old = next((v for v in rule.versions if v.version == version), None)
    if old is None:
        raise NotFound("rules.history.version_not_found", version=version)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    check_mode(str(old.mode), has_national=national is not None)
    # The restored text was written against the old version's national version: stale if behind.
    return _add_copy(
        session,
        user,
        rule,
        source=old,
        before=latest,
        expected_version=expected_version,
        based_on=old.based_on_national_version,
        action="rule.restore",
    )


def review_local_rule(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    topic_slug: str,
    expected_version: int,
) -> RuleVersion:
    """Mark a stale local rule as reviewed against the current national version (same text, a new
    version); Conflict if someone saved first. A rule that is not stale is left as it is."""
    rule, latest = _local_rule(session, user, municipality_code, topic_slug)
    if expected_version != rule.current_version:
        raise Conflict("rules.conflict", version=rule.current_version)
    national = get_rule(session=session, topic_slug=topic_slug, municipality_code=None)
    if national is None or (latest.based_on_national_version or 0) >= national.current_version:
        return latest
    return _add_copy(
        session,
        user,
        rule,
        source=latest,
        before=latest,
        expected_version=expected_version,
        based_on=national.current_version,
        action="rule.review",
    )


def _local_rule(
    session: Session, user: User, municipality_code: str, topic_slug: str
) -> tuple[Rule, RuleVersion]:
    ensure_can_admin_municipality(user, municipality_code)
    check_topic_slug(topic_slug)
    rule = get_rule(session=session, topic_slug=topic_slug, municipality_code=municipality_code)
    latest = latest_version(rule)
    if rule is None or latest is None:
        raise NotFound("rules.not_found", topic=topic_slug)
    return rule, latest


def _add_copy(
    session: Session,
    user: User,
    rule: Rule,
    *,
    source: RuleVersion,
    before: RuleVersion,
    expected_version: int,
    based_on: int | None,
    action: str,
) -> RuleVersion:
    _claim_next_version(session, rule, expected_version)
    content = {name: getattr(source, name) for name in VERSION_CONTENT_FIELDS}
    for name in ("tags", "sources"):
        content[name] = list(content[name] or [])
    content["fields"] = dict(content["fields"] or {})
    version = RuleVersion(
        version=expected_version + 1,
        **content,
        based_on_national_version=based_on,
        author_name=user.full_name,
        author_id=user.id,
    )
    rule.versions.append(version)
    session.flush()
    record_change(
        session=session,
        actor=user,
        action=action,
        entity_type="rule",
        entity_id=f"{rule.municipality_code}/{rule.topic_slug}",
        municipality_code=rule.municipality_code,
        before=version_snapshot(before),
        after={**version_snapshot(version), "copied_from_version": source.version},
    )
    # Like save_local_rule: the new version gets its search document.
    index_rule(session=session, rule=rule)
    return version
