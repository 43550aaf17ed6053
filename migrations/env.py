"""Alembic environment: the URL comes from the settings, the metadata from the models."""

from alembic import context

from hotline.config import Settings
from hotline.db import Base, UTCDateTime, make_engine
from hotline.models import install_listeners  # importing it registers every table
from hotline.rules.search import include_name

config = context.config
install_listeners()  # a migration that uses the ORM keeps the roll-ups and the audit log intact
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Render our UTC timestamp type as a plain DateTime, so migrations don't import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _url() -> str:
    return config.attributes.get("database_url") or Settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    # Batch mode lets SQLite alter tables by copying them.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
