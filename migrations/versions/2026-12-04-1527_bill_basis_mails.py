"""bill basis mails

Revision ID: 45c17370fccd
Revises: 6ff5a12bfc4b
Create Date: 2026-12-04 15:27:19.528469
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "45c17370fccd"
down_revision: str | Sequence[str] | None = "6ff5a12bfc4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bill_basis_mails",
        sa.Column("id", sa.Integer(), nullable=False),
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
            name=op.f("fk_bill_basis_mails_municipality_code_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_basis_mails")),
        sa.UniqueConstraint("month", "municipality_code", name=op.f("uq_bill_basis_mails_month")),
    )
    with op.batch_alter_table("bill_basis_mails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_basis_mails_mail_status"), ["mail_status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bill_basis_mails_municipality_code"), ["municipality_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bill_basis_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_basis_mails_municipality_code"))
        batch_op.drop_index(batch_op.f("ix_bill_basis_mails_mail_status"))

    op.drop_table("bill_basis_mails")
