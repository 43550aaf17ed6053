"""Audit entries are append-only in PostgreSQL: a trigger refuses UPDATE and DELETE.

Revision ID: e264e64cd411
Revises: cf616ec6b849
Create Date: 2026-12-04 16:03:21.341021
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e264e64cd411"
down_revision: str | Sequence[str] | None = "cf616ec6b849"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite (the embedded default) relies on the ORM guard in hotline/audit/models.py alone.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only';
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    op.execute("DROP FUNCTION audit_entries_append_only()")
