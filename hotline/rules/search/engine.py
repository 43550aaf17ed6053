"""Candidate documents from the database's own full-text index, best first.

The query's alternatives (each a set of index terms that must all occur) are OR-ed, limited
to the national documents and the municipality's, in force on the date. SQLite ranks with
FTS5's BM25 (title and tags above text, notes below); PostgreSQL, whose ts_rank knows no
term rarity, with each clause's ts_rank weighted by the clause's IDF. Both only choose which
documents the ranking in Python looks at: where fewer documents match than CANDIDATES, the two
databases return the same results; beyond that their choice may differ below the top.

In a large knowledge base a term in many documents ("pas", "digital") would make the engines
rank thousands of them for a handful of places; there such a term is looked for in titles and
tags only, where the topics about it have it (the ranking still weighs it everywhere).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline.rules.search.documents import FTS_TABLE, NATIONAL_SCOPE, scope_of
from hotline.rules.search.query import Alternative, ParsedQuery
from hotline.rules.search.vocabulary import Vocabulary

CANDIDATES = 100  # documents the ranking looks at, at most
LARGE = 2000  # documents from which common terms are looked for in titles and tags only
COMMON_SHARE = 0.05  # a term in more than this share of the documents is common
_COLUMNS = (
    "d.id, d.rule_version_id, d.topic_slug, "
    "d.title_terms, d.tags_terms, d.body_terms, d.notes_terms"
)
# Title, tags, text, notes, scope (FTS5's column order).
SQLITE_WEIGHTS = "10.0, 6.0, 1.0, 0.5, 0.0"
POSTGRES_WEIGHTS = "'{0.1, 0.2, 0.6, 1.0}'"  # D (notes), C (text), B (tags), A (title)


@dataclass(frozen=True)
class Candidate:
    """A document found, with its terms by field."""

    id: int
    rule_version_id: int
    topic_slug: str
    title_terms: str
    tags_terms: str
    body_terms: str
    notes_terms: str


def _quote_fts(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _quote_ts(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _any(alternatives: list[Alternative], quote, both: str, either: str) -> str:
    parts = []
    for alternative in alternatives:
        terms = [quote(t) for t in alternative.terms]
        parts.append(terms[0] if len(terms) == 1 else "(" + f" {both} ".join(terms) + ")")
    return "(" + f" {either} ".join(dict.fromkeys(parts)) + ")"


def _split_common(alternatives: list[Alternative], vocabulary: Vocabulary):
    """(alternatives looked for everywhere, those looked for in titles and tags only)."""
    if vocabulary.documents < LARGE:
        return alternatives, []
    limit = vocabulary.documents * COMMON_SHARE
    rare, common = [], []
    for alternative in alternatives:
        rarest = min(vocabulary.df.get(t, 0) for t in alternative.terms)
        (common if rarest > limit else rare).append(alternative)
    return rare, common


def find_candidates(
    session: Session,
    parsed: ParsedQuery,
    municipality_code: str,
    on: date,
    vocabulary: Vocabulary,
) -> list[Candidate]:
    """The documents in scope that contain some alternative, best first."""
    clauses = [c for c in parsed.clauses if c.alternatives]
    if not clauses:
        return []
    rare, common = _split_common([a for c in clauses for a in c.alternatives], vocabulary)
    scopes = (NATIONAL_SCOPE, scope_of(municipality_code))
    params: dict = {"on": on}
    if session.get_bind().dialect.name == "postgresql":
        parts = [_any(rare, _quote_ts, "&", "|")] if rare else []
        if common:  # :AB: only where the term has the title's or the tags' weight
            parts.append(_any(common, lambda t: _quote_ts(t) + ":AB", "&", "|"))
        params["query"] = " | ".join(parts)
        # The scope's token ("m0751.scope") can be no word: analysed words have no dots.
        params["scope"] = " | ".join(_quote_ts(s + ".scope") for s in scopes)
        ranks = []
        for i, clause in enumerate(clauses):
            params[f"c{i}"] = _any(list(clause.alternatives), _quote_ts, "&", "|")
            ranks.append(
                f"{clause.importance:.4f} * ts_rank({POSTGRES_WEIGHTS}, d.tsv, "
                f"to_tsquery('simple', :c{i}))"
            )
        sql = f"""
            SELECT {_COLUMNS} FROM rule_search_documents d
            WHERE d.tsv @@ to_tsquery('simple', :query) AND d.tsv @@ to_tsquery('simple', :scope)
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY {" + ".join(ranks)} DESC, d.id LIMIT {CANDIDATES}
        """
    else:
        parts = []
        if rare:
            parts.append(
                "{title_terms tags_terms body_terms notes_terms} : "
                + _any(rare, _quote_fts, "AND", "OR")
            )
        if common:
            parts.append("{title_terms tags_terms} : " + _any(common, _quote_fts, "AND", "OR"))
        scope = "scope : (" + " OR ".join(_quote_fts(s) for s in scopes) + ")"
        params["match"] = "(" + " OR ".join(parts) + ") AND " + scope
        params["on"] = on.isoformat()
        sql = f"""
            SELECT {_COLUMNS}
            FROM {FTS_TABLE} JOIN rule_search_documents d ON d.id = {FTS_TABLE}.rowid
            WHERE {FTS_TABLE} MATCH :match
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY bm25({FTS_TABLE}, {SQLITE_WEIGHTS}), d.id LIMIT {CANDIDATES}
        """
    return [Candidate(*row) for row in session.execute(text(sql), params)]
