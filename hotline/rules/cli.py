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
    from hotline.cli import open_session
    from hotline.config import Settings
    from hotline.rules.importer import RuleImportError, import_rules

    settings = Settings()
    with open_session(settings) as session:
        try:
            summary = import_rules(session=session, directory=directory or settings.kb_rules_dir)
        except RuleImportError as exc:
            session.rollback()
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise SystemExit(1) from exc
        session.commit()
    click.echo(str(summary))
