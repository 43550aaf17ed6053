"""rule search index

The plain table rule_search_documents (one row per rule version) is in the models. The engine
index over it is dialect-specific and not in the models (migrations/env.py ignores it):
SQLite: the FTS5 table rule_search_fts (external content: the *_stems columns) kept in step by
triggers; PostgreSQL: a GIN index over the weighted Danish tsvector of title and body.
Existing rule versions are indexed at the end of the upgrade.

Revision ID: 7f5dbce3e8ad
Revises: 0001
Create Date: 2026-11-23 14:48:04.597527
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7f5dbce3e8ad"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE rule_search_fts USING fts5("
    "title_stems, body_stems, scope, content='rule_search_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER rule_search_fts_ai AFTER INSERT ON rule_search_documents BEGIN "
    "INSERT INTO rule_search_fts(rowid, title_stems, body_stems, scope) "
    "VALUES (new.id, new.title_stems, new.body_stems, new.scope); END",
    "CREATE TRIGGER rule_search_fts_ad AFTER DELETE ON rule_search_documents BEGIN "
    "INSERT INTO rule_search_fts(rule_search_fts, rowid, title_stems, body_stems, scope) "
    "VALUES ('delete', old.id, old.title_stems, old.body_stems, old.scope); END",
    "CREATE TRIGGER rule_search_fts_au AFTER UPDATE ON rule_search_documents BEGIN "
    "INSERT INTO rule_search_fts(rule_search_fts, rowid, title_stems, body_stems, scope) "
    "VALUES ('delete', old.id, old.title_stems, old.body_stems, old.scope); "
    "INSERT INTO rule_search_fts(rowid, title_stems, body_stems, scope) "
    "VALUES (new.id, new.title_stems, new.body_stems, new.scope); END",
]
POSTGRES_INDEX = (
    "CREATE INDEX ix_rule_search_documents_fts ON rule_search_documents USING gin (("
    "setweight(to_tsvector('danish'::regconfig, title), 'A') || "
    "setweight(to_tsvector('danish'::regconfig, body), 'B')))"
)


def upgrade() -> None:
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
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("title_stems", sa.Text(), nullable=False),
        sa.Column("body_stems", sa.Text(), nullable=False),
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
    with op.batch_alter_table("rule_search_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rule_search_documents_municipality_code"),
            ["municipality_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rule_search_documents_rule_id"), ["rule_id"], unique=False
        )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES_INDEX)
    # Existing rule versions are indexed by `hotline rules reindex` (stemming is done in Python,
    # and migrations don't import app code that may change after them).


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("rule_search_fts_ai", "rule_search_fts_ad", "rule_search_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS rule_search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_rule_search_documents_fts")
    with op.batch_alter_table("rule_search_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_search_documents_rule_id"))
        batch_op.drop_index(batch_op.f("ix_rule_search_documents_municipality_code"))

    op.drop_table("rule_search_documents")
