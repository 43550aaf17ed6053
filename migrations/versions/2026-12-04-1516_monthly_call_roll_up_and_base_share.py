"""Monthly call roll-up (reports read months, not calls) and the base share in the cost model.

Revision ID: 6ff5a12bfc4b
Revises: 97cec68aef35
Create Date: 2026-12-04 15:16:34.851365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6ff5a12bfc4b"
down_revision: str | Sequence[str] | None = "97cec68aef35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_month_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "municipality_code", "kind", "key", name=op.f("pk_call_month_counts")
        ),
    )
    op.create_table(
        "call_month_stats",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("offered", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.BigInteger(), nullable=False),
        sa.Column("abandoned", sa.BigInteger(), nullable=False),
        sa.Column("wait_seconds", sa.BigInteger(), nullable=False),
        sa.Column("talk_seconds", sa.BigInteger(), nullable=False),
        sa.Column("after_call_seconds", sa.BigInteger(), nullable=False),
        sa.Column("avoidable", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "municipality_code", name=op.f("pk_call_month_stats")),
    )
    with op.batch_alter_table("cost_rates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "base_share_pct",
                sa.Numeric(precision=5, scale=2),
                server_default="20.00",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_rates", schema=None) as batch_op:
        batch_op.drop_column("base_share_pct")

    op.drop_table("call_month_stats")
    op.drop_table("call_month_counts")
