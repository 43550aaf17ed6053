"""The search documents: each rule version's words, analysed once when the version is saved.

A document holds the index terms (Danish stems, æ/ø/å folded) of the version's title, tags,
citizen text (with its fields) and agent notes, and its distinct words for the
vocabulary. Versions are immutable, so a document is written once; ANALYZER names the analysis
that made it, and documents made by an older one are made again at `hotline db upgrade`.
The database engines index the terms: SQLite's FTS5 table rule_search_fts, PostgreSQL's
generated tsvector column rule_search_documents.tsv with a GIN index (see the migrations).
"""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, delete, insert, or_, select, text
from sqlalchemy.orm import Session

from hotline.kit.danish import is_stopword, joined_words, term, words
from hotline.kit.markdown import markdown_text
from hotline.rules.models import Rule, RuleSearchDocument, RuleVersion

ANALYZER = 2  # bump when the analysis changes: documents are then made again
MAX_WORD = 64  # letters: a longer "word" is no word (and PostgreSQL indexes none over 2047)
# Documents are written one transaction at a time (on PostgreSQL, under this advisory lock held to
# the commit), so their ids grow in the order they become visible: the search vocabulary reads
# what is new as the ids above the highest it has seen.
WRITE_LOCK = 0x5EA2C4
FTS_TABLE = "rule_search_fts"
POSTGRES_INDEX = "ix_rule_search_documents_tsv"
POSTGRES_COLUMN = "tsv"
NATIONAL_SCOPE = "national"


def scope_of(municipality_code: str | None) -> str:
    """The scope token of a document: "national", or "m" and the municipality code."""
    return f"m{municipality_code}" if municipality_code else NATIONAL_SCOPE


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic name filter: the engine-specific search index is not in the models."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False  # the FTS5 virtual table and its shadow tables
    if type_ == "column" and name == POSTGRES_COLUMN:
        return parent_names.get("table_name") != RuleSearchDocument.__tablename__
    return not (type_ == "index" and name == POSTGRES_INDEX)


def _terms(text: str, surfaces: set[str]) -> str:
    found = []
    for word in [*words(text), *joined_words(text)]:
        if len(word) <= MAX_WORD and not is_stopword(word):
            found.append(term(word))
            surfaces.add(word)
    return " ".join(found)


def document_row(
    *,
    rule_version_id: int,
    rule_id: int,
    topic_slug: str,
    municipality_code: str | None,
    title: str,
    tags: Sequence[str] | None,
    body_md: str,
    agent_notes_md: str,
    fields: dict | None,
    valid_from: date,
    valid_to: date | None,
) -> dict:
    """The search document of one rule version, as a row."""
    surfaces: set[str] = set()
    # The category is left out: every topic of a category would seem to cover its words.
    body = " ".join([markdown_text(body_md or ""), *(str(v) for v in (fields or {}).values())])
    return {
        "rule_version_id": rule_version_id,
        "rule_id": rule_id,
        "topic_slug": topic_slug,
        "municipality_code": municipality_code,
        "scope": scope_of(municipality_code),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "title_terms": _terms(title or "", surfaces),
        "tags_terms": _terms(" ".join(tags or []), surfaces),
        "body_terms": _terms(body, surfaces),
        "notes_terms": _terms(markdown_text(agent_notes_md or ""), surfaces),
        "words": " ".join(sorted(surfaces)),
        "analyzer": ANALYZER,
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
        _row(v, rule.id, rule.topic_slug, rule.municipality_code)
        for v in rule.versions
        if v.id not in done
    ]
    if rows:
        _write_in_commit_order(session.connection())
        session.execute(insert(RuleSearchDocument), rows)


def _write_in_commit_order(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":  # SQLite has one writer at a time anyway
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})


def _row(version, rule_id: int, topic_slug: str, municipality_code: str | None) -> dict:
    return document_row(
        rule_version_id=version.id,
        rule_id=rule_id,
        topic_slug=topic_slug,
        municipality_code=municipality_code,
        title=version.title,
        tags=version.tags,
        body_md=version.body_md,
        agent_notes_md=version.agent_notes_md,
        fields=version.fields,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
    )


def index_missing_versions(connection: Connection, batch: int = 500) -> int:
    """Index every rule version without a current document (Core only); returns the count."""
    versions, rules, docs = RuleVersion.__table__, Rule.__table__, RuleSearchDocument.__table__
    _write_in_commit_order(connection)
    connection.execute(
        delete(docs).where(or_(docs.c.analyzer.is_(None), docs.c.analyzer != ANALYZER))
    )
    missing = select(versions.c.id).where(versions.c.id.not_in(select(docs.c.rule_version_id)))
    ids = list(connection.scalars(missing.order_by(versions.c.id)))
    for start in range(0, len(ids), batch):
        found = connection.execute(
            select(versions, rules.c.topic_slug, rules.c.municipality_code)
            .join(rules, rules.c.id == versions.c.rule_id)
            .where(versions.c.id.in_(ids[start : start + batch]))
        ).all()
        rows = [_row(r, r.rule_id, r.topic_slug, r.municipality_code) for r in found]
        connection.execute(insert(docs), rows)
    return len(ids)


def reindex_all(*, session: Session) -> int:
    """Make every search document again (e.g. after the analysis changed); returns the count."""
    session.flush()
    session.execute(delete(RuleSearchDocument))
    return index_missing_versions(session.connection())


def document_terms(row) -> Iterable[str]:
    """Every term of a document row (title, tags, text, notes)."""
    for column in (row.title_terms, row.tags_terms, row.body_terms, row.notes_terms):
        yield from column.split()
