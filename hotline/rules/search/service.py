"""Searching a municipality's resolved rules in the words callers use."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.kit.danish import is_stopword, words
from hotline.rules.cache import topics_rules
from hotline.rules.resolve import layers_in_force
from hotline.rules.schemas import TopicSummary
from hotline.rules.search.engine import find_candidates
from hotline.rules.search.query import ParsedQuery, parse_query
from hotline.rules.search.ranking import TopicRank, rank_topics
from hotline.rules.search.snippets import snippet
from hotline.rules.search.synonyms import STATES, synonyms_for
from hotline.rules.search.vocabulary import BOUNDS, Vocabulary, vocabulary_for

SEARCH_LIMIT = 20  # topics returned at most
_STATE = select(*BOUNDS, *STATES)  # built once: SQLAlchemy caches its compiled form
MAX_SUGGESTIONS = 3


class SearchHit(TopicSummary):
    """A topic found by a search: a snippet (safe HTML: escaped, <mark>), and whether it is weak."""

    snippet_html: str = ""
    weak: bool = False


@dataclass(frozen=True)
class SearchResult:
    """The topics found, best first; when none, queries the caller may have meant."""

    hits: list[SearchHit] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        """Whether the best hit is more than a weak match."""
        return bool(self.hits) and not self.hits[0].weak


def search_topics(
    *,
    session: Session,
    municipality_code: str,
    query: str,
    on: date,
    verify_after_days: int,
    limit: int = SEARCH_LIMIT,
) -> SearchResult:
    """Topics of the municipality's resolved view for the query, best first."""
    # What the vocabulary and the synonyms must be up to date with, in one round trip.
    found = session.connection().execute(_STATE, {"code": municipality_code}).one()
    vocabulary = vocabulary_for(session, tuple(found[:2]))
    synonyms = synonyms_for(session, municipality_code, tuple(found[2:]))
    parsed = parse_query(query, vocabulary, synonyms)
    if parsed is None:
        return SearchResult()
    candidates = find_candidates(session, parsed, municipality_code, on, vocabulary)
    rules = topics_rules(session, {c.topic_slug for c in candidates}, municipality_code)
    layers_of, in_force = {}, []
    for candidate in candidates:
        slug = candidate.topic_slug
        if slug not in layers_of:
            layers_of[slug] = layers_in_force(slug, *rules.get(slug, (None, None)), on)
        layers = layers_of[slug]
        used = {v.id for v in (layers.national, layers.local) if v} if layers else set()
        if candidate.rule_version_id in used:
            in_force.append(candidate)  # not an older version, nor another layer's
    ranked = rank_topics(parsed, vocabulary, in_force)[:limit]
    hits = [_hit(layers_of[r.slug], r, on, verify_after_days) for r in ranked]
    return SearchResult(hits, [] if hits else suggestions(parsed, vocabulary))


def _hit(layers, ranked: TopicRank, on: date, verify_after_days: int) -> SearchHit:
    texts = [v.body_md for v in layers.text_versions()]
    texts += [
        " · ".join(layers.tags),
        " · ".join(str(v) for v, _ in layers.field_values().values()),
    ]
    return SearchHit(
        **layers.summary(on, verify_after_days).model_dump(),
        snippet_html=snippet(texts, ranked.matched),
        weak=ranked.weak,
    )


def suggestions(parsed: ParsedQuery, vocabulary: Vocabulary) -> list[str]:
    """Queries with the words nothing was found for replaced by words the documents have."""
    tokens = words(parsed.text)
    options = {
        i: vocabulary.suggest(word)
        for i, word in enumerate(tokens)
        if not is_stopword(word) and not vocabulary.knows(word)
    }
    options = {i: found for i, found in options.items() if found}
    found: list[str] = []
    for rank in range(MAX_SUGGESTIONS):
        if not any(rank < len(o) for o in options.values()):
            break
        replaced = [
            options[i][min(rank, len(options[i]) - 1)] if i in options else word
            for i, word in enumerate(tokens)
        ]
        query = " ".join(replaced)
        if query not in found:
            found.append(query)
    return found
