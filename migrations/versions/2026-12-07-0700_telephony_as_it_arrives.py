"""Telephony as it arrives: queue names, end causes, outgoing calls, held CTI events.

Calls get the platform's queue name, the cause they ended with, and (outgoing calls) the call or
callback they belong to. CTI events get a held flag for an answer or hangup that came before its
newCall. The monthly roll-up counts calls answered elsewhere, lost calls and outgoing calls.

Revision ID: 7c3e91a4d2f0
Revises: 5a1d0c7e9b42
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e91a4d2f0"
down_revision: str | Sequence[str] | None = "5a1d0c7e9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUP_COLUMNS = ("elsewhere", "lost", "outgoing", "outgoing_seconds")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("cti_queue", sa.String(100), nullable=True))
        batch.add_column(sa.Column("end_cause", sa.String(20), nullable=True))
        batch.add_column(sa.Column("related_call_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_calls_related_call_id_calls", "calls", ["related_call_id"], ["id"]
        )
        batch.create_index("ix_calls_related_call_id", ["related_call_id"])
        batch.create_index("ix_calls_callback_id", ["callback_id"])
    with op.batch_alter_table("cti_events") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_cti_events_held", ["held"])
    with op.batch_alter_table("call_month_stats") as batch:
        for name in ROLLUP_COLUMNS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("call_month_stats") as batch:
        for name in ROLLUP_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("cti_events") as batch:
        batch.drop_index("ix_cti_events_held")
        batch.drop_column("held")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_callback_id")
        batch.drop_index("ix_calls_related_call_id")
        batch.drop_constraint("fk_calls_related_call_id_calls", type_="foreignkey")
        for name in ("callback_id", "related_call_id", "end_cause", "cti_queue"):
            batch.drop_column(name)
