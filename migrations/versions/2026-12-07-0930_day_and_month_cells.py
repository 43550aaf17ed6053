"""Roll-ups by day as well as by month, with the histograms as columns; calls found by state.

The cost report over any period reads whole months from month cells and the days around them
from day cells, never the calls. The wait and hour-of-week histograms become columns the database
sums (they were one row per key, about 200 rows a month and municipality), contact reasons get
tables of their own. The roll-up is derived data: the old tables are dropped and the new ones
filled from the calls by `hotline db upgrade` (rebuild_rollup_if_empty). An index on (state,
offered_at) finds the few unfinished calls of a period without reading the period.

Revision ID: 3b8f0d6c5e21
Revises: 7c3e91a4d2f0
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8f0d6c5e21"
down_revision: str | Sequence[str] | None = "7c3e91a4d2f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = (
    "offered",
    "answered",
    "abandoned",
    "wait_seconds",
    "talk_seconds",
    "after_call_seconds",
    "avoidable",
    "elsewhere",
    "lost",
    "outgoing",
    "outgoing_seconds",
)
WAITS = tuple(f"wb_{i:02d}" for i in range(53))
WEEK_HOURS = tuple(f"hw_{hour:03d}" for hour in range(7 * 24))
DAY_HOURS = tuple(f"hd_{hour:02d}" for hour in range(24))


def _counters(names) -> list[sa.Column]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in names]


def _code() -> sa.Column:
    return sa.Column("municipality_code", sa.String(length=4), nullable=False)


def upgrade() -> None:
    op.drop_table("call_month_counts")
    op.drop_table("call_month_stats")
    op.create_table(
        "call_month_stats",
        sa.Column("month", sa.Date(), nullable=False),
        _code(),
        *_counters(SUMS + WAITS + WEEK_HOURS),
        sa.PrimaryKeyConstraint("month", "municipality_code", name=op.f("pk_call_month_stats")),
    )
    op.create_table(
        "call_day_stats",
        sa.Column("day", sa.Date(), nullable=False),
        _code(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        *_counters(SUMS + WAITS + DAY_HOURS),
        sa.PrimaryKeyConstraint("day", "municipality_code", name=op.f("pk_call_day_stats")),
    )
    for table, period in (("call_month_reasons", "month"), ("call_day_reasons", "day")):
        op.create_table(
            table,
            sa.Column(period, sa.Date(), nullable=False),
            _code(),
            sa.Column("reason", sa.String(length=50), nullable=False),
            *_counters(("n",)),
            sa.PrimaryKeyConstraint(
                period, "municipality_code", "reason", name=op.f(f"pk_{table}")
            ),
        )
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_state")
        batch.create_index("ix_calls_state_offered_at", ["state", "offered_at"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_state_offered_at")
        batch.create_index("ix_calls_state", ["state"])
    for table in ("call_day_reasons", "call_month_reasons", "call_day_stats", "call_month_stats"):
        op.drop_table(table)
    op.create_table(
        "call_month_stats",
        sa.Column("month", sa.Date(), nullable=False),
        _code(),
        *_counters(SUMS),
        sa.PrimaryKeyConstraint("month", "municipality_code", name=op.f("pk_call_month_stats")),
    )
    op.create_table(
        "call_month_counts",
        sa.Column("month", sa.Date(), nullable=False),
        _code(),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "municipality_code", "kind", "key", name=op.f("pk_call_month_counts")
        ),
    )
