"""Roll-up cells may be split over shards, so concurrent writers of one cell need not queue.

Every finished call of a municipality's day raised the same month and day rows, each locked until
its transaction committed: in a surge of one municipality's calls on PostgreSQL the writers queued
for those rows. A shard column joins each roll-up table's primary key; a writer takes the first
shard no other open transaction is writing, and readers sum the shards. Existing cells are shard 0.

Revision ID: 9d2e6f1a7b34
Revises: 3b8f0d6c5e21
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d2e6f1a7b34"
down_revision: str | Sequence[str] | None = "3b8f0d6c5e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {
    "call_month_stats": ["month", "municipality_code"],
    "call_day_stats": ["day", "municipality_code"],
    "call_month_reasons": ["month", "municipality_code", "reason"],
    "call_day_reasons": ["day", "municipality_code", "reason"],
}


def upgrade() -> None:
    for table, keys in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("shard", sa.SmallInteger(), nullable=False, server_default="0")
            )
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", [*keys, "shard"])


def downgrade() -> None:
    for table, keys in KEYS.items():
        counters = [
            c["name"]
            for c in sa.inspect(op.get_bind()).get_columns(table)
            if c["name"] not in (*keys, "shard", "month", "weekday")
        ]
        sums = ", ".join(f"SUM({name}) AS {name}" for name in counters)
        extra = (
            ", MIN(month) AS month, MIN(weekday) AS weekday" if table == "call_day_stats" else ""
        )
        # Fold the shards into shard 0 before the column goes.
        op.execute(
            f"CREATE TEMPORARY TABLE folded AS SELECT {', '.join(keys)}{extra}, {sums} "
            f"FROM {table} GROUP BY {', '.join(keys)}"
        )
        op.execute(f"DELETE FROM {table}")
        columns = ", ".join(
            [*keys, *(["month", "weekday"] if table == "call_day_stats" else []), *counters]
        )
        op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM folded")
        op.execute("DROP TABLE folded")
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", keys)
            batch.drop_column("shard")
