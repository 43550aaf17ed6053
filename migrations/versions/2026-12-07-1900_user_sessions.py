"""Cookie sessions are kept on the server, so logging out ends a session at once.

The signed cookie alone ended a session only in the browser that logged out: a copy of it kept
working until it was idle for the timeout. A row per session (its id's SHA-256) is checked at
every request and deleted at logout. Cookies from before have no id: they must log in again.

Revision ID: 5c8e2b7d9a41
Revises: 9d2e6f1a7b34
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c8e2b7d9a41"
down_revision: str | Sequence[str] | None = "9d2e6f1a7b34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_started_at", "user_sessions", ["started_at"])


def downgrade() -> None:
    op.drop_table("user_sessions")
