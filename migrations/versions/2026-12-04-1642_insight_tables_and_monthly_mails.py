"""Survey answers and rule consultations; bill bases become monthly mails with a kind.

Revision ID: ce15bddb5b7d
Revises: e264e64cd411
Create Date: 2026-12-04 16:42:59.061539
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ce15bddb5b7d"
down_revision: str | Sequence[str] | None = "e264e64cd411"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
COLUMNS = (
    "id, month, municipality_code, pdf, pdf_sha256, filename, created_at, message_id, "
    "mail_status, mail_attempts, mail_next_attempt_at, mail_last_error, sent_at"
)


def upgrade() -> None:
    op.create_table(
        "monthly_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="bill", nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("mail_status", sa.String(length=8), nullable=False),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("mail_next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_monthly_mails_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_mails")),
        sa.UniqueConstraint(
            "kind", "month", "municipality_code", name=op.f("uq_monthly_mails_kind")
        ),
    )
    with op.batch_alter_table("monthly_mails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monthly_mails_mail_status"), ["mail_status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monthly_mails_municipality_code"), ["municipality_code"], unique=False
        )

    op.create_table(
        "rule_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("topic_slug", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_rule_consultations_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_rule_consultations_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_consultations")),
    )
    with op.batch_alter_table("rule_consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_consultations_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rule_consultations_call_id"), ["call_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rule_consultations_municipality_code"),
            ["municipality_code"],
            unique=False,
        )

    op.create_table(
        "survey_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("suggested_class", sa.String(length=10), nullable=True),
        sa.Column("confirmed_class", sa.String(length=10), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score BETWEEN 1 AND 5)", name=op.f("ck_survey_invites_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_survey_invites_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_survey_invites_confirmed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invites")),
        sa.UniqueConstraint("call_id", name=op.f("uq_survey_invites_call_id")),
        sa.UniqueConstraint("code", name=op.f("uq_survey_invites_code")),
    )
    with op.batch_alter_table("survey_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_invites_answered_at"), ["answered_at"], unique=False
        )

    # The bill bases made so far move over as kind "bill".
    op.execute(
        f"INSERT INTO monthly_mails (kind, {COLUMNS})"
        f" SELECT 'bill', {COLUMNS} FROM bill_basis_mails"
    )
    _restart_ids("monthly_mails")
    with op.batch_alter_table("bill_basis_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_basis_mails_mail_status"))
        batch_op.drop_index(batch_op.f("ix_bill_basis_mails_municipality_code"))

    op.drop_table("bill_basis_mails")


def downgrade() -> None:
    op.create_table(
        "bill_basis_mails",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("month", sa.DATE(), nullable=False),
        sa.Column("municipality_code", sa.VARCHAR(length=4), nullable=False),
        sa.Column("pdf", sa.BLOB(), nullable=False),
        sa.Column("pdf_sha256", sa.VARCHAR(length=64), nullable=False),
        sa.Column("filename", sa.VARCHAR(length=200), nullable=False),
        sa.Column("created_at", sa.DATETIME(), nullable=False),
        sa.Column("message_id", sa.VARCHAR(length=300), nullable=False),
        sa.Column("mail_status", sa.VARCHAR(length=8), nullable=False),
        sa.Column("mail_attempts", sa.INTEGER(), nullable=False),
        sa.Column("mail_next_attempt_at", sa.DATETIME(), nullable=True),
        sa.Column("mail_last_error", sa.TEXT(), nullable=True),
        sa.Column("sent_at", sa.DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipalities.code"],
            name=op.f("fk_bill_basis_mails_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_basis_mails")),
        sa.UniqueConstraint("month", "municipality_code", name=op.f("uq_bill_basis_mails_month")),
    )
    with op.batch_alter_table("bill_basis_mails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_basis_mails_municipality_code"), ["municipality_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bill_basis_mails_mail_status"), ["mail_status"], unique=False
        )

    with op.batch_alter_table("survey_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_invites_answered_at"))

    op.drop_table("survey_invites")
    with op.batch_alter_table("rule_consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_consultations_municipality_code"))
        batch_op.drop_index(batch_op.f("ix_rule_consultations_call_id"))
        batch_op.drop_index(batch_op.f("ix_rule_consultations_at"))

    op.drop_table("rule_consultations")
    op.execute(
        f"INSERT INTO bill_basis_mails ({COLUMNS}) SELECT {COLUMNS} FROM monthly_mails"
        " WHERE kind = 'bill'"
    )
    _restart_ids("bill_basis_mails")
    with op.batch_alter_table("monthly_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_mails_municipality_code"))
        batch_op.drop_index(batch_op.f("ix_monthly_mails_mail_status"))

    op.drop_table("monthly_mails")


def _restart_ids(table: str) -> None:
    """After rows were copied with their ids, PostgreSQL's sequence must continue after them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )
