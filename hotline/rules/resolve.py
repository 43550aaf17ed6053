"""Resolve a topic for a municipality on a date: the national rule, then the local layer."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import NotFound
from hotline.rules.cache import CachedRule, all_rules, topic_rules
from hotline.rules.models import Rule, RuleMode, RuleVersion
from hotline.rules.schemas import (
    Provenance,
    ResolvedField,
    ResolvedRule,
    ResolvedSection,
    TopicSummary,
)

FIELD_ORDER = ("fee_dkk", "deadline", "phone", "self_service_url", "legal_basis")
DEFAULT_VERIFY_AFTER_DAYS = 365  # Settings.rules_verify_after_days


def today_in_denmark() -> date:
    """Today's date in Europe/Copenhagen."""
    return datetime.now(COPENHAGEN).date()


def version_in_force(rule: Rule | None, on: date) -> RuleVersion | None:
    """The highest version of the rule in force on the date, or None."""
    if rule is None:
        return None
    in_force = [
        v for v in rule.versions if v.valid_from <= on and (v.valid_to is None or v.valid_to > on)
    ]
    return max(in_force, key=lambda v: v.version, default=None)


@dataclass(frozen=True)
class Layers:
    """The national and local rule of one topic and their versions in force."""

    topic_slug: str
    national_rule: Rule | None
    national: RuleVersion | None
    local_rule: Rule | None
    local: RuleVersion | None

    @property
    def mode(self) -> str:
        """The resolved mode ("national" when no local rule applies)."""
        return str(self.local.mode) if self.local else RuleMode.NATIONAL.value

    @property
    def not_offered(self) -> bool:
        """Whether the municipality does not offer this."""
        return self.mode == RuleMode.NOT_OFFERED

    @property
    def stale(self) -> bool:
        """Whether the local rule was written against an older national version."""
        if self.local is None or self.national_rule is None:
            return False
        based_on = self.local.based_on_national_version or 0
        return based_on < self.national_rule.current_version

    @property
    def title(self) -> str:
        """The local title when the local rule gives one and takes over; else the national."""
        takes_over = self.mode in (RuleMode.REPLACE, RuleMode.LOCAL_ONLY, RuleMode.NOT_OFFERED)
        if self.local and takes_over and self.local.title.strip():
            return self.local.title
        return self.national.title if self.national else self.local.title

    @property
    def category(self) -> str:
        """The category (a local rule may only set its own for local_only)."""
        if self.national is not None:
            return self.national.category
        return self.local.category

    @property
    def tags(self) -> list[str]:
        """National tags, then local ones not already there."""
        tags = list(self.national.tags) if self.national else []
        if self.local:
            tags += [tag for tag in self.local.tags if tag not in tags]
        return tags

    def text_versions(self) -> list[RuleVersion]:
        """The versions whose citizen text applies, in reading order."""
        if self.local is None:
            return [self.national]
        if self.mode == RuleMode.APPEND:
            return [self.national, self.local]
        return [self.local]

    def field_values(self) -> dict[str, tuple[object, RuleVersion]]:
        """Fields merged key by key, the local value winning; each with its version."""
        merged: dict[str, tuple[object, RuleVersion]] = {}
        layers = [self.local] if self.not_offered else [self.national, self.local]
        for version in layers:
            for key, value in (version.fields or {}).items() if version else ():
                merged[key] = (value, version)
        order = {key: i for i, key in enumerate(FIELD_ORDER)}
        return dict(sorted(merged.items(), key=lambda item: order.get(item[0], len(order))))

    def newest_verified(self) -> date | None:
        """The newest `verified` date among the sources of the versions in use, or None."""
        dates = []
        for version in (self.national, self.local):
            for source in version.sources if version else ():
                verified = source.get("verified") if isinstance(source, dict) else None
                try:
                    dates.append(date.fromisoformat(str(verified)))
                except ValueError:
                    continue  # not a date: does not count as a check
        return max(dates, default=None)

    def needs_checking(self, on: date, verify_after_days: int) -> bool:
        """Whether no source was verified within verify_after_days before on (or none cited)."""
        newest = self.newest_verified()
        return newest is None or newest < on - timedelta(days=verify_after_days)

    def summary(self, on: date, verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS) -> TopicSummary:
        """The topic as a list entry."""
        return TopicSummary(
            slug=self.topic_slug,
            title=self.title,
            category=self.category,
            tags=self.tags,
            mode=self.mode,
            not_offered=self.not_offered,
            stale=self.stale,
            needs_checking=self.needs_checking(on, verify_after_days),
        )

    def search_text(self) -> str:
        """Everything a search matches against, lower-cased."""
        parts = [self.title, self.category, *self.tags]
        parts += [v.body_md for v in self.text_versions()]
        parts += [str(value) for value, _ in self.field_values().values()]
        return "\n".join(parts).lower()


def resolve_rule(
    *,
    session: Session,
    topic_slug: str,
    municipality_code: str,
    on: date | None = None,
    verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS,
) -> ResolvedRule:
    """Topic T as it applies in municipality M on date D (default: today in Denmark).

    needs_checking: no source of the versions in use verified within verify_after_days before D.
    """
    on = on or today_in_denmark()
    national_rule, local_rule = topic_rules(session, topic_slug, municipality_code)
    return resolve_rules(
        topic_slug, national_rule, local_rule, municipality_code, on, verify_after_days
    )


def resolve_rules(
    topic_slug: str,
    national_rule: CachedRule | None,
    local_rule: CachedRule | None,
    municipality_code: str,
    on: date,
    verify_after_days: int,
) -> ResolvedRule:
    """A topic's national and local rule as they apply on a date; NotFound if none is in force."""
    layers = layers_in_force(topic_slug, national_rule, local_rule, on)
    if layers is None:
        raise NotFound("rules.not_found", topic=topic_slug)
    return resolved_rule(layers, municipality_code, on, verify_after_days)


def list_resolved_topics(
    *,
    session: Session,
    municipality_code: str,
    on: date | None = None,
    verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS,
) -> list[TopicSummary]:
    """Every topic in force for the municipality, sorted by category and title."""
    on = on or today_in_denmark()
    summaries = [
        layers.summary(on, verify_after_days)
        for layers in _all_layers(session, municipality_code, on)
    ]
    return sorted(summaries, key=lambda s: (s.category.lower(), s.title.lower()))


def _all_layers(session: Session, municipality_code: str, on: date | None) -> list[Layers]:
    on = on or today_in_denmark()
    found = []
    for slug, (national, local) in all_rules(session, municipality_code).items():
        layers = layers_in_force(slug, national, local, on)
        if layers is not None:
            found.append(layers)
    return found


def layers_in_force(
    topic_slug: str, national_rule: Rule | None, local_rule: Rule | None, on: date
) -> Layers | None:
    """The versions of a topic's national and local rule in force on the date; None if neither."""
    national = version_in_force(national_rule, on)
    local = version_in_force(local_rule, on)
    if local is not None and (local.mode == RuleMode.LOCAL_ONLY) == (national is not None):
        # A layer without its counterpart (e.g. a national rule not yet in force) is ignored.
        local = None
    if national is None and local is None:
        return None
    return Layers(topic_slug, national_rule, national, local_rule, local)


def provenance(version: RuleVersion) -> Provenance:
    """Where a version comes from."""
    return Provenance(
        scope=version.municipality_code or "national",
        rule_version_id=version.id,
        version=version.version,
        author=version.author_name,
        valid_from=version.valid_from,
        created_on=version.created_at.astimezone(COPENHAGEN).date(),
    )


def _text(version: RuleVersion) -> ResolvedSection:
    return ResolvedSection(
        body_md=version.body_md, body_html=version.body_html, provenance=provenance(version)
    )


def _notes(version: RuleVersion) -> ResolvedSection:
    return ResolvedSection(
        body_md=version.agent_notes_md,
        body_html=version.agent_notes_html,
        provenance=provenance(version),
    )


def resolved_rule(
    layers: Layers, municipality_code: str, on: date, verify_after_days: int
) -> ResolvedRule:
    """The resolved rule the layers make (what resolve_rule returns)."""
    note_versions = [layers.national, layers.local]
    if layers.not_offered:
        note_versions = [layers.local]
    sources: list[dict] = []
    for version in (layers.national, layers.local):
        for source in version.sources if version else ():
            if source not in sources:
                sources.append(source)
    return ResolvedRule(
        topic_slug=layers.topic_slug,
        municipality_code=municipality_code,
        on=on,
        title=layers.title,
        category=layers.category,
        tags=layers.tags,
        mode=layers.mode,
        not_offered=layers.not_offered,
        sections=[_text(v) for v in layers.text_versions()],
        agent_notes=[_notes(v) for v in note_versions if v and v.agent_notes_md.strip()],
        fields=[
            ResolvedField(key=key, value=value, provenance=provenance(version))
            for key, (value, version) in layers.field_values().items()
        ],
        sources=sources,
        stale=layers.stale,
        national=provenance(layers.national) if layers.national else None,
        local=provenance(layers.local) if layers.local else None,
        based_on_national_version=layers.local.based_on_national_version if layers.local else None,
        national_current_version=(
            layers.national_rule.current_version if layers.national_rule else None
        ),
        needs_checking=layers.needs_checking(on, verify_after_days),
    )
