"""Ranking topics by how much of the query they cover, and how well.

A topic's words are those of its national rule and its local rule in force, so a local text
that replaces the national one does not hide the national wording. Each clause counts with
its best alternative: its terms' BM25 weight, field by field with title and tags boosted above
the text and notes below, times the alternative's quality (exact above loose spelling,
synonyms, compound parts and typos). Coverage is the share of the query's importance (IDF) a
topic satisfies; a topic covering less than WEAK_COVERAGE is a weak match, shown as such. A
topic whose title the query covers ranks a little higher (Meilisearch's "exactness").
"""

from dataclasses import dataclass, field

from hotline.rules.search.engine import Candidate
from hotline.rules.search.query import ParsedQuery
from hotline.rules.search.vocabulary import Vocabulary

FIELDS = ("title_terms", "tags_terms", "body_terms", "notes_terms")
FIELD_BOOSTS = (3.0, 2.0, 1.0, 0.5)
K1, B = 1.2, 0.75
TITLE_BONUS = 0.3  # a title the query covers entirely ranks up to this much higher
WEAK_COVERAGE = 0.7
MIN_SHARE_OF_BEST = 0.1  # topics scoring below this share of the best are left out


@dataclass
class TopicRank:
    """A topic's score, the share of the query it covers, and the terms that matched."""

    slug: str
    score: float = 0.0
    coverage: float = 0.0
    title_share: float = 0.0
    matched: set[str] = field(default_factory=set)

    @property
    def weak(self) -> bool:
        """Whether the topic covers too little of the query to be a confident answer."""
        return self.coverage < WEAK_COVERAGE

    @property
    def rank(self) -> float:
        """What orders the results: the score, scaled by coverage and by how much of the title."""
        return self.score * self.coverage * (1 + TITLE_BONUS * self.title_share)


@dataclass
class _Topic:
    """The query terms' weight in a topic's documents (the better of national and local)."""

    weights: dict[str, float] = field(default_factory=dict)
    titles: list[set[str]] = field(default_factory=list)


def _weigh(parsed: ParsedQuery, vocabulary: Vocabulary, candidates: list[Candidate]):
    fields = [[getattr(c, name).split() for name in FIELDS] for c in candidates]
    averages = [max(sum(len(f[i]) for f in fields) / len(fields), 1.0) for i in range(len(FIELDS))]
    wanted = parsed.terms
    idf = {t: vocabulary.idf(t) for t in wanted}
    topics: dict[str, _Topic] = {}
    for candidate, document in zip(candidates, fields, strict=True):
        topic = topics.setdefault(candidate.topic_slug, _Topic())
        topic.titles.append(set(document[0]))
        weights: dict[str, float] = {}
        for i, tokens in enumerate(document):
            present = wanted.intersection(tokens)
            if not present:
                continue
            norm = K1 * (1 - B + B * len(tokens) / averages[i])
            for found_term in present:
                n = tokens.count(found_term)
                gain = FIELD_BOOSTS[i] * idf[found_term] * n * (K1 + 1) / (n + norm)
                weights[found_term] = weights.get(found_term, 0.0) + gain
        for found_term, weight in weights.items():
            if weight > topic.weights.get(found_term, 0.0):
                topic.weights[found_term] = weight  # the better of the national and local text
    return topics


def rank_topics(
    parsed: ParsedQuery, vocabulary: Vocabulary, candidates: list[Candidate]
) -> list[TopicRank]:
    """The candidates' topics, best first (weak ones included, marked by their coverage)."""
    if not candidates:
        return []
    total = sum(c.importance for c in parsed.clauses) or 1.0
    ranked = []
    for slug, topic in _weigh(parsed, vocabulary, candidates).items():
        found = TopicRank(slug)
        covered = 0.0
        for clause in parsed.clauses:
            best_score, best_quality, best_terms = 0.0, 0.0, ()
            for alternative in clause.alternatives:
                weights = [topic.weights.get(t, 0.0) for t in alternative.terms]
                if not all(weights):
                    continue
                score = alternative.quality * sum(weights) / len(weights)
                if score > best_score:
                    best_score, best_quality = score, alternative.quality
                    best_terms = alternative.terms
            if best_score:
                found.score += best_score
                covered += clause.importance * best_quality
                found.matched.update(best_terms)
        found.coverage = covered / total
        found.title_share = max(
            (len(title & found.matched) / len(title) for title in topic.titles if title),
            default=0.0,
        )
        if found.score:
            ranked.append(found)
    ranked.sort(key=lambda r: (-r.rank, r.slug))
    if ranked:
        floor = ranked[0].rank * MIN_SHARE_OF_BEST
        ranked = [r for r in ranked if r.rank >= floor]
    return ranked
