"""`hotline rules`: import and export the knowledge base files."""

from pathlib import Path

import click


@click.group()
def rules() -> None:
    """The layered rule store."""


@rules.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def import_command(directory: Path | None) -> None:
    """Import the rule files in DIRECTORY (default: HOTLINE_KB_RULES_DIR) in one transaction."""
    from hotline.config import Settings
    from hotline.db import cli_session
    from hotline.rules.importer import RuleImportError, import_rules

    settings = Settings()
    with cli_session(settings.resolved_database_url) as session:
        try:
            summary = import_rules(session=session, directory=directory or settings.kb_rules_dir)
        except RuleImportError as exc:
            session.rollback()
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise SystemExit(1) from exc
        session.commit()
    click.echo(str(summary))


@rules.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace files that differ from the database (e.g. when exporting into kb_rules).",
)
def export_command(directory: Path, overwrite: bool) -> None:
    """Write the local rules (newest version of each) to DIRECTORY/local/<kommunekode>/<slug>.md.

    DIRECTORY is required: nothing is written into the shipped kb_rules unless you name it.
    """
    from hotline.config import Settings
    from hotline.db import cli_session
    from hotline.rules.exporter import RuleExportError, export_local_rules

    settings = Settings()
    with cli_session(settings.resolved_database_url) as session:
        try:
            summary = export_local_rules(session=session, directory=directory, overwrite=overwrite)
        except RuleExportError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            click.echo("Nothing was written.", err=True)
            raise SystemExit(1) from exc
    for relative in summary.written:
        click.echo(f"wrote {relative}")
    for relative in summary.unchanged:
        click.echo(f"unchanged {relative}")
    click.echo(f"{summary} ({directory})")


@rules.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index of every rule version (after an upgrade or a stemming change)."""
    from hotline.config import Settings
    from hotline.db import cli_session
    from hotline.rules.search import reindex_all

    with cli_session(Settings().resolved_database_url) as session:
        count = reindex_all(session=session)
        session.commit()
    click.echo(f"{count} rule versions indexed")
