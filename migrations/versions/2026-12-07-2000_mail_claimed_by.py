"""E-mail rows being sent name the process sending them, so a restarted worker takes them back.

A worker killed mid-send left its rows "sending" until the lease (10 minutes by default) ran
out. With the claiming process named (host, pid and start time), a worker on the same host sees
that the claimer has ended and queues its rows again at once.

Revision ID: 8b3f6d1e2c57
Revises: 5c8e2b7d9a41
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b3f6d1e2c57"
down_revision: str | Sequence[str] | None = "5c8e2b7d9a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "replies": "claimed_by",
    "callbacks": "mail_claimed_by",
    "monthly_mails": "mail_claimed_by",
}


def upgrade() -> None:
    for table, column in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(120), nullable=True))


def downgrade() -> None:
    for table, column in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
