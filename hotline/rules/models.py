"""The layered rule store: a rule per (topic, scope) and its immutable versions."""

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base, UTCDateTime, utcnow
from hotline.kit.markdown import render_markdown


class RuleMode(enum.StrEnum):
    """How a rule combines with the national rule of the same topic."""

    NATIONAL = "national"
    REPLACE = "replace"
    APPEND = "append"
    NOT_OFFERED = "not_offered"
    LOCAL_ONLY = "local_only"


class Rule(Base):
    """The national rule of a topic (no municipality) or one municipality's local rule."""

    __tablename__ = "rules"
    __table_args__ = (
        UniqueConstraint("topic_slug", "municipality_code"),
        Index(
            "uq_rules_national_topic",
            "topic_slug",
            unique=True,
            sqlite_where=text("municipality_code IS NULL"),
            postgresql_where=text("municipality_code IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_slug: Mapped[str] = mapped_column(String(100), index=True)
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code"), index=True
    )
    # The newest version number; a save must name it, so a stale edit is a conflict.
    current_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list["RuleVersion"]] = relationship(
        back_populates="rule", order_by="RuleVersion.version", lazy="selectin"
    )

    @property
    def is_national(self) -> bool:
        """Whether this is the national rule of its topic."""
        return self.municipality_code is None


class RuleVersion(Base):
    """One immutable version of a rule; edits add versions, never overwrite."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    mode: Mapped[RuleMode] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    body_md: Mapped[str] = mapped_column(Text, default="")
    agent_notes_md: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # For a local rule: the national version it was written against (stale when behind).
    based_on_national_version: Mapped[int | None]
    author_name: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rule: Mapped[Rule] = relationship(back_populates="versions")

    @property
    def municipality_code(self) -> str | None:
        """The rule's municipality (None for a national rule)."""
        return self.rule.municipality_code

    @property
    def body_html(self) -> str:
        """The citizen text, rendered and sanitised."""
        return render_markdown(self.body_md)

    @property
    def agent_notes_html(self) -> str:
        """The agent-only notes, rendered and sanitised."""
        return render_markdown(self.agent_notes_md)


class RuleSearchDocument(Base):
    """The analysed words of one rule version (see hotline.rules.search.documents).

    Each *_terms column holds index terms (Danish stems, æ/ø/å folded) separated by spaces;
    words holds the version's distinct words, for the search vocabulary. SQLite's FTS5 table
    rule_search_fts and PostgreSQL's generated column tsv (GIN-indexed) index the terms.
    """

    __tablename__ = "rule_search_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_version_id: Mapped[int] = mapped_column(
        ForeignKey("rule_versions.id", ondelete="CASCADE"), unique=True
    )
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"), index=True)
    topic_slug: Mapped[str] = mapped_column(String(100))
    municipality_code: Mapped[str | None] = mapped_column(String(4), index=True)
    # "national" or "m" + municipality code: what the engines filter on.
    scope: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    title_terms: Mapped[str] = mapped_column(Text, default="")
    tags_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    notes_terms: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[str] = mapped_column(Text, default="")
    # Which analysis made the terms (hotline.rules.search.documents.ANALYZER).
    analyzer: Mapped[int] = mapped_column(SmallInteger, default=0)


class SearchSynonym(Base):
    """A line of synonyms (see hotline.rules.search.synonyms): national, or a municipality's."""

    __tablename__ = "search_synonyms"
    __table_args__ = (UniqueConstraint("municipality_code", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the national list, imported from kb_rules/synonyms.txt.
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code"), index=True
    )
    line: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The fields that make up a version's content (what an edit, a restore or an import compares).
VERSION_CONTENT_FIELDS = (
    "mode",
    "title",
    "category",
    "tags",
    "body_md",
    "agent_notes_md",
    "fields",
    "sources",
    "valid_from",
    "valid_to",
)


class FlagKind(enum.StrEnum):
    """What an agent says is the matter with a rule."""

    UNCLEAR = "unclear"
    WRONG = "wrong"


class RuleFlag(Base):
    """An agent's remark that a topic, as resolved for a municipality, is unclear or wrong."""

    __tablename__ = "rule_flags"
    __table_args__ = (Index("ix_rule_flags_open", "municipality_code", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_slug: Mapped[str] = mapped_column(String(100))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    # The version the agent read: the local one when a local rule applied, else the national one.
    rule_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rule_versions.id", ondelete="SET NULL")
    )
    kind: Mapped[FlagKind] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_by_name: Mapped[str | None] = mapped_column(String(200))
    # What the admin did about it (shown to the agent who flagged).
    resolution: Mapped[str] = mapped_column(Text, default="")


class RuleDraft(Base):
    """A municipality's unpublished edit of a local rule: one shared draft per rule."""

    __tablename__ = "rule_drafts"
    __table_args__ = (UniqueConstraint("topic_slug", "municipality_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_slug: Mapped[str] = mapped_column(String(100))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    # The local rule's current_version when the draft was started: publishing saves with it as
    # the expected version, so a version published meanwhile is a conflict, not an overwrite.
    base_version: Mapped[int]
    # Bumped on every save of the draft; a save must name it (two admins, one draft).
    revision: Mapped[int] = mapped_column(default=1)
    # The edit form's content, as hotline.rules.schemas.LocalRuleIn dumps it.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
