"""Search for callers: analysed search documents, synonyms, the searches agents make, places.

The search documents are made again in the new form (title, tags, text and notes terms, and
words), so the table is recreated empty; `hotline db upgrade` then indexes every rule version
(hotline.rules.search.index_missing_versions). The engine index is dialect-specific and not in
the models: SQLite's FTS5 table rule_search_fts (external content) kept in step by triggers;
PostgreSQL's generated tsvector column tsv, parsed once when a row is written, with a GIN index:
title A, tags B, text C, notes D, and the scope as one token ("national.scope", "m0751.scope")
that no word can be: the analysed words have no dots.

Revision ID: 5a1d0c7e9b42
Revises: ce15bddb5b7d
Create Date: 2026-12-07 01:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a1d0c7e9b42"
down_revision: str | Sequence[str] | None = "ce15bddb5b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "title_terms, tags_terms, body_terms, notes_terms, scope"
NEW = "new.title_terms, new.tags_terms, new.body_terms, new.notes_terms, new.scope"
OLD = "old.title_terms, old.tags_terms, old.body_terms, old.notes_terms, old.scope"
SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE rule_search_fts USING fts5({COLUMNS}, "
    "content='rule_search_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER rule_search_fts_ai AFTER INSERT ON rule_search_documents BEGIN "
    f"INSERT INTO rule_search_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
    "CREATE TRIGGER rule_search_fts_ad AFTER DELETE ON rule_search_documents BEGIN "
    f"INSERT INTO rule_search_fts(rule_search_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {OLD}); END",
    "CREATE TRIGGER rule_search_fts_au AFTER UPDATE ON rule_search_documents BEGIN "
    f"INSERT INTO rule_search_fts(rule_search_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {OLD}); "
    f"INSERT INTO rule_search_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
]
POSTGRES_TSV = [
    "ALTER TABLE rule_search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title_terms), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tags_terms), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body_terms), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, notes_terms), 'D') || "
    "to_tsvector('simple'::regconfig, scope || '.scope')) STORED",
    "CREATE INDEX ix_rule_search_documents_tsv ON rule_search_documents USING gin (tsv)",
]
OLD_SQLITE = ["rule_search_fts_ai", "rule_search_fts_ad", "rule_search_fts_au"]


def _drop_engine_index(dialect: str) -> None:
    if dialect == "sqlite":
        for name in OLD_SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS rule_search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_rule_search_documents_fts")
        op.execute("DROP INDEX IF EXISTS ix_rule_search_documents_tsv")


def _documents_table(columns: list[sa.Column]) -> None:
    op.create_table(
        "rule_search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("topic_slug", sa.String(length=100), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        *columns,
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["rules.id"],
            name=op.f("fk_rule_search_documents_rule_id_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_version_id"],
            ["rule_versions.id"],
            name=op.f("fk_rule_search_documents_rule_version_id_rule_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_search_documents")),
        sa.UniqueConstraint(
            "rule_version_id", name=op.f("uq_rule_search_documents_rule_version_id")
        ),
    )
    op.create_index(
        op.f("ix_rule_search_documents_municipality_code"),
        "rule_search_documents",
        ["municipality_code"],
    )
    op.create_index(op.f("ix_rule_search_documents_rule_id"), "rule_search_documents", ["rule_id"])


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_engine_index(dialect)
    op.drop_table("rule_search_documents")
    _documents_table(
        [
            sa.Column("title_terms", sa.Text(), nullable=False),
            sa.Column("tags_terms", sa.Text(), nullable=False),
            sa.Column("body_terms", sa.Text(), nullable=False),
            sa.Column("notes_terms", sa.Text(), nullable=False),
            sa.Column("words", sa.Text(), nullable=False),
            sa.Column("analyzer", sa.SmallInteger(), nullable=False),
        ]
    )
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_TSV:
        op.execute(statement)
    op.create_table(
        "search_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=True),
        sa.Column("line", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_search_synonyms_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_search_synonyms_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonyms")),
        sa.UniqueConstraint(
            "municipality_code", "line", name=op.f("uq_search_synonyms_municipality_code")
        ),
    )
    op.create_index(
        op.f("ix_search_synonyms_municipality_code"), "search_synonyms", ["municipality_code"]
    )
    op.create_table(
        "rule_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("confident", sa.Boolean(), nullable=False),
        sa.Column("opened_topic", sa.String(length=100), nullable=True),
        sa.Column("searched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_rule_searches_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_searches")),
    )
    op.create_index(op.f("ix_rule_searches_agent_id"), "rule_searches", ["agent_id"])
    op.create_index(
        "ix_rule_searches_municipality_at", "rule_searches", ["municipality_code", "searched_at"]
    )
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("alternates", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("feature", sa.String(length=8), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_places_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
    )
    op.create_index(op.f("ix_places_municipality_code"), "places", ["municipality_code"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table("places")
    op.drop_table("rule_searches")
    op.drop_table("search_synonyms")
    _drop_engine_index(dialect)
    op.drop_table("rule_search_documents")
    _documents_table(
        [
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("title_stems", sa.Text(), nullable=False),
            sa.Column("body_stems", sa.Text(), nullable=False),
        ]
    )
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE rule_search_fts USING fts5(title_stems, body_stems, scope, "
            "content='rule_search_documents', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
        insert = (
            "INSERT INTO rule_search_fts(rowid, title_stems, body_stems, scope) "
            "VALUES (new.id, new.title_stems, new.body_stems, new.scope);"
        )
        delete = (
            "INSERT INTO rule_search_fts(rule_search_fts, rowid, title_stems, body_stems, scope) "
            "VALUES ('delete', old.id, old.title_stems, old.body_stems, old.scope);"
        )
        for name, when, body in (
            ("ai", "INSERT", insert),
            ("ad", "DELETE", delete),
            ("au", "UPDATE", delete + " " + insert),
        ):
            op.execute(
                f"CREATE TRIGGER rule_search_fts_{name} AFTER {when} ON rule_search_documents "
                f"BEGIN {body} END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_rule_search_documents_fts ON rule_search_documents USING gin (("
            "setweight(to_tsvector('danish'::regconfig, title), 'A') || "
            "setweight(to_tsvector('danish'::regconfig, body), 'B')))"
        )
    # The old documents are made by `hotline rules reindex` of the older release.
