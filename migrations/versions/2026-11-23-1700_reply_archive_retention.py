"""Replies: purged_at for the archive's retention; an index on created_at for archive search.

Revision ID: 998714beaa0a
Revises: d7372bad4f41
Create Date: 2026-11-23 17:00:39.522631
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "998714beaa0a"
down_revision: str | Sequence[str] | None = "d7372bad4f41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_replies_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replies_created_at"))
        batch_op.drop_column("purged_at")
