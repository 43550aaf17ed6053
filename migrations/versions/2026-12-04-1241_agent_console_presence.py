"""Agent statuses: console_seen_at, so that an agent who closed every console is made away.

Revision ID: 97cec68aef35
Revises: b6c4ceb80f84
Create Date: 2026-12-04 12:41:35.524291
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "97cec68aef35"
down_revision: str | Sequence[str] | None = "b6c4ceb80f84"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_statuses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("console_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_statuses", schema=None) as batch_op:
        batch_op.drop_column("console_seen_at")
