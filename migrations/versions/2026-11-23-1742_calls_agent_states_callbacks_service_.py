"""Calls: agent states, callbacks, CTI integrations, avoidable contacts; Borgerservice hours.

Revision ID: b6c4ceb80f84
Revises: 998714beaa0a
Create Date: 2026-11-23 17:42:56.700791
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6c4ceb80f84"
down_revision: str | Sequence[str] | None = "998714beaa0a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cti_integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cti_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_cti_integrations_name")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_cti_integrations_token_sha256")),
    )
    op.create_table(
        "service_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_service_hours_municipality_code_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_hours")),
        sa.UniqueConstraint(
            "municipality_code", "weekday", "opens", name=op.f("uq_service_hours_municipality_code")
        ),
    )
    with op.batch_alter_table("service_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_hours_municipality_code"), ["municipality_code"], unique=False
        )

    op.create_table(
        "service_hours_exceptions",
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_service_hours_exceptions_municipality_code_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "municipality_code", "day", name=op.f("pk_service_hours_exceptions")
        ),
    )
    op.create_table(
        "agent_statuses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_agent_statuses_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_statuses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_statuses")),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("booked_by_id", sa.Integer(), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=False),
        sa.Column("caller_phone", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("rules_consulted", sa.JSON(), nullable=False),
        sa.Column("preferred_time", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=False),
        sa.Column("mail_status", sa.String(length=8), nullable=False),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("mail_next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["booked_by_id"], ["users.id"], name=op.f("fk_callbacks_booked_by_id_users")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_callbacks_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["users.id"], name=op.f("fk_callbacks_handled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_callbacks_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callbacks_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_callbacks_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_callbacks_mail_status"), ["mail_status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_callbacks_municipality_code"), ["municipality_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_callbacks_status"), ["status"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("avoidable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("avoidable_url", sa.String(length=500), nullable=True))

    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "self_service_links", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.drop_column("self_service_links")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("avoidable_url")
        batch_op.drop_column("avoidable")

    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_status"))
        batch_op.drop_index(batch_op.f("ix_callbacks_municipality_code"))
        batch_op.drop_index(batch_op.f("ix_callbacks_mail_status"))
        batch_op.drop_index(batch_op.f("ix_callbacks_created_at"))
        batch_op.drop_index(batch_op.f("ix_callbacks_call_id"))

    op.drop_table("callbacks")
    op.drop_table("agent_statuses")
    op.drop_table("service_hours_exceptions")
    with op.batch_alter_table("service_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_hours_municipality_code"))

    op.drop_table("service_hours")
    op.drop_table("cti_integrations")
