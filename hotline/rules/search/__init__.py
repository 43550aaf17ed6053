"""Rule search for the words callers use: Danish, forgiving, honest about weak matches.

documents: each rule version analysed once; vocabulary: the words a query can mean; synonyms:
lists kept by people; query: a query as clauses; engine: candidates from SQLite FTS5 or
PostgreSQL's tsvector; ranking: coverage and per-field BM25; snippets; service: search_topics.
"""

from hotline.rules.search.documents import (
    include_name,
    index_missing_versions,
    index_rule,
    reindex_all,
)
from hotline.rules.search.service import SearchHit, SearchResult, search_topics

__all__ = [
    "SearchHit",
    "SearchResult",
    "include_name",
    "index_missing_versions",
    "index_rule",
    "reindex_all",
    "search_topics",
]
