"""rule flags and drafts

rule_flags: agents flag a topic as unclear or wrong for a municipality; its admin closes them.
rule_drafts: one unpublished draft per local rule, published as a new version.

Revision ID: d7372bad4f41
Revises: 7f5dbce3e8ad
Create Date: 2026-11-23 15:42:55.075046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7372bad4f41"
down_revision: str | Sequence[str] | None = "7f5dbce3e8ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_slug", sa.String(length=100), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_rule_drafts_municipality_code_municipalities"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rule_drafts_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_drafts")),
        sa.UniqueConstraint(
            "topic_slug", "municipality_code", name=op.f("uq_rule_drafts_topic_slug")
        ),
    )
    op.create_table(
        "rule_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_slug", sa.String(length=100), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_name", sa.String(length=200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_rule_flags_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rule_flags_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_rule_flags_municipality_code_municipalities"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_version_id"],
            ["rule_versions.id"],
            name=op.f("fk_rule_flags_rule_version_id_rule_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_flags")),
    )
    with op.batch_alter_table("rule_flags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rule_flags_open", ["municipality_code", "closed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rule_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_rule_flags_open")

    op.drop_table("rule_flags")
    op.drop_table("rule_drafts")
