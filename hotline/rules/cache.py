"""Rules as read for resolving and searching, held per process; versions never change in place.

A rule's content is fixed by (id, current_version, created_at): versions are immutable and every
change (edit, review, restore, import) adds one and bumps current_version. So each request asks the
database which rules apply and at which version (one small query), and takes the rules' content,
with its Markdown already rendered, from memory when it has seen that state before. A write in
another process is therefore seen at once; there is nothing to invalidate. Resolved rules, as
the API sends them, are kept the same way: by topic, municipality, date and that state.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from hotline.db import bound_engine
from hotline.kit.errors import NotFound
from hotline.kit.markdown import render_markdown
from hotline.municipalities.models import Municipality
from hotline.rules.models import Rule, RuleMode, RuleVersion

# Enough for the national scale: 98 municipalities x 1,000 topics with 30 % local rules is about
# 30,000 rules. About 4 kB each with the rendered HTML of the newest versions: ~250 MB at most.
MAX_RULES = 60_000
# Resolved rules as JSON, 2-5 kB each: the topics agents open, at most ~100 MB.
MAX_RESOLVED = 20_000


@dataclass(slots=True)
class CachedVersion:
    """A rule version as resolving reads it (the attributes of RuleVersion it uses); read-only."""

    id: int
    version: int
    mode: RuleMode
    title: str
    category: str
    tags: tuple[str, ...]
    body_md: str
    agent_notes_md: str
    fields: dict[str, Any]
    sources: tuple[dict[str, Any], ...]
    valid_from: date
    valid_to: date | None
    based_on_national_version: int | None
    author_name: str
    created_at: datetime
    municipality_code: str | None
    # Rendered on first use (searching never needs it); two threads may both render: harmless.
    _body_html: str | None = None
    _agent_notes_html: str | None = None

    @property
    def body_html(self) -> str:
        """The citizen text, rendered and sanitised."""
        if self._body_html is None:
            self._body_html = render_markdown(self.body_md)
        return self._body_html

    @property
    def agent_notes_html(self) -> str:
        """The agent-only notes, rendered and sanitised."""
        if self._agent_notes_html is None:
            self._agent_notes_html = render_markdown(self.agent_notes_md)
        return self._agent_notes_html


@dataclass(frozen=True, slots=True)
class CachedRule:
    """A rule and all its versions (the attributes of Rule that resolving uses)."""

    id: int
    topic_slug: str
    municipality_code: str | None
    current_version: int
    versions: tuple[CachedVersion, ...]


class _Lru:
    """A thread-safe, bounded map that drops the least recently used entries first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


# One cache per engine: a test's fresh database never sees another's rules.
_caches: "weakref.WeakKeyDictionary[Engine, _Lru]" = weakref.WeakKeyDictionary()
_resolved_caches: "weakref.WeakKeyDictionary[Engine, _Lru]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()

_TOPIC_STATE = (
    select(
        Municipality.code,
        Rule.id,
        Rule.municipality_code,
        Rule.current_version,
        Rule.created_at,
    )
    .select_from(Municipality)
    .outerjoin(
        Rule,
        and_(
            Rule.topic_slug == bindparam("topic"),
            or_(Rule.municipality_code.is_(None), Rule.municipality_code == Municipality.code),
        ),
    )
    .where(Municipality.code == bindparam("code"))
)
_TOPICS_STATE = select(
    Rule.id, Rule.municipality_code, Rule.current_version, Rule.created_at
).where(
    Rule.topic_slug.in_(bindparam("topics", expanding=True)),
    or_(Rule.municipality_code.is_(None), Rule.municipality_code == bindparam("code")),
)
_ALL_STATE = select(Rule.id, Rule.municipality_code, Rule.current_version, Rule.created_at).where(
    or_(Rule.municipality_code.is_(None), Rule.municipality_code == bindparam("code"))
)


def topic_rules(
    session: Session, topic_slug: str, municipality_code: str
) -> tuple[CachedRule | None, CachedRule | None]:
    """The national and local rule of a topic for a municipality; NotFound if no municipality."""
    return rules_in_state(session, topic_slug, topic_state(session, topic_slug, municipality_code))


def topic_state(session: Session, topic_slug: str, municipality_code: str) -> frozenset[tuple]:
    """The (id, municipality_code, current_version, created_at) of the rules of a topic that
    apply in a municipality; NotFound if no municipality. Equal states mean equal content."""
    session.flush()  # what the ORM's autoflush would have done
    return topic_state_on(session.connection(), topic_slug, municipality_code)


def topic_state_on(
    connection: Connection, topic_slug: str, municipality_code: str
) -> frozenset[tuple]:
    """topic_state on a plain connection, with no session to begin and end."""
    rows = connection.execute(_TOPIC_STATE, {"topic": topic_slug, "code": municipality_code}).all()
    if not rows:
        raise NotFound("municipalities.not_found", code=municipality_code)
    return frozenset(row[1:] for row in rows if row[1] is not None)


def rules_in_state(
    session: Session, topic_slug: str, state: frozenset[tuple]
) -> tuple[CachedRule | None, CachedRule | None]:
    """The national and local rule of a topic in the state topic_state gave."""
    return _split(_rules_for(session, state)).get(topic_slug, (None, None))


def topics_rules(
    session: Session, topic_slugs: Iterable[str], municipality_code: str
) -> dict[str, tuple[CachedRule | None, CachedRule | None]]:
    """The national and local rule of each of these topics for a municipality."""
    params = {"topics": list(topic_slugs), "code": municipality_code}
    return _split(_rules_for(session, _state_rows(session, _TOPICS_STATE, params)))


def all_rules(
    session: Session, municipality_code: str
) -> dict[str, tuple[CachedRule | None, CachedRule | None]]:
    """The national and local rule of every topic for a municipality."""
    rows = _state_rows(session, _ALL_STATE, {"code": municipality_code})
    return _split(_rules_for(session, rows))


def _state_rows(session: Session, statement, params: dict) -> list:
    """Plain rows on the session's connection, without the ORM's per-statement work."""
    session.flush()  # what the ORM's autoflush would have done
    return session.connection().execute(statement, params).all()


def _split(rules: list[CachedRule]) -> dict[str, tuple[CachedRule | None, CachedRule | None]]:
    by_topic: dict[str, tuple[CachedRule | None, CachedRule | None]] = {}
    for rule in rules:
        national, local = by_topic.get(rule.topic_slug, (None, None))
        if rule.municipality_code is None:
            national = rule
        else:
            local = rule
        by_topic[rule.topic_slug] = (national, local)
    return by_topic


def _rules_for(session: Session, states: Iterable[tuple]) -> list[CachedRule]:
    """The rules in these (id, municipality_code, current_version, created_at) states."""
    cache = _cache_for(session)
    found, missing = [], []
    for rule_id, _code, current_version, created_at in states:
        rule = cache.get((rule_id, current_version, created_at))
        if rule is None:
            missing.append(rule_id)
        else:
            found.append(rule)
    if missing:
        for rule in session.scalars(select(Rule).where(Rule.id.in_(missing))):
            cached = _snapshot(rule)
            cache.put((rule.id, rule.current_version, rule.created_at), cached)
            found.append(cached)
    return found


def _cache_for(session: Session) -> _Lru:
    return _per_engine(_caches, bound_engine(session), MAX_RULES)


def resolved_cache(engine: Engine) -> _Lru:
    """This process's resolved rules (as the API sends them) by topic, municipality, date and
    state: a change to a rule changes its state, so an entry is never out of date."""
    return _per_engine(_resolved_caches, engine, MAX_RESOLVED)


def _per_engine(caches: weakref.WeakKeyDictionary, engine: Engine, max_entries: int) -> _Lru:
    with _caches_lock:
        cache = caches.get(engine)
        if cache is None:
            cache = caches[engine] = _Lru(max_entries)
        return cache


def _snapshot(rule: Rule) -> CachedRule:
    versions = tuple(_version(v, rule.municipality_code) for v in rule.versions)
    # A version saved after current_version was read would belong to a newer state.
    versions = tuple(v for v in versions if v.version <= rule.current_version)
    return CachedRule(
        rule.id, rule.topic_slug, rule.municipality_code, rule.current_version, versions
    )


def _version(version: RuleVersion, municipality_code: str | None) -> CachedVersion:
    return CachedVersion(
        id=version.id,
        version=version.version,
        mode=RuleMode(version.mode),
        title=version.title,
        category=version.category,
        tags=tuple(version.tags or ()),
        body_md=version.body_md,
        agent_notes_md=version.agent_notes_md,
        fields=dict(version.fields or {}),
        sources=tuple(dict(s) if isinstance(s, dict) else s for s in version.sources or ()),
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        based_on_national_version=version.based_on_national_version,
        author_name=version.author_name,
        created_at=version.created_at,
        municipality_code=municipality_code,
    )


def prime(session: Session, batch: int = 500) -> int:
    """Load and render every rule in force (at start-up, so requests find them); a count."""
    cache = _cache_for(session)
    ids = list(session.scalars(select(Rule.id).order_by(Rule.id).limit(cache.max_entries)))
    for start in range(0, len(ids), batch):
        for rule in session.scalars(select(Rule).where(Rule.id.in_(ids[start : start + batch]))):
            cached = _snapshot(rule)
            for version in cached.versions[-2:]:  # the newest and the one it may follow
                version.body_html, version.agent_notes_html  # noqa: B018 (renders them now)
            cache.put((rule.id, rule.current_version, rule.created_at), cached)
        session.expunge_all()  # keep memory flat: only the snapshots stay
    return len(ids)


def clear() -> None:
    """Forget every cached rule (tests empty their database between cases)."""
    with _caches_lock:
        _caches.clear()
        _resolved_caches.clear()
