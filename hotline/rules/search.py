"""Danish full-text search over the rules, scoped to one municipality's resolved view.

Every rule version has a row in rule_search_documents (versions are immutable, so a row is
written once). The engine finds candidate documents: on SQLite the FTS5 table rule_search_fts
over Danish stems made here in Python (snowball "danish"); on PostgreSQL a GIN index over
to_tsvector('danish', ...). Only national documents and those of the chosen municipality in force
on the date are searched; each candidate topic is then resolved for the municipality and kept only
if the query matches what the resolution shows (a replaced national text does not count, a
not_offered topic shows as such). The last query word is a prefix (as-you-type).
"""

import html
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import snowballstemmer
from sqlalchemy import Connection, delete, insert, select, text
from sqlalchemy.orm import Session

from hotline.rules.cache import topics_rules
from hotline.rules.models import Rule, RuleMode, RuleSearchDocument, RuleVersion
from hotline.rules.schemas import TopicSummary

SEARCH_LIMIT = 20  # topics returned at most
CANDIDATE_DOCUMENTS = 200  # ranked engine hits considered at most
MAX_QUERY_WORDS = 12
SNIPPET_CHARS = 180
FTS_TABLE = "rule_search_fts"
POSTGRES_INDEX = "ix_rule_search_documents_fts"
POSTGRES_VECTOR = (
    "setweight(to_tsvector('danish'::regconfig, d.title), 'A') || "
    "setweight(to_tsvector('danish'::regconfig, d.body), 'B')"
)

# Letters and digits (Unicode), as FTS5's unicode61 tokenizer splits them; æ, ø, å kept as is.
WORD = re.compile(r"[^\W_]+")
# PostgreSQL's danish.stop (the Snowball list), so both databases ignore the same words.
_DANISH_STOP = """
    og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om
    vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her
    alle vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit
    også under have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive
    mange ad bliver hendes været thi jer sådan"""
STOPWORDS = frozenset(_DANISH_STOP.split())
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARKS = re.compile(r"[*`|]+|^\s*(?:#+|>+|[-+])\s+", re.MULTILINE)
_local = threading.local()


class SearchHit(TopicSummary):
    """A topic found by a search, with a highlighted snippet (safe HTML: escaped, <mark>)."""

    snippet_html: str = ""


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic name filter: the engine-specific search index is not in the models."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False  # the FTS5 virtual table and its shadow tables
    return not (type_ == "index" and name == POSTGRES_INDEX)


# --- words and stems -------------------------------------------------------------------------


def words(value: str) -> list[str]:
    """The lower-cased words of a text."""
    return WORD.findall(value.lower())


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The Danish stem of a lower-cased word."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # snowball stemmers keep state: one per thread
        stemmer = _local.stemmer = snowballstemmer.stemmer("danish")
    return stemmer.stemWord(word)


def plain_text(markdown: str) -> str:
    """Markdown as readable text (links as their text, no emphasis or heading marks)."""
    return _MARKDOWN_MARKS.sub(" ", _MARKDOWN_LINK.sub(r"\1", markdown))


def _stems(value: str) -> list[str]:
    return [stem(w) for w in words(value) if w not in STOPWORDS]


@dataclass(frozen=True)
class ParsedQuery:
    """Whole words (stems) that must all occur, and a last word that is a prefix."""

    stems: tuple[str, ...]
    last_raw: str
    last_stem: str | None  # None when the last word is a stop word (only the raw prefix)

    @property
    def heads(self) -> tuple[str, ...]:
        """How a matching word starts (Danish stemming only changes the end of a word)."""
        targets = [*self.stems, self.last_raw, self.last_stem or self.last_raw]
        return tuple({t[:2] for t in targets})

    def word_matches(self, word: str, heads: tuple[str, ...] | None = None) -> bool:
        """Whether a (lower-cased) word of a text is one the query looks for."""
        if not word.startswith(heads or self.heads) or word in STOPWORDS:
            return False
        found = stem(word)
        if found in self.stems or found.startswith(self.last_raw):
            return True
        return self.last_stem is not None and found.startswith(self.last_stem)

    def matches(self, text_words: Iterable[str]) -> bool:
        """Whether a text (its words) contains every whole word and the prefix."""
        stems = {stem(w) for w in text_words if w not in STOPWORDS}
        if not set(self.stems) <= stems:
            return False
        prefixes = (self.last_raw,) if self.last_stem is None else (self.last_raw, self.last_stem)
        return any(s.startswith(prefixes) for s in stems)


def parse_query(query: str) -> ParsedQuery | None:
    """The query's words; None when it has none."""
    found = words(query)[:MAX_QUERY_WORDS]
    if not found:
        return None
    *whole, last = found
    stems = tuple(dict.fromkeys(stem(w) for w in whole if w not in STOPWORDS))
    return ParsedQuery(
        stems=stems, last_raw=last, last_stem=None if last in STOPWORDS else stem(last)
    )


# --- the index ---------------------------------------------------------------------------------


def _document(
    *,
    rule_version_id: int,
    rule_id: int,
    topic_slug: str,
    municipality_code: str | None,
    title: str,
    category: str,
    tags: Sequence[str] | None,
    body_md: str,
    fields: dict | None,
    valid_from: date,
    valid_to: date | None,
) -> dict:
    body = " ".join(
        [
            plain_text(body_md or ""),
            " ".join(tags or []),
            " ".join(str(v) for v in (fields or {}).values()),
            category or "",
        ]
    )
    return {
        "rule_version_id": rule_version_id,
        "rule_id": rule_id,
        "topic_slug": topic_slug,
        "municipality_code": municipality_code,
        "scope": f"m{municipality_code}" if municipality_code else "national",
        "valid_from": valid_from,
        "valid_to": valid_to,
        # PostgreSQL parses these word lists itself (so a URL splits into words as here).
        "title": " ".join(words(title or "")),
        "body": " ".join(words(body)),
        "title_stems": " ".join(_stems(title or "")),
        "body_stems": " ".join(_stems(body)),
    }


def index_rule(*, session: Session, rule: Rule) -> None:
    """Add the search documents of the rule's versions that have none yet."""
    if any(v.id is None for v in rule.versions) or rule.id is None:
        session.flush()
    done = set(
        session.scalars(
            select(RuleSearchDocument.rule_version_id).where(RuleSearchDocument.rule_id == rule.id)
        )
    )
    rows = [
        _document(
            rule_version_id=v.id,
            rule_id=rule.id,
            topic_slug=rule.topic_slug,
            municipality_code=rule.municipality_code,
            title=v.title,
            category=v.category,
            tags=v.tags,
            body_md=v.body_md,
            fields=v.fields,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
        )
        for v in rule.versions
        if v.id not in done
    ]
    if rows:
        session.execute(insert(RuleSearchDocument), rows)


def index_missing_versions(connection: Connection) -> int:
    """Index every rule version without a search document (Core only: usable in a migration)."""
    versions, rules, docs = (
        RuleVersion.__table__,
        Rule.__table__,
        RuleSearchDocument.__table__,
    )
    found = connection.execute(
        select(
            versions.c.id,
            versions.c.rule_id,
            rules.c.topic_slug,
            rules.c.municipality_code,
            versions.c.title,
            versions.c.category,
            versions.c.tags,
            versions.c.body_md,
            versions.c.fields,
            versions.c.valid_from,
            versions.c.valid_to,
        )
        .join(rules, rules.c.id == versions.c.rule_id)
        .where(versions.c.id.not_in(select(docs.c.rule_version_id)))
    ).all()
    rows = [
        _document(
            rule_version_id=r.id,
            rule_id=r.rule_id,
            topic_slug=r.topic_slug,
            municipality_code=r.municipality_code,
            title=r.title,
            category=r.category,
            tags=r.tags,
            body_md=r.body_md,
            fields=r.fields,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in found
    ]
    for start in range(0, len(rows), 500):
        connection.execute(insert(docs), rows[start : start + 500])
    return len(rows)


def reindex_all(*, session: Session) -> int:
    """Rebuild every search document (e.g. after the stemming changed); returns the count."""
    session.flush()
    session.execute(delete(RuleSearchDocument))
    return index_missing_versions(session.connection())


# --- searching ---------------------------------------------------------------------------------


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts5_query(parsed: ParsedQuery, municipality_code: str) -> str:
    prefixes = [_quote(parsed.last_raw) + "*"]
    if parsed.last_stem is not None and parsed.last_stem != parsed.last_raw:
        prefixes.append(_quote(parsed.last_stem) + "*")
    terms = [_quote(s) for s in parsed.stems] + ["(" + " OR ".join(prefixes) + ")"]
    scope = f'scope : ("national" OR {_quote("m" + municipality_code)})'
    return "{title_stems body_stems} : (" + " AND ".join(terms) + ") AND " + scope


def _ranked_topics(
    session: Session, parsed: ParsedQuery, municipality_code: str, on: date
) -> dict[str, tuple[float, set[int]]]:
    """Candidate topics: best rank (higher is better) and the versions hit; best first."""
    if session.get_bind().dialect.name == "postgresql":
        params: dict = {"code": municipality_code, "on": on, "last": parsed.last_raw + ":*"}
        parts = []
        for i, whole in enumerate(parsed.stems):
            params[f"t{i}"] = whole
            parts.append(f"plainto_tsquery('danish', :t{i})")
        last = "to_tsquery('simple', :last)"
        if parsed.last_stem is not None:
            last = f"(to_tsquery('danish', :last) || {last})"
        query = " && ".join([*parts, last])
        sql = f"""
            SELECT d.topic_slug, d.rule_version_id, ts_rank({POSTGRES_VECTOR}, q.query) AS score
            FROM rule_search_documents d, (SELECT {query} AS query) q
            WHERE ({POSTGRES_VECTOR}) @@ q.query
              AND (d.municipality_code IS NULL OR d.municipality_code = :code)
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY score DESC LIMIT {CANDIDATE_DOCUMENTS}
        """
    else:
        params = {"match": _fts5_query(parsed, municipality_code), "on": on.isoformat()}
        sql = f"""
            SELECT d.topic_slug, d.rule_version_id, -bm25({FTS_TABLE}, 10.0, 1.0, 0.0) AS score
            FROM {FTS_TABLE} JOIN rule_search_documents d ON d.id = {FTS_TABLE}.rowid
            WHERE {FTS_TABLE} MATCH :match
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY bm25({FTS_TABLE}, 10.0, 1.0, 0.0) LIMIT {CANDIDATE_DOCUMENTS}
        """
    ranked: dict[str, tuple[float, set[int]]] = {}
    for slug, version_id, score in session.execute(text(sql), params):
        ranked.setdefault(slug, (float(score), set()))[1].add(version_id)
    return ranked


def search_topics(
    *,
    session: Session,
    municipality_code: str,
    query: str,
    on: date,
    verify_after_days: int,
    limit: int = SEARCH_LIMIT,
) -> list[SearchHit]:
    """Topics of the municipality's resolved view matching the query, best first."""
    from hotline.rules.resolve import layers_in_force  # resolve imports this module lazily

    parsed = parse_query(query)
    if parsed is None:
        return []
    ranked = _ranked_topics(session, parsed, municipality_code, on)
    shown = []
    slugs = list(ranked)
    for start in range(0, len(slugs), limit):
        chunk = slugs[start : start + limit]
        rules = topics_rules(session, chunk, municipality_code)
        for slug in chunk:
            layers = layers_in_force(slug, *rules.get(slug, (None, None)), on)
            if layers is not None and _shows_a_hit(layers, ranked[slug][1], parsed):
                shown.append((ranked[slug][0], layers.title.lower(), layers))
        if len(shown) >= limit:
            break
    shown.sort(key=lambda hit: (-hit[0], hit[1]))
    # Summaries and snippets only for the hits returned.
    return [
        SearchHit(
            **layers.summary(on, verify_after_days).model_dump(),
            snippet_html=snippet(parsed, _texts(layers)),
        )
        for _, _, layers in shown[:limit]
    ]


def _shows_a_hit(layers, version_ids: set[int], parsed: ParsedQuery) -> bool:
    """Whether the municipality's resolution shows what matched."""
    if layers.local is not None and layers.local.id in version_ids:
        return True  # the municipality's own rule in force: its text is shown
    if layers.national is None or layers.national.id not in version_ids:
        return False  # a version not in use
    if layers.mode in (RuleMode.NATIONAL, RuleMode.APPEND):
        return True  # the national text is shown
    # Replaced or not offered: only the parts still shown (title, tags, merged fields) count.
    shown = [layers.title, layers.category, *_texts(layers)]
    return parsed.matches(w for part in shown for w in words(part))


def _texts(layers):
    """The shown texts a snippet may come from: citizen texts, then tags, then field values."""
    for version in layers.text_versions():
        yield version.body_md
    yield " · ".join(layers.tags)
    yield " · ".join(str(value) for value, _ in layers.field_values().values())


def snippet(parsed: ParsedQuery, texts: Iterable[str], width: int = SNIPPET_CHARS) -> str:
    """Safe HTML: a stretch of the first text (Markdown) with a match, matches in <mark>."""
    heads = parsed.heads
    # Only words starting like a query word can match: let the regex engine find those.
    candidates = re.compile(
        r"(?<![^\W_])(?:" + "|".join(map(re.escape, heads)) + r")[^\W_]*", re.IGNORECASE
    )

    def matches(value: str, start: int = 0):
        for match in candidates.finditer(value, start):
            if parsed.word_matches(match[0].lower(), heads):
                yield match

    chosen, first = None, None
    for candidate in texts:
        if not candidate.strip():
            continue
        chosen = chosen or candidate
        first = next(matches(candidate), None)
        if first is not None:
            chosen = candidate
            break
    if chosen is None:
        return ""
    # Cut a generous stretch of the Markdown around the first match, then make it plain text.
    start = 0
    if first is not None and first.start() > width // 3:
        start = max(chosen.rfind(" ", 0, first.start() - width // 3) + 1, 0)
    stretch = " ".join(plain_text(chosen[start : start + width * 2]).split())
    more = start + width * 2 < len(chosen)
    if len(stretch) > width:
        cut = stretch.rfind(" ", 0, width)
        stretch, more = stretch[: cut if cut > width // 2 else width], True
    out = ["…"] if start > 0 else []
    position = 0
    for match in matches(stretch):
        out.append(html.escape(stretch[position : match.start()]))
        out.append(f"<mark>{html.escape(match[0])}</mark>")
        position = match.end()
    out.append(html.escape(stretch[position:]))
    if more:
        out.append("…")
    return "".join(out).strip()
