"""`hotline municipalities`: load the Borgerservice essentials from a file."""

from pathlib import Path

import click

from hotline.config import Settings


@click.group()
def municipalities() -> None:
    """Municipalities and their Borgerservice essentials."""


@municipalities.command("load-essentials")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--only-missing", is_flag=True, help="Skip municipalities that already have opening hours."
)
def load_essentials_command(file: Path | None, only_missing: bool) -> None:
    """Load opening hours, exceptions, phone and links from FILE (all or nothing).

    FILE defaults to the shipped hotline/municipalities/data/borgerservice.toml. A municipality in
    the file has its hours, links and phone replaced, admins' edits included (see --only-missing).
    """
    from hotline.db import cli_session
    from hotline.municipalities.essentials_file import (
        DEFAULT_FILE,
        EssentialsFileError,
        load_essentials,
    )

    settings = Settings()
    with cli_session(settings.resolved_database_url) as session:
        try:
            loaded = load_essentials(
                session=session, path=file or DEFAULT_FILE, only_missing=only_missing
            )
        except EssentialsFileError as exc:
            raise click.ClickException("nothing loaded:\n" + "\n".join(exc.problems)) from exc
        session.commit()
    click.echo(f"essentials loaded for {len(loaded)} municipalities: {', '.join(loaded) or '-'}")
