"""Emptying the test database between tests: every table but the reference data."""

from sqlalchemy import Connection, bindparam, text

import hotline.models  # noqa: F401  (every table in the metadata)
from hotline.db import Base

# Reference data loaded once per run; every other table is emptied after each test.
KEPT_TABLES = {"municipalities", "postal_codes", "places", "alembic_version"}
EMPTIED_TABLES = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in KEPT_TABLES]
# Its PostgreSQL trigger refuses DELETE; TRUNCATE fires no row trigger (and nothing refers to it).
APPEND_ONLY = {"audit_entries"}
# What TRUNCATE ... RESTART IDENTITY did: the emptied tables' sequences start again.
RESTART_SEQUENCES = text(
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
    " JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass"
    " WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid::regclass::text IN :tables"
).bindparams(bindparam("tables", [t.name for t in EMPTIED_TABLES], expanding=True))
# One query for which tables have rows: most tests leave rows in a handful of them.
FILLED_TABLES = text(
    " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in EMPTIED_TABLES
    )
)
RESET_MUNICIPALITIES = text(
    "UPDATE municipalities SET participating = false, dialled_number = NULL, phone = NULL,"
    " email = NULL, web = NULL, self_service_links = '[]'"
    " WHERE participating OR dialled_number IS NOT NULL OR phone IS NOT NULL"
    " OR email IS NOT NULL OR web IS NOT NULL OR CAST(self_service_links AS TEXT) != '[]'"
)


def empty_tables(connection: Connection) -> None:
    """Delete the rows of the tables that have any, children first, and reset the municipalities.

    Not TRUNCATE on PostgreSQL: it costs 40-90 ms however few rows the tables hold.
    """
    filled = set(connection.scalars(FILLED_TABLES))
    postgresql = connection.dialect.name == "postgresql"
    for table in EMPTIED_TABLES:
        if table.name not in filled:
            continue
        if postgresql and table.name in APPEND_ONLY:
            connection.execute(text(f"TRUNCATE {table.name}"))
        else:
            connection.execute(table.delete())
    if postgresql:
        connection.execute(RESTART_SEQUENCES)
    connection.execute(RESET_MUNICIPALITIES)
