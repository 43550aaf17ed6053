"""Run Alembic migrations from code (the CLI, the app's start and the tests use it)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from hotline.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(Path(PROJECT_ROOT) / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to the given revision."""
    command.upgrade(alembic_config(database_url), revision)
